"""Raw RFC 5322 bytes in, plain values out: what Pacte needs to know about a received mail.

Pure module (no ORM, no settings): the ingest service stores the raw bytes first, then
calls `parse`. Mail in the wild is often broken, so every step degrades instead of failing:
a header that does not parse is read raw, a part whose charset is unknown or wrong is
decoded with the next plausible one, a multipart without its closing boundary keeps what
arrived, one whose declared boundary never appears is read with the one its body uses, and
raw 8-bit header text is decoded like a body. The sender is the From header's address and
nothing else (Reply-To and Sender are the sender's own claims about where answers go); the
parser counts From headers and their addresses as written, and the ingest service refuses a
mail without exactly one of each.
"""

from __future__ import annotations

import contextlib
import email
import email.errors
import email.policy
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

import nh3
from inscriptis import get_text
from mailparser_reply import EmailReplyParser

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

# Quoted-history and signature detection in these languages (besides English).
REPLY_LANGUAGES = ["en", "fr", "de", "es", "it", "nl"]
MAX_KEY = 255
ID_RE = re.compile(r"<([^<>\s]+)>")
CID_RE = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)

# What a mail's HTML may keep: formatting, tables, links and images embedded in the mail
# (cid:). No scripts, styles, forms, frames, event handlers, nor remote images (trackers).
HTML_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "cite", "code", "col",
    "colgroup", "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span",
    "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "tt", "u", "ul",
}  # fmt: skip
HTML_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign"},
    "blockquote": {"type"},
    "font": {"color"},
    "*": {"dir", "lang"},
}
HTML_URL_SCHEMES = {"http", "https", "mailto", "cid", "tel"}


class MailParseError(ValueError):
    """The message cannot be handled at all (e.g. no From address)."""


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)
    content_id: str = ""  # without angle brackets
    inline: bool = False  # an image shown in the HTML body


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
        ids = _ids(_header(headers, "Message-ID"))
    except Exception:  # a header block we cannot read has no usable id
        return ""
    return ids[0] if ids else ""


def _header(message: Message, name: str) -> str:
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
    return _storable(" ".join(text.split()))


def _header_8bit(message: Message, name: str) -> str:
    """A header sent with raw 8-bit bytes (no encoded words), decoded like a body."""
    for key, value in message.raw_items():
        if key.lower() == name.lower() and isinstance(value, str):
            raw = value.encode("ascii", "surrogateescape")
            return _decode(raw, "") if not raw.isascii() else ""
    return ""


def _ids(value: str) -> list[str]:
    found = [f"<{match}>" for match in ID_RE.findall(value)]
    if not found and value.strip() and " " not in value.strip():
        found = [f"<{value.strip().strip('<>')}>"]  # an id sent without its brackets
    return [thread_key(item) for item in found]


def _addresses(message: Message, *names: str) -> list[tuple[str, str]]:
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


def _from_header_count(raw: bytes) -> int:
    """How many From headers the header block has as written (unfolded).

    Python's parser is no judge here: it drops "From : x" (a space before the colon, which
    RFC 5322's obsolete syntax allows and other readers accept) without a trace.
    """
    return len(FROM_LINE_RE.findall(re.sub(rb"\r?\n[ \t]", b" ", _head(raw))))


@dataclass(frozen=True)
class _From:
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


def _from_header(message: Message) -> _From:
    """What the From header names. Only a From Python's parser kept counts as one: one it
    dropped ("From : x") may be what a DMARC check skipped too."""
    try:
        headers = message.get_all("From", failobj=[])
        header = headers[0] if len(headers) == 1 else None
        addresses = getattr(header, "addresses", None)
        groups = getattr(header, "groups", None)
    except Exception:  # e.g. "x:; alice@acme.test": the parser itself trips on it
        return _From([], 0, False, malformed=True)
    if addresses is None or groups is None:  # several, or unparsable: read the raw text
        pairs = getaddresses([str(value) for value in headers])
        return _From(_usable(pairs), len([a for _n, a in pairs if a]), False, malformed=False)
    named = [(a.display_name, a.addr_spec) for a in addresses]
    usable = _usable(named)
    unreadable = any("@" in a and not _readable(a) for _n, a in named)
    return _From(
        usable,
        len(addresses),
        any(group.display_name is not None for group in groups),
        malformed=unreadable
        or (bool(usable) and any(map(_ambiguous, getattr(header, "defects", ())))),
    )


def _unique(pairs: list[tuple[str, str]]) -> tuple[str, ...]:
    """The addresses of (name, address) pairs, in order, each once."""
    return tuple(dict.fromkeys(address for _name, address in pairs))


