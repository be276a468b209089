"""Production settings pass Django's deployment checks, and the OpenAPI schema has no warnings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


# Everything production requires, each with a value that passes the deployment checks.
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-value-0123456789",
    "DJANGO_ALLOWED_HOSTS": "support.example.com",
    "PACTE_ENCRYPTION_KEYS": "ZGVwbG95LWNoZWNrLWtleS1vZi10aGUtdGVzdHMtMDE=",
    "PACTE_BASE_URL": "https://support.example.com",
    "PACTE_PGBACKREST_STANZA": "pacte",
    "PACTE_RESTIC_REPOSITORY": "/var/backups/pacte-files",
}


def production_check(
    *args: str, without: str = "", **extra: str
) -> subprocess.CompletedProcess[str]:
    """`manage.py check` with the production settings, one required variable left out."""
    inherited = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    given = {k: v for k, v in PRODUCTION.items() if k != without} | extra
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**inherited, **given},
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = production_check("--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_postgresql_has_no_backup() -> None:
    result = production_check(
        "--deploy", without="PACTE_PGBACKREST_STANZA",
        DATABASE_URL="postgres://pacte:pacte@127.0.0.1:5432/pacte",
    )  # fmt: skip
    assert "pacte.W001" in result.stdout + result.stderr
    assert "No backup is configured for this PostgreSQL database" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "said"),
    [
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY"),
        ("PACTE_ENCRYPTION_KEYS", "Set the PACTE_ENCRYPTION_KEYS environment variable"),
        ("PACTE_BASE_URL", "Set the PACTE_BASE_URL environment variable"),
    ],
)
def test_production_settings_refuse_to_start_without_what_they_require(
    variable: str, said: str
) -> None:
    result = production_check(without=variable)
    assert result.returncode != 0
    assert said in result.stderr


def test_openapi_schema_generates_without_warnings() -> None:
    result = run_manage(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        os.devnull,
        DJANGO_SETTINGS_MODULE="config.settings.test",
    )
    assert result.returncode == 0, result.stderr
