"""Second factors in tests: codes computed here by RFC 6238 (not by the library under test),
authenticator apps enrolled directly, and staff sessions that passed one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client

from tickets.models import User


def totp_code(secret: str, at: float | None = None) -> str:
    """The six digits an authenticator app shows at `at` (RFC 6238: HMAC-SHA1, 30 s steps)."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(
        base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1
    ).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def enrol_totp(user: User) -> str:
    """Give the user an authenticator app, as if they had scanned its code; its secret."""
    secret = base64.b32encode(secrets.token_bytes(20)).decode()
    TOTP.activate(user, secret)
    return secret


def pass_second_factor(client: Client, user: User) -> None:
    """Mark the client's session as confirmed by a second factor (what signing in with a code
    records), for tests about something else than signing in."""
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        *session.get(AUTHENTICATION_METHODS_SESSION_KEY, []),
        {"method": "mfa", "at": time.time(), "type": "totp", "id": 0},
    ]
    session[AUTHENTICATION_METHODS_SESSION_KEY + "_user"] = str(user.pk)
    session.save()
