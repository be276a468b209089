"""Every message of the corpus (tests/email/corpus/manifest.json) is handled as a person expects.

Each case receives its file (after the files it builds on) through the same service the pipe,
the poller and the webhook call, then checks what a user would see: the ticket it opened or
joined, the text shown and the text folded away, the sanitized HTML, the files kept, the
answers queued. Whatever the message, nothing raises and the raw bytes are kept.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.email.conftest import DESK_PASSWORD, MailWorld
from tests.email.corpus.big import FILENAME, big_mail
from tests.mailservers import DovecotServer
from tickets.channels.email.imap import HANDLED, mailbox_poll
from tickets.channels.email.ingest import Received, mail_receive
from tickets.channels.email.parsing import header_key
from tickets.models import (
    Attachment,
    Channel,
    InboundMail,
    Mailbox,
    Message,
    OutboundMail,
    Ticket,
)

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))["messages"]
CASES = {case["file"]: case for case in MANIFEST}

pytestmark = pytest.mark.django_db(transaction=True)

DESK = "support-eu@pacte.test"


def test_the_manifest_covers_every_file_of_the_corpus() -> None:
    assert sorted(CASES) == sorted(path.name for path in CORPUS.glob("*.eml"))
    assert len(CASES) == len(MANIFEST)


def _receive(name: str, tickets_by_file: dict[str, Ticket]) -> Received:
    raw = (CORPUS / name).read_bytes()
    reference_of = CASES[name].get("reference_of")
    if reference_of:
        raw = raw.replace(b"{ref}", tickets_by_file[reference_of].reference.encode())
    received = mail_receive(raw=raw, source=InboundMail.Source.PIPE)
    if received.inbound.ticket_id is not None:
        tickets_by_file.setdefault(name, Ticket.objects.get(pk=received.inbound.ticket_id))
    return received


@pytest.mark.parametrize("case", MANIFEST, ids=[case["file"] for case in MANIFEST])
def test_corpus_message(case: dict[str, Any], mail_world: MailWorld) -> None:
    tickets_by_file: dict[str, Ticket] = {}
    for earlier in case.get("after", []):
        _receive(earlier, tickets_by_file)
    tickets_before = Ticket.objects.count()
    outbound_before = set(OutboundMail.objects.values_list("pk", flat=True))

    received = _receive(case["file"], tickets_by_file)
    inbound = InboundMail.objects.get(pk=received.inbound.pk)

    if case.get("duplicate_of"):
        assert received.duplicate
        assert Ticket.objects.count() == tickets_before
        assert inbound.ticket == tickets_by_file[case["duplicate_of"]]
        return
    assert not received.duplicate
    if not case.get("reference_of"):
        assert bytes(inbound.raw) == (CORPUS / case["file"]).read_bytes()  # kept as received
    assert inbound.status == case["status"], (inbound.status, inbound.reason, inbound.error)
    new_outbound = OutboundMail.objects.exclude(pk__in=outbound_before)

    if "reason" in case:
        assert inbound.reason == case["reason"]
    if "error_has" in case:
        assert case["error_has"] in inbound.error
    if "desk" in case:
        assert inbound.desk is not None and inbound.desk.slug == case["desk"]
    if "sender" in case:
        assert inbound.sender == case["sender"]
    if "sender_name" in case:
        assert inbound.sender_name == case["sender_name"]
    if "subject" in case:
        assert inbound.subject == case["subject"]

    if case["status"] in ("ignored", "review", "quarantined"):
        assert inbound.ticket is None and inbound.message is None
        assert Ticket.objects.count() == tickets_before
        answers = new_outbound.filter(inbound=inbound, kind=OutboundMail.Kind.UNKNOWN_SENDER)
        assert answers.count() == case.get("auto_answers", 0)
        assert new_outbound.exclude(kind=OutboundMail.Kind.UNKNOWN_SENDER).count() == 0
        if case["status"] == "ignored":
            assert not new_outbound.exists()  # a machine never gets an answer: no mail loop
        return

    ticket, message = inbound.ticket, inbound.message
    assert ticket is not None and message is not None
    assert message.ticket_id == ticket.pk and message.channel == Channel.EMAIL
    if case["status"] == "ticketed":
        assert Ticket.objects.count() == tickets_before + 1
        assert ticket.channel == Channel.EMAIL
        assert ticket.requester.email == inbound.sender
        if "subject" in case:
            assert ticket.subject == case["subject"][:200]
        if "severity" in case:
            assert ticket.severity == case["severity"]
        # The customer is told the reference and the promised times.
        assert new_outbound.filter(ticket=ticket, kind=OutboundMail.Kind.OPENED).count() == 1
    else:
        assert Ticket.objects.count() == tickets_before
    if "thread_of" in case:
        assert ticket == tickets_by_file[case["thread_of"]]
    if "not_thread_of" in case:
        other = tickets_by_file[case["not_thread_of"]]
        assert ticket != other
        assert not other.messages.filter(body__contains=case["body_has"][0]).exists()
    assert message.is_automatic == case.get("automatic", False)
    if case.get("automatic"):
        assert not new_outbound.exists()

    _check_content(case, message)
    if case.get("redeliver"):
        again = _receive(case["file"], tickets_by_file)
        assert again.duplicate and again.inbound.pk == inbound.pk
        assert Ticket.objects.count() == tickets_before + 1


def _check_content(case: dict[str, Any], message: Message) -> None:
    for text in case.get("body_has", []):
        assert text in message.body, (text, message.body)
    for text in case.get("body_lacks", []):
        assert text not in message.body, (text, message.body)
    for text in case.get("quoted_has", []):
        assert text in message.quoted, (text, message.quoted)
    for text in case.get("html_has", []):
        assert text in message.body_html, (text, message.body_html)
    for text in case.get("html_lacks", []):
        assert text.lower() not in message.body_html.lower(), (text, message.body_html)
    assert "\r" not in message.body and "\ufffd" not in message.body
    if "files" not in case:
        return
    attachments = list(message.attachments.order_by("pk"))
    assert len(attachments) == len(case["files"]), [a.filename for a in attachments]
    for attachment, expected in zip(attachments, case["files"], strict=True):
        with attachment.file.open("rb") as handle:
            content = handle.read()
        assert attachment.size == len(content) > 0
        assert attachment.content_type == expected["type"]
        if "name" in expected:
            assert attachment.filename == expected["name"]
        if "size" in expected:
            assert attachment.size == expected["size"]
        if "inline" in expected:
            assert attachment.inline == expected["inline"]
        if "has" in expected:
            assert expected["has"].encode() in content


def test_a_mail_with_a_20_mb_attachment_keeps_it_whole(
    mail_world: MailWorld, settings: Any
) -> None:
    raw, digest = big_mail()
    assert len(raw) > 27_000_000  # 20 MB in base64 lines, under the 40 MB message limit
    received = mail_receive(raw=raw, source=InboundMail.Source.WEBHOOK)

    inbound = received.inbound
    assert inbound.status == InboundMail.Status.TICKETED, inbound.error
    assert inbound.size == len(raw)
    (attachment,) = inbound.message.attachments.all()
    assert (attachment.filename, attachment.content_type) == (FILENAME, "video/mp4")
    assert attachment.size == 20 * 1024 * 1024
    with attachment.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == digest
    assert "Voici l'enregistrement de l'écran" in inbound.message.body


def test_the_20_mb_mail_over_a_lower_attachment_limit_is_listed_not_lost(
    mail_world: MailWorld, settings: Any
) -> None:
    settings.PACTE_MAIL_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    raw, _digest = big_mail()
    inbound = mail_receive(raw=raw, source=InboundMail.Source.PIPE).inbound

    assert inbound.status == InboundMail.Status.TICKETED
    assert not inbound.message.attachments.exists()
    assert FILENAME in inbound.message.body and "20.0" in inbound.message.body
    assert bytes(InboundMail.objects.get(pk=inbound.pk).raw) == raw  # the original has it


def test_the_whole_corpus_through_the_pipe_command_in_one_go(
    mail_world: MailWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file as an MTA pipes it, in order: exit 0 for every one, every mail kept once."""
    references: dict[str, str] = {}
    for case in MANIFEST:
        raw = (CORPUS / case["file"]).read_bytes()
        if case.get("reference_of"):
            raw = raw.replace(b"{ref}", references[case["reference_of"]].encode())
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
        with pytest.raises(SystemExit) as exit_:
            call_command("ingest_email")
        assert exit_.value.code == 0, case["file"]
        inbound = InboundMail.objects.order_by("-pk").first()
        assert inbound is not None
        if inbound.ticket_id and case["file"] not in references:
            references[case["file"]] = inbound.ticket.reference

    # 38 files, one of them a second copy of another: 37 mails kept, none lost.
    assert InboundMail.objects.count() == len(MANIFEST) - 1
    assert set(InboundMail.objects.values_list("status", flat=True)) == {
        case["status"] for case in MANIFEST
    }


