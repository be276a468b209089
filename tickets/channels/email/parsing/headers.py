"""The header block: Message-IDs as keys, headers decoded to one line, the addresses of To,
Cc and Delivered-To, what the From header names (counted as written), and whether a machine
sent the mail."""

from __future__ import annotations

import contextlib
import email
import email.errors
import email.policy
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses

from tickets.channels.email.parsing.charsets import decode, storable

MAX_KEY = 255
ID_RE = re.compile(r"<([^<>\s]+)>")


def thread_key(message_id: str) -> str:
    """A Message-ID as stored and looked up: "<…>", lower-cased host kept as sent, ≤ 255."""
    value = message_id.strip()
    if len(value) > MAX_KEY:
        return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
    return value


def header_key(raw: bytes) -> str:
    """The key that makes a second delivery of the same message a duplicate."""
    message_id = quick_message_id(raw)
    if message_id:
        return thread_key(message_id)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _head(raw: bytes) -> bytes:
    """The header block of a raw message, as written."""
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]


def quick_message_id(raw: bytes) -> str:
    """The Message-ID from the header block alone, without parsing the body."""
    try:
        headers = email.message_from_bytes(_head(raw) + b"\n\n", policy=email.policy.compat32)
        ids = ids_in(header_text(headers, "Message-ID"))
    except Exception:  # a header block we cannot read has no usable id
        return ""
    return ids[0] if ids else ""


def header_text(message: Message, name: str) -> str:
    """A header decoded (RFC 2047) to one line; read raw when it does not parse."""
    try:
        value = message.get(name)
        if value is None:
            return ""
        if not isinstance(value, str) or isinstance(message, EmailMessage):
            text = str(value)
        else:
            text = str(make_header(decode_header(value)))
    except Exception:  # malformed header: fall back to its raw text
        raw = message.get_all(name, failobj=[])
        text = " ".join(str(part) for part in raw) if raw else ""
        with contextlib.suppress(Exception):
            text = str(make_header(decode_header(text)))
    if "\ufffd" in text:  # raw 8-bit text in a header, not UTF-8: try the usual charsets
        text = _header_8bit(message, name) or text
    return storable(" ".join(text.split()))


def _header_8bit(message: Message, name: str) -> str:
    """A header sent with raw 8-bit bytes (no encoded words), decoded like a body."""
    for key, value in message.raw_items():
        if key.lower() == name.lower() and isinstance(value, str):
            raw = value.encode("ascii", "surrogateescape")
            return decode(raw, "") if not raw.isascii() else ""
    return ""


def ids_in(value: str) -> list[str]:
    """The Message-IDs a header's text names, as keys (`thread_key`)."""
    found = [f"<{match}>" for match in ID_RE.findall(value)]
    if not found and value.strip() and " " not in value.strip():
        found = [f"<{value.strip().strip('<>')}>"]  # an id sent without its brackets
    return [thread_key(item) for item in found]


def addresses_in(message: Message, *names: str) -> list[tuple[str, str]]:
    """The usable (name, address) pairs of these headers, in order."""
    values: list[str] = []
    for name in names:
        try:
            values.extend(str(v) for v in message.get_all(name, failobj=[]))
        except Exception:
            continue
    return _usable(getaddresses(values))


def _usable(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (name, address) pairs whose address can be one, the address lower-cased."""
    return [(n, a.strip().lower()) for n, a in pairs if "@" in a and _readable(a)]


# Characters no address is made of: controls, invisible formatting (a zero-width space makes
# "alice\u200b@acme.test" look like Alice's), spaces, and the lone surrogates Python keeps for
# bytes that are not text.
_NOT_IN_ADDRESSES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def _readable(address: str) -> bool:
    return bool(address.strip()) and not any(
        unicodedata.category(char) in _NOT_IN_ADDRESSES for char in address.strip()
    )


FROM_LINE_RE = re.compile(rb"^from[ \t]*:", re.IGNORECASE | re.MULTILINE)


def from_header_count(raw: bytes) -> int:
    """How many From headers the header block has as written (unfolded).

    Python's parser is no judge here: it drops "From : x" (a space before the colon, which
    RFC 5322's obsolete syntax allows and other readers accept) without a trace.
    """
    return len(FROM_LINE_RE.findall(re.sub(rb"\r?\n[ \t]", b" ", _head(raw))))


@dataclass(frozen=True)
class FromHeader:
    usable: list[tuple[str, str]]  # the (name, address) pairs with a readable address
    count: int  # how many addresses it names
    group: bool  # group syntax ("Team: a@x, b@y;"), which names no one
    malformed: bool  # it does not parse as the addresses it seems to name


# What Python's parser says of a From that one reader may take for one address and another
# for two ("alice@acme.test <eve@evil.test>", "a@x; b@y"), or whose real address hides in a
# source route ("<@evil.test:alice@acme.test>"). "period in 'phrase'" alone is kept: that is
# "John Q. Public <jqp@…>".
def _ambiguous(defect: object) -> bool:
    return isinstance(defect, email.errors.InvalidHeaderDefect) or "route" in str(defect)


def from_header(message: Message) -> FromHeader:
    """What the From header names. Only a From Python's parser kept counts as one: one it
    dropped ("From : x") may be what a DMARC check skipped too."""
    try:
        headers = message.get_all("From", failobj=[])
        header = headers[0] if len(headers) == 1 else None
        addresses = getattr(header, "addresses", None)
        groups = getattr(header, "groups", None)
    except Exception:  # e.g. "x:; alice@acme.test": the parser itself trips on it
        return FromHeader([], 0, False, malformed=True)
    if addresses is None or groups is None:  # several, or unparsable: read the raw text
        pairs = getaddresses([str(value) for value in headers])
        return FromHeader(_usable(pairs), len([a for _n, a in pairs if a]), False, malformed=False)
    named = [(a.display_name, a.addr_spec) for a in addresses]
    usable = _usable(named)
    unreadable = any("@" in a and not _readable(a) for _n, a in named)
    return FromHeader(
        usable,
        len(addresses),
        any(group.display_name is not None for group in groups),
        malformed=unreadable
        or (bool(usable) and any(map(_ambiguous, getattr(header, "defects", ())))),
    )


def unique_addresses(pairs: list[tuple[str, str]]) -> tuple[str, ...]:
    """The addresses of (name, address) pairs, in order, each once."""
    return tuple(dict.fromkeys(address for _name, address in pairs))


def auto_reason(message: Message, sender: str) -> str:
    """Why this message was sent by a machine, or "" when a person wrote it.

    Answering a machine starts mail loops; a machine's mail never opens a ticket.
    """
    auto_submitted = header_text(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return "auto-submitted"
    if header_text(message, "X-Autoreply") or header_text(message, "X-Autorespond"):
        return "x-autoreply"
    suppress = header_text(message, "X-Auto-Response-Suppress").lower()
    if suppress and any(v in suppress for v in ("all", "oof", "autoreply")):
        return "x-auto-response-suppress"
    precedence = header_text(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"precedence {precedence}"
    if header_text(message, "List-Id") or header_text(message, "List-Unsubscribe"):
        return "list"
    return_path = message.get_all("Return-Path", failobj=[])
    if return_path and all(str(v).strip() in ("<>", "") for v in return_path):
        return "empty return path"
    if message.get_content_type() == "multipart/report":
        report = (message.get_param("report-type") or "").__str__().lower()
        return "delivery status notification" if "delivery" in report else f"report {report}"
    local = sender.split("@", 1)[0]
    if local in ("mailer-daemon", "postmaster"):
        return "delivery status notification"
    return ""
