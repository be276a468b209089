from typing import Any

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    """The claims a company's provider gives: the address, and whether it vouches for it."""

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "email": user.email,
            "email_verified": user.email not in settings.UNVERIFIED,
            "name": user.get_full_name(),
            "preferred_username": user.username,
        }
