"""Bytes to text a database stores, whatever charset a mail declares (or gets wrong): the
declared one, else UTF-8, else Windows-1252, else Latin-1; no NUL, no lone surrogates."""

from __future__ import annotations


def decode(payload: bytes, charset: str) -> str:
    """Text of a part: its declared charset, else UTF-8, else Windows-1252, else Latin-1.

    Line ends come out as "\n" whatever the message used (CRLF on the wire, often kept).
    """
    for candidate in (charset, "utf-8", "windows-1252"):
        if not candidate:
            continue
        try:
            return storable(_lines(payload.decode(candidate)))
        except (LookupError, UnicodeDecodeError):
            continue
    return storable(_lines(payload.decode("latin-1")))


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def storable(text: str) -> str:
    """Text a database stores: no NUL (PostgreSQL refuses it), no lone surrogates."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
