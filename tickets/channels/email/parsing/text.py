"""A mail's text made fit to show: its HTML sanitized (formatting, tables, links and cid:
images only), and what the sender wrote this time split from the quoted history and the
signature below it."""

from __future__ import annotations

import nh3
from mailparser_reply import EmailReplyParser

# Quoted-history and signature detection in these languages (besides English).
REPLY_LANGUAGES = ["en", "fr", "de", "es", "it", "nl"]

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


def split_reply(text: str) -> tuple[str, str, str]:
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