def _auto_reason(message: Message, sender: str) -> str:
    """Why this message was sent by a machine, or "" when a person wrote it.

    Answering a machine starts mail loops; a machine's mail never opens a ticket.
    """
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return "auto-submitted"
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return "x-autoreply"
    suppress = _header(message, "X-Auto-Response-Suppress").lower()
    if suppress and any(v in suppress for v in ("all", "oof", "autoreply")):
        return "x-auto-response-suppress"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"precedence {precedence}"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
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


def _decode(payload: bytes, charset: str) -> str:
    """Text of a part: its declared charset, else UTF-8, else Windows-1252, else Latin-1.

    Line ends come out as "\n" whatever the message used (CRLF on the wire, often kept).
    """
    for candidate in (charset, "utf-8", "windows-1252"):
        if not candidate:
            continue
        try:
            return _storable(_lines(payload.decode(candidate)))
        except (LookupError, UnicodeDecodeError):
            continue
    return _storable(_lines(payload.decode("latin-1")))


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _storable(text: str) -> str:
    """Text a database stores: no NUL (PostgreSQL refuses it), no lone surrogates."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # broken transfer encoding: keep what is there
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset() or ""
    except Exception:
        charset = ""
    return _decode(payload, charset)


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = " ".join(str(make_header(decode_header(name))).split()) if name else ""
    name = name.replace("/", "_").replace("\\", "_").strip(". ")
    if name:
        return _storable(name)[:200]
    content_type = part.get_content_type()
    extension = {
        "text/calendar": ".ics",
        "message/rfc822": ".eml",
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "application/pdf": ".pdf",
        "text/plain": ".txt",
        "text/html": ".html",
    }.get(content_type, ".bin")
    return f"part-{index}{extension}"


def sanitize_html(html: str) -> str:
    """HTML from a mail made safe to show: see HTML_TAGS; only cid: images are kept."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not value.lower().startswith("cid:"):
            return None  # a remote image is a tracker or a leak: not loaded
        return value

    return nh3.clean(
        html,
        tags=HTML_TAGS,
        attributes=HTML_ATTRIBUTES,
        attribute_filter=keep,
        url_schemes=HTML_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    ).strip()


def _split_reply(text: str) -> tuple[str, str, str]:
    """(what the sender wrote now, the quoted history and signature below it, the signature)."""
    stripped = text.strip()
    if not stripped:
        return "", "", ""
    try:
        replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(stripped).replies
    except Exception:  # the heuristics must never lose the text
        return stripped, "", ""
    if not replies:
        return stripped, "", ""
    new = (replies[0].body or replies[0].content).strip()
    position = stripped.find(new) if new else -1
    if position < 0:
        return stripped, "", _signature(stripped)
    return new, stripped[position + len(new) :].strip(), _signature(stripped)


SIGNATURE_LINES = 15  # a signature delimiter further up than this starts no signature


def _signature(text: str) -> str:
    """The signature below the standard "-- " delimiter (RFC 3676) near the end, if any."""
    lines = text.splitlines()
    for index in range(len(lines) - 1, max(-1, len(lines) - 1 - SIGNATURE_LINES), -1):
        if lines[index] in ("-- ", "--"):
            return "\n".join(lines[index:]).strip()
    return ""


def _leaves(part: Message) -> list[Message]:
    """The parts that carry content; a forwarded message (message/rfc822) is one leaf."""
    if part.get_content_type() == "message/rfc822":
        return [part]
    if not part.is_multipart():
        repaired = _rebound(part)
        return [part] if repaired is None else _leaves(repaired)
    children = part.get_payload()
    if not isinstance(children, list):
        return [part]
    return [leaf for child in children if isinstance(child, Message) for leaf in _leaves(child)]


BOUNDARY_LINE_RE = re.compile(r"\A\s*--([^\s]{1,200})[ \t]*\r?\n")


def _rebound(part: Message) -> Message | None:
    """A multipart whose declared boundary never appears, read with the one its body uses."""
    if part.get_content_maintype() != "multipart":
        return None
    body = part.get_payload()
    if not isinstance(body, str):
        return None
    match = BOUNDARY_LINE_RE.match(body)
    if match is None:
        return None
    head = f'Content-Type: {part.get_content_type()}; boundary="{match.group(1)}"\n\n'
    with contextlib.suppress(Exception):
        repaired = email.message_from_string(head + body, policy=email.policy.default)
        if repaired.is_multipart():
            return repaired
    return None


