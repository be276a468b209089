"""Production settings pass Django's deployment checks, and the OpenAPI schema has no warnings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x" * 20 + "-a-long-random-production-secret-value-0123456789",
        DJANGO_ALLOWED_HOSTS="support.example.com",
        PACTE_ENCRYPTION_KEYS="ZGVwbG95LWNoZWNrLWtleS1vZi10aGUtdGVzdHMtMDE=",
        PACTE_BASE_URL="https://support.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_ALLOWED_HOSTS": "support.example.com",
        },
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_refuse_to_start_without_the_public_address() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PACTE_BASE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "x" * 60,
            "DJANGO_ALLOWED_HOSTS": "support.example.com",
            "PACTE_ENCRYPTION_KEYS": "ZGVwbG95LWNoZWNrLWtleS1vZi10aGUtdGVzdHMtMDE=",
        },
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Set the PACTE_BASE_URL environment variable" in result.stderr


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