def test_the_corpus_and_the_20_mb_mail_through_a_real_imap_mailbox(
    mail_world: MailWorld, dovecot: DovecotServer
) -> None:
    """The poller reads the whole corpus from Dovecot in one pass and marks each message."""
    cases = [case for case in MANIFEST if not case.get("reference_of")]
    for case in cases:
        dovecot.append(DESK, (CORPUS / case["file"]).read_bytes())
    big, digest = big_mail()
    dovecot.append(DESK, big)
    mailbox = Mailbox.objects.create(
        desk=mail_world.europe,
        host=dovecot.host,
        port=dovecot.port,
        security=Mailbox.Security.NONE,
        username=DESK,
        password=DESK_PASSWORD,
    )

    result = mailbox_poll(mailbox_id=mailbox.pk)

    assert (result.fetched, result.handled, result.rejected, result.error) == (
        len(cases) + 1,
        len(cases) + 1,
        0,
        "",
    )
    stored = dovecot.list_messages(DESK)  # in the order appended, with CRLF line ends
    assert all(HANDLED in flags for _uid, flags, _raw in stored)
    for case, (_uid, _flags, raw) in zip(cases, stored, strict=False):
        inbound = InboundMail.objects.get(key=header_key(raw))
        assert inbound.status == case["status"], (case["file"], inbound.reason, inbound.error)
    attachment = Attachment.objects.get(filename=FILENAME)
    with attachment.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == digest
    assert mailbox_poll(mailbox_id=mailbox.pk).fetched == 0  # nothing handled twice
