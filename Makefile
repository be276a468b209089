# Pacte: `make run` starts the whole product on one machine; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PORT ?= 8000
# honcho gives every process its own PORT; the web process reads PACTE_PORT instead.
export PACTE_PORT := $(PORT)

.PHONY: run test lint e2e install install-dev migrate demo clean bench bench-peer code

$(VENV)/.runtime: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

migrate: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

run: demo
	@echo ""
	@echo "  Pacte is starting at http://127.0.0.1:$(PORT)/  (Ctrl-C stops everything)"
	@echo "  Mail intake (LMTP) on 127.0.0.1:$$(( $(PORT) + 24 ))"
	@echo ""
	PATH="$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start $(if $(REDIS_URL),web worker beat lmtp,)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy .

test: install-dev lint
	$(BIN)/pytest -m "not e2e"
	$(BIN)/pytest -m e2e

e2e: install-dev
	$(BIN)/pytest -m e2e

# The second-factor code of a demo staff member (development only): make code WHO=anna
code: install
	@$(BIN)/python manage.py demo_code $(WHO)

bench: install-dev
	$(BIN)/python bench/agent_queue.py

# Pacte and django-helpdesk side by side in one run (the peer gets its own environment).
bench-peer: install-dev
	$(BIN)/python bench/peer/compare.py

clean:
	rm -rf $(VENV) var
