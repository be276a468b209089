"""The same messages for both sides of bench/peer/compare.py, written once as .eml files.

Three in four open an incident (a third with an HTML part, a third with a 20 kB attachment),
one in four replies to an incident opened earlier (In-Reply-To and References). Every sender
is a known contact of the customer organizations both sides seed. Standard library only.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

DESK_ADDRESS = "support-eu@bench.test"
ORGANIZATIONS, CONTACTS = 10, 20  # contacts c{i}@customer{n}.test
REPLY_DISTANCE = 16


def reply(message: EmailMessage, parent: str, sender: str) -> None:
    """A customer's reply to the incident whose Message-ID is `parent`, quoting support."""
    message["From"] = sender
    message["Subject"] = "RE: incident"
    message["In-Reply-To"] = parent
    message["References"] = parent
    message.set_content(
        "Here is more information.\n\nOn Monday, Support wrote:\n> Can you tell us more?\n"
    )


def incident_body(message: EmailMessage, rng: random.Random) -> None:
    """An incident's text: plain, with an HTML part, or with a 20 kB attachment, a third each."""
    text = "Since this morning the kiosk shows error E42 at start-up.\n\n-- \nOperations"
    message.set_content(text)
    kind = rng.random()
    if kind < 1 / 3:
        message.add_alternative(f"<p>{text}</p>", subtype="html")
    elif kind < 2 / 3:
        message.add_attachment(
            rng.randbytes(20_000), maintype="application", subtype="zip", filename="logs.zip"
        )


def contacts() -> list[str]:
    return [f"c{i}@customer{n}.test" for n in range(ORGANIZATIONS) for i in range(CONTACTS)]


def write(folder: Path, count: int, seed: int = 21) -> list[Path]:
    rng, senders = random.Random(seed), contacts()
    folder.mkdir(parents=True, exist_ok=True)
    opened: list[tuple[str, str]] = []
    paths = []
    for n in range(count):
        message = EmailMessage()
        message["To"] = DESK_ADDRESS
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(idstring=f"peer.{seed}.{n}", domain="bench.test")
        if rng.random() < 0.25 and len(opened) > REPLY_DISTANCE:
            reply(message, *rng.choice(opened[:-REPLY_DISTANCE]))
        else:
            sender = rng.choice(senders)
            message["From"] = sender
            message["Subject"] = f"Kiosk {n} shows an error"
            incident_body(message, rng)
            opened.append((message["Message-ID"], sender))
        path = folder / f"{n:05d}.eml"
        path.write_bytes(bytes(message))
        paths.append(path)
    return paths
