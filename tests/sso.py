"""A real OpenID Connect provider for the single sign-on tests (tests/oidc_provider, on
django-oauth-toolkit), started on loopback with its own SQLite file, users and RSA key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.services import ROOT, free_port

CLIENT_ID, CLIENT_SECRET = "pacte-client", "pacte-client-secret-for-tests"


@dataclass(frozen=True)
class Provider:
    url: str  # the issuer: http://127.0.0.1:port/o

    @property
    def origin(self) -> str:
        return self.url.rsplit("/", 1)[0]

    def pacte_settings(self) -> dict[str, object]:
        """What Pacte's settings say about this provider (as PACTE_OIDC_* would)."""
        return {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": "company",
                        "name": "Company sign-in",
                        "client_id": CLIENT_ID,
                        "secret": CLIENT_SECRET,
                        "settings": {"server_url": self.url},
                    }
                ],
            }
        }


@contextmanager
def oidc_provider(
    workdir: Path, *, redirect_uri: str, users: list[tuple[str, str, str]], unverified: list[str]
) -> Iterator[Provider]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OIDC_DATABASE": str(workdir / "provider.sqlite3"),
        "OIDC_RSA_PRIVATE_KEY": pem,
        "OIDC_UNVERIFIED": json.dumps(unverified),
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "oidc_provider" / "serve.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(
        json.dumps(
            {
                "port": port,
                "redirect_uri": redirect_uri,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "users": users,
            }
        )
    )
    process.stdin.close()
    try:
        line = process.stdout.readline()
        if line.strip() != "ready":
            process.kill()
            raise RuntimeError(f"the test identity provider did not start: {process.stderr.read()}")
        yield Provider(url=f"http://127.0.0.1:{port}/o")
    finally:
        process.terminate()
        process.wait(timeout=10)
