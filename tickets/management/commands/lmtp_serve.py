"""Serve the LMTP intake the MTA delivers to (see deploy/postfix/README.md):

    python manage.py lmtp_serve [--host 127.0.0.1] [--port 8024]

Runs until SIGTERM or Ctrl-C; a message under way when it stops is not acknowledged, so the MTA
delivers it again (a duplicate is recognized and not ticketed twice).
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.channels.email.lmtp import lmtp_controller


class Command(BaseCommand):
    help = "Serve the LMTP intake that the mail server (Postfix) delivers incoming mail to."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.PACTE_LMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.PACTE_LMTP_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        controller = lmtp_controller(options["host"], options["port"])
        try:
            controller.start()
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"LMTP intake listening on {options['host']}:{options['port']}")
        self.stdout.flush()
        stop.wait()
        controller.stop()
