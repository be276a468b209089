"""The French catalogue is complete and its compiled file matches it."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "fr" / "LC_MESSAGES"


def po_entries() -> dict[str, list[str]]:
    """msgid (with context) -> msgstr values, read from the .po file."""
    entries: dict[str, list[str]] = {}
    for block in (LOCALE / "django.po").read_text().split("\n\n"):
        lines = [ln for ln in block.splitlines() if not ln.startswith("#")]
        text = "\n".join(lines)
        fields: dict[str, str] = {}
        for key, value in re.findall(
            r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) ((?:".*"\n?)+)', text, re.M
        ):
            raw = "".join(re.findall(r'"(.*)"', value))
            fields[key] = raw.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        if fields.get("msgid"):
            key = f"{fields.get('msgctxt', '')}\x04{fields['msgid']}"
            entries[key] = [v for k, v in fields.items() if k.startswith("msgstr")]
    return entries


def test_every_french_string_is_translated() -> None:
    entries = po_entries()
    assert len(entries) > 200
    missing = [key.split("\x04")[1] for key, values in entries.items() if not all(values)]
    assert missing == []
    assert "#, fuzzy" not in (LOCALE / "django.po").read_text()


def test_compiled_catalogue_matches_the_sources() -> None:
    with (LOCALE / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    assert catalogue.gettext("Report an incident") == "Signaler un incident"
    assert catalogue.pgettext("deadline badge", "overdue") == "en retard"
    compiled = catalogue._catalog  # type: ignore[attr-defined]  # the parsed message table
    plain = [key for key in po_entries() if key.startswith("\x04")]
    assert all(key[1:] in compiled or (key[1:], 0) in compiled for key in plain)


STRAIGHT = re.compile(r"(?<=[A-Za-zÀ-ÿ])'(?=[A-Za-zÀ-ÿ])")


def test_french_is_written_with_the_typographic_apostrophe() -> None:
    """ "l’échéance", never "l'échéance": in Pacte's catalogue and in the one that mends its
    dependencies' French (django, django-allauth), whose .mo matches its source."""
    assert not [v for values in po_entries().values() for v in values if STRAIGHT.search(v)]
    mended = LOCALE.parent.parent / "dependencies" / "fr" / "LC_MESSAGES"
    source = (mended / "django.po").read_text()
    assert "Nom d’utilisateur" in source and not STRAIGHT.search(
        "".join(re.findall(r'^msgstr(?:\[\d\])? "(.*)"', source, re.M))
    )
    with (mended / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    assert catalogue.gettext("Username") == "Nom d’utilisateur"
