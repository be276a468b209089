"""The MIME tree: the parts that carry content (a forwarded message is one), each decoded
whatever its charset, structures repaired where a client broke them, and the walk that turns
them into the text, the HTML and the attachments (images the HTML shows marked inline)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
from dataclasses import dataclass, field, replace
from email.header import decode_header, make_header
from email.message import Message

from tickets.channels.email.parsing.charsets import decode, storable
from tickets.channels.email.parsing.headers import header_text

CID_RE = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)
    content_id: str = ""  # without angle brackets
    inline: bool = False  # an image shown in the HTML body


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
    return decode(payload, charset)


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = " ".join(str(make_header(decode_header(name))).split()) if name else ""
    name = name.replace("/", "_").replace("\\", "_").strip(". ")
    if name:
        return storable(name)[:200]
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
                subject = header_text(forwarded, "Subject").replace("/", "_").replace("\\", "_")
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


def walk_safely(message: Message) -> tuple[str, str, list[ParsedAttachment]]:
    """The text, the HTML and the attachments of a message."""
    try:
        return _walk(message)
    except Exception:  # a structure beyond repair: read it as one text part
        payload = message.get_payload(decode=False)
        text = payload if isinstance(payload, str) else ""
        return text, "", []
