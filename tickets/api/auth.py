"""How the API knows its caller: an ``Authorization: Token …`` header (tickets.accounts.tokens),
or the signed-in session of the pages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from tickets.accounts.tokens import api_token_user


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing, Pacte's tokens: hashed, expiring, revocable."""

    def authenticate_credentials(self, key: str) -> tuple[Any, None]:
        user = api_token_user(key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        return user, None
