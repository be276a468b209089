"""Re-encrypt every secret stored at rest with the newest key of PACTE_ENCRYPTION_KEYS.

Rotation: put a new key first in PACTE_ENCRYPTION_KEYS (keep the old ones after it) and restart
every process; run ``manage.py secrets_reencrypt``; once ``--check`` says every value is under
the newest key, remove the old keys and restart again.

    manage.py secrets_reencrypt --generate-key   print a new key, change nothing
    manage.py secrets_reencrypt --check          count, change nothing; exit 1 if work is left
    manage.py secrets_reencrypt                  rewrite what is not under the newest key

Exit 1 when a stored value cannot be decrypted with any key (it is left as it was, and named).
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.crypto import secrets_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of PACTE_ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="only count; exit 1 if a value needs rewriting"
        )
        parser.add_argument(
            "--generate-key", action="store_true", help="print a new key and change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["generate_key"]:
            self.stdout.write(Fernet.generate_key().decode("ascii"))
            return
        report = secrets_reencrypt(dry_run=options["check"])
        verb = "to rewrite" if options["check"] else "rewritten"
        self.stdout.write(
            f"{report.rewritten} secret(s) {verb} with the newest key, "
            f"{report.current} already under it."
        )
        if report.unreadable:
            names = "; ".join(f"{label} ids {ids}" for label, ids in report.unreadable.items())
            raise CommandError(
                f"no key of PACTE_ENCRYPTION_KEYS decrypts: {names}. They were left as they "
                "were: put back the key that encrypted them, or set these secrets again."
            )
        if options["check"] and report.rewritten:
            raise CommandError("some secrets are not under the newest key yet: run without --check")
