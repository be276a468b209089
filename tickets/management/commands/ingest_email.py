"""Read one raw message on stdin and handle it: for an MTA's pipe transport.

    Postfix master.cf:  pacte unix - n n - - pipe flags=Rq user=pacte
        argv=/srv/pacte/.venv/bin/python /srv/pacte/manage.py ingest_email --recipient ${recipient}

Exit status (sysexits): 0 handled, ignored, a duplicate or quarantined (the mail is stored);
65 (EX_DATAERR) empty or larger than PACTE_MAIL_MAX_BYTES — the MTA bounces it to the sender;
75 (EX_TEMPFAIL) nothing could be stored (database or disk unavailable) — the MTA retries.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tickets.channels.email.ingest import TEMPORARY_ERRORS, EmptyMail, MailTooLarge, mail_receive
from tickets.models import InboundMail

EX_OK, EX_DATAERR, EX_TEMPFAIL = 0, 65, 75


class Command(BaseCommand):
    help = "Handle one raw RFC 5322 message read on stdin (exit 75 asks the MTA to retry)."
    # Run once per delivered mail: skip the system checks (they import every URL and view).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--recipient", default="", help="the envelope recipient (picks the desk)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        try:
            received = mail_receive(
                raw=raw, source=InboundMail.Source.PIPE, recipient=options["recipient"]
            )
        except (EmptyMail, MailTooLarge) as exc:
            self.stderr.write(f"ingest_email: rejected: {exc}")
            sys.exit(EX_DATAERR)
        except TEMPORARY_ERRORS as exc:
            self.stderr.write(f"ingest_email: temporary failure, try again later: {exc}")
            sys.exit(EX_TEMPFAIL)
        inbound = received.inbound
        outcome = "duplicate" if received.duplicate else inbound.status
        ticket = f" {inbound.ticket.reference}" if inbound.ticket_id and inbound.ticket else ""
        self.stdout.write(f"mail {inbound.pk}: {outcome}{ticket}")
        sys.exit(EX_OK)
