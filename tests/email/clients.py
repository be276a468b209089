"""Raw messages shaped as Outlook, Gmail and Apple Mail write them (header order, MIME layout,
quoting, encodings), for tests that need a mail client's exact bytes rather than Python's."""

from __future__ import annotations

import quopri
from email.utils import parseaddr

DATE = "Mon, 16 Nov 2026 11:20:04 +0100"


def _qp(text: str, charset: str) -> str:
    return quopri.encodestring(text.replace("\n", "\r\n").encode(charset)).decode("ascii")


def _head(*lines: str) -> str:
    """A header block: the lines given (empty ones left out), CRLF-ended, then a blank line."""
    return "".join(f"{line}\r\n" for line in lines if line) + "\r\n"


def outlook(
    *,
    froms: tuple[str, ...] = ("Alice Martin <alice@acme.test>",),
    to: str = '"support-eu@pacte.test" <support-eu@pacte.test>',
    cc: str = "",
    subject: str = "RE: L'export comptable",
    message_id: str = "<PR3P192MB0714A1B2C3D4E5F60718@PR3P192MB0714.EURP192.PROD.OUTLOOK.COM>",
    in_reply_to: str = "",
    references: str = "",
    body: str = "Bonjour,\n\nToujours en erreur.\n\nCordialement",
) -> bytes:
    """Outlook (Microsoft 365): Thread-Index, Latin-1 quoted-printable, "De : … Envoyé :"."""
    quoted = "\n\nDe : Support <support-eu@pacte.test>\nEnvoyé : lundi 16 novembre 2026 10:12\n"
    head = _head(
        "Received: from PR3P192MB0714.EURP192.PROD.OUTLOOK.COM (2603:10a6:102:4f::19) by\r\n"
        " AM9P192MB1268.EURP192.PROD.OUTLOOK.COM with HTTPS; Mon, 16 Nov 2026 10:20:05 +0000",
        *(f"From: {sender}" for sender in froms),
        f"To: {to}",
        f"CC: {cc}" if cc else "",
        f"Subject: {subject}",
        "Thread-Topic: L'export comptable",
        "Thread-Index: AQHbOBHkO9ZdXcm1pEuLq7V0bV1y4w==",
        f"Date: {DATE}",
        f"Message-ID: {message_id}",
        f"References: {references}" if references else "",
        f"In-Reply-To: {in_reply_to}" if in_reply_to else "",
        "Accept-Language: fr-FR, en-US",
        "Content-Language: fr-FR",
        "X-MS-Has-Attach:",
        "X-MS-TNEF-Correlator:",
        "Content-Type: multipart/alternative;\r\n"
        '\tboundary="_000_PR3P192MB0714A1B2C3D4E5F60718PR3P192MB0714EURP_"',
        "MIME-Version: 1.0",
    )
    text = _qp(body + quoted, "iso-8859-1")
    html = _qp(f"<html><body><p>{body}</p></body></html>", "iso-8859-1")
    parts = (
        "--_000_PR3P192MB0714A1B2C3D4E5F60718PR3P192MB0714EURP_\r\n"
        'Content-Type: text/plain; charset="iso-8859-1"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"{text}\r\n\r\n"
        "--_000_PR3P192MB0714A1B2C3D4E5F60718PR3P192MB0714EURP_\r\n"
        'Content-Type: text/html; charset="iso-8859-1"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"{html}\r\n\r\n"
        "--_000_PR3P192MB0714A1B2C3D4E5F60718PR3P192MB0714EURP_--\r\n"
    )
    return (head + parts).encode("ascii")


