"""A customer's mail with a 20 MB screen recording, built on demand (too large for git).

Shaped like Thunderbird's output: multipart/mixed, a text part, the video in base64 lines of
76 characters. The video bytes are pseudo-random (incompressible, like a real recording) and
the same on every run, so a test can compare digests.
"""

from __future__ import annotations

import base64
import hashlib
import random

SIZE = 20 * 1024 * 1024
FILENAME = "enregistrement-ecran.mp4"


def video(size: int = SIZE) -> bytes:
    return random.Random(2026).randbytes(size)


def big_mail(size: int = SIZE) -> tuple[bytes, str]:
    """(the raw message, the SHA-256 of its attachment)."""
    content = video(size)
    encoded = base64.encodebytes(content)  # 76-character lines
    head = (
        "Return-Path: <alice@acme.test>\r\n"
        "From: Alice Martin <alice@acme.test>\r\n"
        "To: support-eu@pacte.test\r\n"
        "Subject: =?UTF-8?Q?Enregistrement_de_l=27=C3=A9cran_pendant_l=27erreur?=\r\n"
        "Date: Fri, 20 Nov 2026 09:00:00 +0100\r\n"
        "Message-ID: <big.20261120090000@acme.test>\r\n"
        "User-Agent: Mozilla Thunderbird\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="------------big0123456789"\r\n'
        "\r\n"
        "This is a multi-part message in MIME format.\r\n"
        "--------------big0123456789\r\n"
        "Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Voici l'enregistrement de l'écran au moment de l'erreur.\r\n"
        "\r\n"
        "--------------big0123456789\r\n"
        f'Content-Type: video/mp4; name="{FILENAME}"\r\n'
        f'Content-Disposition: attachment; filename="{FILENAME}"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
    ).encode()
    body = encoded.replace(b"\n", b"\r\n")
    raw = head + body + b"\r\n--------------big0123456789--\r\n"
    return raw, hashlib.sha256(content).hexdigest()
