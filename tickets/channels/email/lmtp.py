"""A long-running LMTP intake (RFC 2033) that the MTA delivers to: one process for every
message, instead of a Python start-up per message with the pipe transport.

Each message goes through ``mail_receive``, like the pipe and the IMAP poller, and each
recipient gets its own reply once the message is stored:

- 250 — stored and handled (ticketed, threaded, held for review, ignored, quarantined for
  staff, or a duplicate of one stored already): the MTA's job is done;
- 550 / 552 — empty, or larger than ``PACTE_MAIL_MAX_BYTES``: no retry can fix it, the MTA
  bounces it to the sender;
- 451 — nothing could be stored (database or disk unavailable, or an error of Pacte's own):
  the MTA keeps the message and tries again later, so no mail is lost.

The Django work runs in worker threads (one for SQLite, whose writes are serial anyway), each
closing a broken database connection before and after a message as a request would.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connection

from tickets.channels.email.ingest import TEMPORARY_ERRORS, EmptyMail, MailTooLarge, mail_receive
from tickets.models import InboundMail

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


def deliver(raw: bytes, recipient: str) -> Reply:
    """Store and handle one message for one recipient; the LMTP reply that says how it went.
    Called in a worker thread."""
    close_old_connections()
    try:
        received = mail_receive(raw=raw, source=InboundMail.Source.LMTP, recipient=recipient)
    except MailTooLarge as exc:
        return Reply(552, f"5.3.4 Message too big: {exc}")
    except EmptyMail:
        return Reply(550, "5.6.0 Empty message")
    except TEMPORARY_ERRORS as exc:
        logger.warning("LMTP: %s not stored, the MTA will retry: %s", recipient, exc)
        return Reply(451, "4.3.0 Not stored now, try again later")
    except Exception:  # a bug of ours: keep the mail at the MTA rather than lose it
        logger.exception("LMTP: %s not handled, the MTA will retry", recipient)
        return Reply(451, "4.3.0 Not handled now, try again later")
    finally:
        close_old_connections()
    inbound = received.inbound
    outcome = "duplicate" if received.duplicate else inbound.status
    return Reply(250, f"2.0.0 Stored as mail {inbound.pk} ({outcome})")


class PacteHandler:
    """aiosmtpd's hooks: every recipient is accepted (the address picks the desk, an unknown
    one goes to the review list, as with the pipe); after DATA, one reply per recipient."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.executor = executor

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook names)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        replies = [
            await loop.run_in_executor(self.executor, deliver, raw, recipient)
            for recipient in envelope.rcpt_tos
        ]
        # LMTP: one reply line per accepted recipient, in their order (RFC 2033, 4.2).
        return "\r\n".join(str(reply) for reply in replies)


class LmtpController(Controller):
    """The LMTP server on a TCP port of this machine (loopback by default)."""

    def factory(self) -> LMTP:
        return LMTP(
            self.handler,
            data_size_limit=settings.PACTE_MAIL_MAX_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname="pacte-lmtp",
            ident="Pacte LMTP",
        )


def lmtp_controller(host: str, port: int, threads: int | None = None) -> LmtpController:
    """A controller, not started; ``start()`` serves in a thread of its own."""
    if threads is None:
        threads = 1 if connection.vendor == "sqlite" else settings.PACTE_LMTP_THREADS
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pacte-lmtp")
    return LmtpController(PacteHandler(executor), hostname=host, port=port)
