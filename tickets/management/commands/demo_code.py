"""The current code of a demo staff member's authenticator app, for trying the demo without a
phone. Refused outside development (DEBUG) and for anyone not in the demo's logins."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tickets.demo import LOGINS


class Command(BaseCommand):
    help = "Print the current second-factor code of a demo staff member (development only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", choices=[login.username for login in LOGINS])

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_code works in development (DEBUG) only.")
        totp = Authenticator.objects.filter(
            user__username=options["username"], type=Authenticator.Type.TOTP
        ).first()
        if totp is None:
            raise CommandError(f"{options['username']} has no authenticator app.")
        secret = decrypt(totp.data["secret"])
        counter = int(timezone.now().timestamp()) // 30
        self.stdout.write(format_hotp_value(hotp_value(secret, counter)))