def gmail(
    *,
    sender: str = "Alice Martin <alice@acme.test>",
    to: str = "support-eu@pacte.test",
    cc: str = "",
    delivered_to: str = "support-eu@pacte.test",
    subject: str = "Re: L'export comptable",
    message_id: str = "<CAHx7p9Qm3vK2dXr0eZ8bL1sUwN4fT6yJc5aPq=Lk7wq@mail.gmail.com>",
    in_reply_to: str = "",
    references: str = "",
    body: str = "Bonjour,\n\nToujours en erreur.",
) -> bytes:
    """Gmail: Delivered-To first, UTF-8 quoted-printable, "Le … a écrit :" quoting."""
    quoted = (
        "\n\nLe lun. 16 nov. 2026 à 10:12, Support <support-eu@pacte.test> a écrit :\n"
        "> Bonjour,\n> Pouvez-vous nous envoyer le journal ?\n"
    )
    head = _head(
        f"Delivered-To: {delivered_to}",
        "Received: by 2002:a05:7208:3c0f:b0:8a:5e1d:77c2 with SMTP id c15csp1184352rbe;\r\n"
        "        Mon, 16 Nov 2026 02:20:04 -0800 (PST)",
        f"Return-Path: <{parseaddr(sender)[1]}>",
        "MIME-Version: 1.0",
        f"References: {references}" if references else "",
        f"In-Reply-To: {in_reply_to}" if in_reply_to else "",
        f"From: {sender}",
        f"Date: {DATE}",
        f"Message-ID: {message_id}",
        f"Subject: {subject}",
        f"To: {to}",
        f"Cc: {cc}" if cc else "",
        'Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f60718"',
    )
    text = _qp(body + quoted, "utf-8")
    html = _qp(f'<div dir="ltr">{body}</div>', "utf-8")
    parts = (
        "--000000000000a1b2c3d4e5f60718\r\n"
        'Content-Type: text/plain; charset="UTF-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"{text}\r\n"
        "--000000000000a1b2c3d4e5f60718\r\n"
        'Content-Type: text/html; charset="UTF-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"{html}\r\n"
        "--000000000000a1b2c3d4e5f60718--\r\n"
    )
    return (head + parts).encode("ascii")


def apple_mail(
    *,
    sender: str = "Amir Haddad <amir@acme.test>",
    to: str = "support-eu@pacte.test",
    cc: str = "",
    subject: str = "Re: L'export comptable",
    message_id: str = "<A2B7C9D1-5E3F-4A8B-9C0D-1E2F3A4B5C6D@acme.test>",
    in_reply_to: str = "",
    references: str = "",
    body: str = "Hi,\n\nSame problem on our side.",
) -> bytes:
    """Apple Mail: Mime-Version with the build, Message-Id spelling, "On …, at …, … wrote:"."""
    quoted = "\n\n> On 16 Nov 2026, at 10:41, Support <support-eu@pacte.test> wrote:\n> \n> Hello\n"
    head = _head(
        f"From: {sender}",
        "Content-Type: multipart/alternative;\r\n"
        '\tboundary="Apple-Mail=_4E0C8A9B-2D1F-4B3E-A5C6-7D8E9F0A1B2C"',
        "Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3826.200.121\\))",
        f"Subject: {subject}",
        f"Date: {DATE}",
        f"References: {references}" if references else "",
        f"Cc: {cc}" if cc else "",
        f"To: {to}",
        f"In-Reply-To: {in_reply_to}" if in_reply_to else "",
        f"Message-Id: {message_id}",
        "X-Mailer: Apple Mail (2.3826.200.121)",
    )
    text = _qp(body + quoted, "utf-8")
    html = _qp(f'<html><body style="overflow-wrap: break-word;">{body}</body></html>', "utf-8")
    parts = (
        "--Apple-Mail=_4E0C8A9B-2D1F-4B3E-A5C6-7D8E9F0A1B2C\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "Content-Type: text/plain;\r\n\tcharset=utf-8\r\n\r\n"
        f"{text}\r\n"
        "--Apple-Mail=_4E0C8A9B-2D1F-4B3E-A5C6-7D8E9F0A1B2C\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "Content-Type: text/html;\r\n\tcharset=utf-8\r\n\r\n"
        f"{html}\r\n"
        "--Apple-Mail=_4E0C8A9B-2D1F-4B3E-A5C6-7D8E9F0A1B2C--\r\n"
    )
    return (head + parts).encode("ascii")
