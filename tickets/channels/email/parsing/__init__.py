"""Raw RFC 5322 bytes in, plain values out: what Pacte needs to know about a received mail.

Pure package (no ORM, no settings): the ingest service stores the raw bytes first, then
calls `parse`. Mail in the wild is often broken, so every step degrades instead of failing:
a header that does not parse is read raw, a part whose charset is unknown or wrong is
decoded with the next plausible one, a multipart without its closing boundary keeps what
arrived, one whose declared boundary never appears is read with the one its body uses, and
raw 8-bit header text is decoded like a body. The sender is the From header's address and
nothing else (Reply-To and Sender are the sender's own claims about where answers go); the
parser counts From headers and their addresses as written, and the ingest service refuses a
mail without exactly one of each.

`parse` puts together what its modules read: `headers` (Message-IDs, decoded headers,
addresses, the From header, machines' mail), `body` (the MIME tree walked into text, HTML and
attachments), `text` (HTML sanitized, the new text split from quoted history and signature)
and `charsets` (bytes to storable text), which the others share.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from inscriptis import get_text

from tickets.channels.email.parsing.body import ParsedAttachment, walk_safely
from tickets.channels.email.parsing.charsets import storable
from tickets.channels.email.parsing.headers import (
    addresses_in,
    auto_reason,
    from_header,
    from_header_count,
    header_key,
    header_text,
    ids_in,
    quick_message_id,
    thread_key,
    unique_addresses,
)
from tickets.channels.email.parsing.text import sanitize_html, split_reply

__all__ = [
    "MailParseError",
    "ParsedAttachment",
    "ParsedMail",
    "header_key",
    "parse",
    "quick_message_id",
    "sanitize_html",
    "thread_key",
]


class MailParseError(ValueError):
    """The message cannot be handled at all (e.g. no From address)."""


@dataclass(frozen=True)
class ParsedMail:
    message_id: str  # "<id@host>", or "" when the message has none
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: str  # the From address, lower case; "" when the From header names none usable
    sender_name: str
    recipients: tuple[str, ...]  # Delivered-To, X-Original-To, To, Cc; lower case
    to: tuple[str, ...]  # the To addresses, in order; lower case
    cc: tuple[str, ...]  # the Cc addresses, in order; lower case
    delivered_to: tuple[str, ...]  # Delivered-To, X-Original-To: this copy's; lower case
    from_headers: int  # how many From headers the message has (RFC 5322: exactly one)
    from_addresses: int  # how many addresses its From names (one person: exactly one)
    from_group: bool  # the From uses group syntax ("Team: a@x, b@y;"), which names no one
    from_malformed: bool  # the From may be read as another address than `sender`
    date: datetime | None
    auto_reason: str  # why this is a machine's mail ("" for a person's)
    text: str  # the whole text version
    html: str  # sanitized, "" when the mail has no HTML part
    new_text: str  # what the sender wrote this time
    quoted: str  # quoted history and signature, cut from new_text
    signature: str  # the sender's signature, when one was recognised
    attachments: tuple[ParsedAttachment, ...]
    defects: tuple[str, ...]


def parse(raw: bytes) -> ParsedMail:
    """Everything Pacte reads from a received message (see the module docstring)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    from_ = from_header(message)
    sender_name, sender = from_.usable[0] if from_.usable else ("", "")
    to = unique_addresses(addresses_in(message, "To"))
    cc = unique_addresses(addresses_in(message, "Cc"))
    delivered_to = unique_addresses(addresses_in(message, "Delivered-To", "X-Original-To"))
    try:
        date_header = header_text(message, "Date")
        date = parsedate_to_datetime(date_header) if date_header else None
        if date is not None and date.tzinfo is None:
            date = None
    except (TypeError, ValueError, IndexError):
        date = None
    text, html, attachments = walk_safely(message)
    clean_html = sanitize_html(html) if html.strip() else ""
    if not text.strip() and clean_html:
        text = get_text(clean_html).strip()
    new_text, quoted, signature = split_reply(text)
    message_ids = ids_in(header_text(message, "Message-ID"))
    defects = [type(d).__name__ for part in message.walk() for d in part.defects]
    return ParsedMail(
        message_id=message_ids[0] if message_ids else "",
        in_reply_to=tuple(ids_in(header_text(message, "In-Reply-To"))),
        references=tuple(ids_in(header_text(message, "References"))),
        subject=header_text(message, "Subject"),
        sender=sender,
        sender_name=storable(" ".join(sender_name.split())),
        recipients=tuple(dict.fromkeys([*delivered_to, *to, *cc])),
        to=to,
        cc=cc,
        delivered_to=delivered_to,
        from_headers=max(
            from_header_count(raw), sum(1 for name in message if name.lower() == "from")
        ),
        from_addresses=from_.count,
        from_group=from_.group,
        from_malformed=from_.malformed,
        date=date,
        auto_reason=auto_reason(message, sender),
        text=text.strip(),
        html=clean_html,
        new_text=new_text,
        quoted=quoted,
        signature=signature,
        attachments=tuple(attachments),
        defects=tuple(dict.fromkeys(defects)),
    )
