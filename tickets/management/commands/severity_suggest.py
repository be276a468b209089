"""Suggest severities for scripts and checks: JSON lines in, JSON lines out.

    echo '{"subject": "Site down", "body": "Nothing loads", "language": "en"}' \\
        | python manage.py severity_suggest

Each input line ``{"subject": …, "body": …, "language": "fr"|"en"}`` gets one output line
``{"severity": "blocking"|"major"|"minor", "confidence": 0.0–1.0}``; a line that is not such
an object (or whose fields are not strings) gets ``{"error": …}`` and the command goes on; a
missing field is empty, another language is read as text all the same. It uses the
classifier in use (the one a fresh installation keeps from the corpus when none is kept), and
writes nothing.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from tickets.triage.services import classifier

LANGUAGES = ("fr", "en")


def _ticket(line: str) -> tuple[str, str, str]:
    """The subject, body and language of an input line, or ValueError saying what is wrong."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(item, dict):
        raise ValueError("expected an object with subject, body and language")
    fields = [item.get(name, "") for name in ("subject", "body", "language")]
    for name, value in zip(("subject", "body", "language"), fields, strict=True):
        if not isinstance(value, str):
            raise ValueError(f'"{name}" must be a string')
    subject, body, language = fields
    # Another language is read as text all the same (the model knows French and English).
    return subject, body, language if language in LANGUAGES else ""


class Command(BaseCommand):
    help = "Suggest a severity for each JSON line on standard input (subject, body, language)."

    def handle(self, *args: Any, **options: Any) -> None:
        model = classifier()
        out = self.stdout
        for raw in sys.stdin.buffer:
            if not raw.strip():
                continue
            try:
                subject, body, language = _ticket(raw.decode("utf-8"))
            except UnicodeDecodeError as error:
                out.write(json.dumps({"error": f"not UTF-8 at byte {error.start}"}))
                continue
            except ValueError as error:
                out.write(json.dumps({"error": str(error)}))
                continue
            suggestion = model.suggest(subject, body, language)
            answer = {
                "severity": suggestion.severity,
                "confidence": round(suggestion.confidence, 4),
            }
            out.write(json.dumps(answer))
