"""The Content-Security-Policy (django-csp): on every page in every environment, no inline code
left in the templates, Swagger UI's inline script let through by a per-request nonce only, and
the responses that need another policy keep theirs. The browser test (tests/e2e/test_csp.py)
checks that the pages run under it without a violation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client

from tests.factories import World, client_for

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Mail is not a page: no browser policy applies to it, and mail clients want inline styles.
MAIL = re.compile(r"(^|/)email/")
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "inline handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
}
# The API's documentation: drf-spectacular's Swagger UI start-up script, carrying the nonce.
NONCED = {"api/docs.html"}


def directives(response: HttpResponse) -> dict[str, str]:
    parts = (p.strip().split(" ", 1) for p in response["Content-Security-Policy"].split(";"))
    return {name: value for name, value in parts}


def test_no_template_of_a_page_has_inline_code() -> None:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if MAIL.search(name) or name in NONCED:
            continue
        text = path.read_text()
        found += [f"{name}: {what}" for what, pattern in INLINE.items() if pattern.search(text)]
    assert found == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/accounts/login/"),
        (None, "/faq/"),
        ("alice", "/tickets/"),
        ("agent_eu", "/desk/"),
        ("manager", "/desk/reports/"),
        ("manager", "/desk/reports/availability/"),
        ("manager", "/desk/reports/monthly/acme/"),
    ],
)
def test_every_page_has_the_policy(world: World, who: str | None, path: str) -> None:
    user = {"alice": world.alice.user, "agent_eu": world.agent_eu, "manager": world.manager}
    response = client_for(user[who] if who else None).get(path)
    assert response.status_code == 200
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_swagger_ui_runs_its_inline_script_by_the_requests_nonce_only() -> None:
    first, second = Client().get("/api/docs/"), Client().get("/api/docs/")
    assert first.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", directives(first)["script-src"])
    assert nonce is not None and f"'nonce-{nonce[1]}'" in directives(first)["style-src"]
    page = first.content.decode()
    assert page.count(f'nonce="{nonce[1]}"') == 1  # Swagger UI's start-up <script>
    assert len(re.findall(r"<script(?![^>]*\bsrc=)", page)) == 1
    assert nonce[1] not in second["Content-Security-Policy"]  # a new one for every request


def test_production_keeps_the_policy() -> None:
    from config.settings import base

    assert "csp.middleware.CSPMiddleware" in base.MIDDLEWARE
    assert base.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"][0] == "'self'"
    production = (Path(settings.BASE_DIR) / "config/settings/production.py").read_text()
    assert "CONTENT_SECURITY_POLICY" not in production  # inherited from base, unchanged