def _walk(message: Message) -> tuple[str, str, list[ParsedAttachment]]:
    text_parts: list[str] = []
    html_parts: list[str] = []
    attachments: list[ParsedAttachment] = []
    for index, part in enumerate(_leaves(message), start=1):
        content_type = part.get_content_type()
        if content_type in ("message/delivery-status", "message/disposition-notification"):
            continue  # the machine-readable half of a report
        if part.get_content_maintype() == "multipart":
            # Its boundary never appears: the client broke the structure, the text is there.
            text_parts.append(_part_text(part))
            continue
        if content_type == "message/rfc822":
            inner = part.get_payload()
            forwarded = inner[0] if isinstance(inner, list) and inner else None
            body = forwarded.as_bytes() if isinstance(forwarded, Message) else b""
            name = _filename(part, index)
            if name.startswith("part-") and isinstance(forwarded, Message):
                subject = _header(forwarded, "Subject").replace("/", "_").replace("\\", "_")
                name = f"{subject.strip('. ')[:190]}.eml" if subject.strip(". ") else name
            attachments.append(ParsedAttachment(name, content_type, body))
            continue
        try:
            disposition = (part.get_content_disposition() or "").lower()
            has_name = bool(part.get_filename())
        except Exception:  # a broken Content-Disposition: read the part as an attachment
            disposition, has_name = "attachment", True
        if content_type in ("text/plain", "text/html") and not (
            disposition == "attachment" or has_name
        ):
            (text_parts if content_type == "text/plain" else html_parts).append(_part_text(part))
            continue
        try:
            content = part.get_payload(decode=True)
        except Exception:  # broken transfer encoding
            content = None
        content_id = str(part.get("Content-ID", "") or "").strip().strip("<>").strip()
        attachments.append(
            ParsedAttachment(
                filename=_filename(part, index),
                content_type=content_type,
                content=content if isinstance(content, bytes) else b"",
                content_id=content_id,
                inline=False,  # decided below, against the HTML
            )
        )
    text = "\n\n".join(p.strip() for p in text_parts if p.strip())
    html = "\n".join(html_parts)
    # An image the HTML shows (src="cid:…") is inline, whatever its disposition says.
    shown = {match.lower() for match in CID_RE.findall(html)}
    attachments = [
        replace(a, inline=True)
        if a.content_type.startswith("image/") and a.content_id.lower() in shown
        else a
        for a in attachments
    ]
    return text, html, attachments


def parse(raw: bytes) -> ParsedMail:
    """Everything Pacte reads from a received message (see the module docstring)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    from_ = _from_header(message)
    sender_name, sender = from_.usable[0] if from_.usable else ("", "")
    to = _unique(_addresses(message, "To"))
    cc = _unique(_addresses(message, "Cc"))
    delivered_to = _unique(_addresses(message, "Delivered-To", "X-Original-To"))
    try:
        date = parsedate_to_datetime(_header(message, "Date")) if _header(message, "Date") else None
        if date is not None and date.tzinfo is None:
            date = None
    except (TypeError, ValueError, IndexError):
        date = None
    text, html, attachments = _walk_safely(message)
    clean_html = sanitize_html(html) if html.strip() else ""
    if not text.strip() and clean_html:
        text = get_text(clean_html).strip()
    new_text, quoted, signature = _split_reply(text)
    message_ids = _ids(_header(message, "Message-ID"))
    defects = [type(d).__name__ for part in message.walk() for d in part.defects]
    return ParsedMail(
        message_id=message_ids[0] if message_ids else "",
        in_reply_to=tuple(_ids(_header(message, "In-Reply-To"))),
        references=tuple(_ids(_header(message, "References"))),
        subject=_header(message, "Subject"),
        sender=sender,
        sender_name=_storable(" ".join(sender_name.split())),
        recipients=tuple(dict.fromkeys([*delivered_to, *to, *cc])),
        to=to,
        cc=cc,
        delivered_to=delivered_to,
        from_headers=max(
            _from_header_count(raw), sum(1 for name in message if name.lower() == "from")
        ),
        from_addresses=from_.count,
        from_group=from_.group,
        from_malformed=from_.malformed,
        date=date,
        auto_reason=_auto_reason(message, sender),
        text=text.strip(),
        html=clean_html,
        new_text=new_text,
        quoted=quoted,
        signature=signature,
        attachments=tuple(attachments),
        defects=tuple(dict.fromkeys(defects)),
    )


def _walk_safely(message: Message) -> tuple[str, str, list[ParsedAttachment]]:
    try:
        return _walk(message)
    except Exception:  # a structure beyond repair: read it as one text part
        payload = message.get_payload(decode=False)
        text = payload if isinstance(payload, str) else ""
        return text, "", []
