"""Polling the IMAP mailboxes of the desks.

Each unhandled message is fetched without marking it read, handed to `mail_receive`, and
only once that has returned (the mail committed, its ticket too) is it marked handled — with
the `$PacteHandled` keyword, and moved to the mailbox's done folder when one is set. A crash
in between means the message is fetched again next time: a duplicate by Message-ID, so one
ticket still.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, MailboxLoginError

from tickets.channels.email.ingest import TEMPORARY_ERRORS, EmptyMail, MailTooLarge, mail_receive
from tickets.channels.email.tls import client_context, describe_tls_error, is_loopback
from tickets.crypto import SecretUnreadable
from tickets.models import InboundMail, Mailbox

logger = logging.getLogger(__name__)

HANDLED = "$PacteHandled"
REJECTED = "$PacteRejected"  # too large or empty: kept in the mailbox for a person to see
BATCH = 200


class PlaintextRefused(OSError):
    """A mailbox without TLS on a server that is not on this machine."""


@dataclass(frozen=True)
class PollResult:
    fetched: int
    handled: int
    rejected: int
    error: str = ""


def _connect(mailbox: Mailbox) -> BaseMailBox:
    """A connected client. TLS always verifies the certificate and the host name, against the
    mailbox's CA bundle or else the system's store; every wait on the server is bounded by
    PACTE_IMAP_TIMEOUT seconds (connect, greeting, each answer)."""
    timeout = settings.PACTE_IMAP_TIMEOUT
    if mailbox.security == Mailbox.Security.SSL:
        context = client_context(ca_pem=mailbox.ca_bundle)
        return MailBox(mailbox.host, mailbox.port, timeout=timeout, ssl_context=context)
    if mailbox.security == Mailbox.Security.STARTTLS:
        context = client_context(ca_pem=mailbox.ca_bundle)
        return MailBoxStartTls(mailbox.host, mailbox.port, timeout=timeout, ssl_context=context)
    if not is_loopback(mailbox.host):
        raise PlaintextRefused(
            f"refusing IMAP without TLS to {mailbox.host}: choose TLS or STARTTLS "
            "(no TLS is for a server on this machine only)"
        )
    return MailBoxUnencrypted(mailbox.host, mailbox.port, timeout=timeout)


def _raw(client: imaplib.IMAP4, uid: str) -> bytes | None:
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _mark(box: BaseMailBox, mailbox: Mailbox, uid: str, keyword: str) -> None:
    box.flag(uid, keyword, True)
    if mailbox.done_folder and keyword == HANDLED:
        if not box.folder.exists(mailbox.done_folder):
            box.folder.create(mailbox.done_folder)
        box.move(uid, mailbox.done_folder)


def mailbox_poll(*, mailbox_id: int) -> PollResult:
    """Fetch and handle every new message of one mailbox; errors are recorded on it."""
    # Secrets are decrypted when read, inside the try: one no key opens is an error recorded
    # on the mailbox like any other.
    mailbox = (
        Mailbox.objects.select_related("desk")
        .defer("password", "desk__inbound_secret")
        .get(pk=mailbox_id)
    )
    fetched = handled = rejected = 0
    error = ""
    try:
        password = mailbox.password  # decrypted before any connection
        with _connect(mailbox).login(mailbox.username, password, mailbox.folder) as box:
            uids = box.uids(f"NOT KEYWORD {HANDLED} NOT KEYWORD {REJECTED} NOT DELETED")
            for uid in uids[:BATCH]:
                raw = _raw(box.client, uid)
                if raw is None:
                    continue
                fetched += 1
                try:
                    mail_receive(
                        raw=raw,
                        source=InboundMail.Source.IMAP,
                        recipient=mailbox.desk.email,
                        desk=mailbox.desk,
                    )
                except (MailTooLarge, EmptyMail) as exc:
                    logger.warning("mailbox %s: message %s rejected: %s", mailbox, uid, exc)
                    _mark(box, mailbox, uid, REJECTED)
                    rejected += 1
                    continue
                except TEMPORARY_ERRORS as exc:
                    # The database or the disk is away: stop; the message stays unhandled.
                    error = f"could not store mail: {exc}"
                    break
                _mark(box, mailbox, uid, HANDLED)
                handled += 1
    except SecretUnreadable as exc:
        error = str(exc)
    except MailboxLoginError as exc:
        error = f"login failed: {exc}"
    except (OSError, imaplib.IMAP4.error, ssl.SSLError, ImapToolsError, ValueError) as exc:
        # Mail handled before the failure stays handled; what was not marked is fetched
        # again next time, and found to be a duplicate. (ValueError: a server that answers
        # something other than IMAP, such as STARTTLS tried on an implicit-TLS port.)
        error = describe_tls_error(exc, host=mailbox.host, port=mailbox.port)
    if error:
        logger.warning("mailbox %s: %s", mailbox, error)
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=timezone.now(), last_error=error[:2000]
        )
    return PollResult(fetched=fetched, handled=handled, rejected=rejected, error=error)


def mailboxes_to_poll() -> list[int]:
    return list(Mailbox.objects.filter(active=True).values_list("pk", flat=True))
