"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Run them in their own pytest process (`pytest -m e2e`): after Playwright has run, Channels'
async_to_sync tests fail in the same process.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    # The test's ORM calls run beside Playwright's event loop in this thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    executable = os.environ.get("PACTE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.skip(f"no Chromium at {executable} (apt-get install chromium; CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


MID_JUNE = datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))  # a Wednesday


@pytest.fixture
def mid_june(settings: Any) -> Iterator[datetime]:
    """The server's clock (the live server is a thread of this process) at MID_JUNE. The browser
    keeps real time, so the session and CSRF cookies last as long as the browser rather than
    expiring at dates it already counts as past."""
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None
    with time_machine.travel(MID_JUNE, tick=True):
        yield MID_JUNE
