"""Every benchmark in bench/ runs at a small size and prints its figures, so that none rots
unnoticed (three had: a renamed status, a second factor, a module named after the standard
library's). Sizes are tiny: this checks that they run, never how fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each script with small arguments, and a line its report always prints.
BENCHES = [
    (["deadlines.py", "--starts", "5", "--rounds", "1", "--btd-rounds", "1",
      "--min-round", "0.01"], "same deadlines: all"),
    (["agent_queue.py", "--tickets", "300", "--runs", "2"], "queries (rows shown)"),
    (["recount.py", "--tickets", "50", "--runs", "1"], "goal < 10 s"),
    (["reports.py", "--tickets", "300", "--runs", "1"], "the year's report page under 1 s"),
    (["signin.py", "--tickets", "100", "--runs", "2"], "agent queue"),
    (["sweep.py", "--tickets", "300", "--runs", "1"], "selector: median"),
    (["drain.py", "--due", "300", "--open", "600", "--sweep-every", "0.5"], "0 duplicates, "),
    (["chat.py", "--conversations", "2", "--messages", "2"], "round trip ms"),
    (["mail_intake.py", "--messages", "6", "--pipe-jobs", "1"], "msg/s"),
    (["load.py", "--duration", "3", "--customers", "2", "--agents", "1"], "server log:"),
    (["triage.py", "--tickets", "20"], "targets   blocking recall"),
    # django-helpdesk in its own environment (made from PyPI on the first run), beside Pacte.
    (["peer/compare.py", "--tickets", "300", "--pairs", "2", "--mails", "6"], "ratio min / median"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "says"), BENCHES, ids=[argv[0].removeprefix("peer/") for argv, _ in BENCHES]
)
def test_the_benchmark_runs_and_prints_its_figures(
    argv: list[str], says: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # each its own SQLite,
    env["PACTE_BENCH_DIR"] = str(tmp_path)  # in the test's folder, not a running bench's var/
    own = ["--var", str(tmp_path)] if argv[0].startswith("peer/") else []  # not var/peer/
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / argv[0]), *argv[1:], *own],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert says in output, output[-3000:]
