"""Received mail → tickets, through the one ingest service (tickets.channels.email.ingest)."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from sla.models import Clock
from tests.email.conftest import MailWorld, build_mail
from tickets import services
from tickets.channels.email import ingest
from tickets.channels.email.ingest import mail_receive
from tickets.models import (
    Channel,
    InboundMail,
    MailThreadId,
    Message,
    OutboundMail,
    Status,
    Ticket,
)
from tickets.services import intake
from tickets.tasks import mail_sweep_task

PIPE = InboundMail.Source.PIPE
# Committed for real: customer mails leave the outbox on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def receive(raw: bytes, recipient: str = "") -> InboundMail:
    return mail_receive(raw=raw, source=PIPE, recipient=recipient).inbound


def sent_to(address: str) -> list[email.message.EmailMessage]:
    """Mail sent to `address`, once the outbox has been swept (as the beat does)."""
    mail_sweep_task()
    return [
        email.message_from_bytes(m.message().as_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for m in mail.outbox
        if address in " ".join(m.to)
    ]


def test_a_contact_opens_a_ticket_by_mail_and_gets_the_promised_times(
    mail_world: MailWorld,
) -> None:
    raw = build_mail(message_id="<first@mail.acme.test>")
    inbound = receive(raw, recipient="support-eu@pacte.test")
    assert inbound.status == InboundMail.Status.TICKETED
    ticket = inbound.ticket
    assert ticket is not None
    assert (ticket.channel, ticket.desk, ticket.requester) == (
        Channel.EMAIL,
        mail_world.europe,
        mail_world.alice,
    )
    assert ticket.subject == "L'export ne fonctionne plus"
    assert ticket.severity == "major"  # the mail default
    message = ticket.messages.get()
    assert "L'export CSV échoue depuis ce matin." in message.body
    assert Clock.objects.filter(ticket=ticket, state=Clock.State.RUNNING).count() == 2
    assert MailThreadId.objects.filter(key="<first@mail.acme.test>", ticket=ticket).exists()
    # The confirmation: in Alice's language, with the reference and both promised times,
    # threaded under her own mail.
    (confirmation,) = sent_to("alice@acme.test")
    assert confirmation["Subject"] == f"Re: [{ticket.reference}] {ticket.subject}"
    assert confirmation["In-Reply-To"] == "<first@mail.acme.test>"
    assert "<first@mail.acme.test>" in confirmation["References"]
    assert confirmation["From"].addresses[0].addr_spec == "support-eu@pacte.test"
    assert confirmation["Auto-Submitted"] == "auto-generated"
    text = confirmation.get_body(("plain",)).get_content()
    assert ticket.reference in text
    assert "Prise en compte avant" in text or "Accusé" in text or "prise en compte" in text.lower()
    html = confirmation.get_body(("html",)).get_content()
    assert ticket.reference in html
    due = {c.metric: c.due_at for c in Clock.objects.filter(ticket=ticket)}
    assert all(value is not None for value in due.values())
    outbound = OutboundMail.objects.get(ticket=ticket)
    assert outbound.state == OutboundMail.State.SENT
    assert mail_sweep_task()["sent"] == 0  # sent once
    assert outbound.language == "fr"


def test_the_same_message_twice_makes_one_ticket(mail_world: MailWorld) -> None:
    raw = build_mail(message_id="<twice@mail.acme.test>")
    first = mail_receive(raw=raw, source=PIPE)
    again = mail_receive(
        raw=raw.replace(b"Subject:", b"Received: by relay2\nSubject:"),
        source=InboundMail.Source.IMAP,
    )
    assert not first.duplicate and again.duplicate
    assert again.inbound.pk == first.inbound.pk
    assert Ticket.objects.count() == 1
    assert InboundMail.objects.count() == 1
    assert len(sent_to("alice@acme.test")) == 1


def test_a_message_without_message_id_is_deduplicated_by_its_bytes(mail_world: MailWorld) -> None:
    raw = build_mail().replace(b"Message-ID:", b"X-Old-Id:")
    assert not mail_receive(raw=raw, source=PIPE).duplicate
    assert mail_receive(raw=raw, source=PIPE).duplicate
    assert Ticket.objects.count() == 1


def test_the_recipient_address_picks_the_desk(mail_world: MailWorld) -> None:
    na = receive(build_mail(sender="bob@globex.test", to="support-na@pacte.test"))
    assert na.ticket is not None and na.ticket.desk == mail_world.north_america
    # An address no desk owns: the desk Bob gets on the portal, one that serves Globex (the
    # default desk, Europe, does not).
    other = receive(build_mail(sender="bob@globex.test", to="sales@pacte.test"))
    assert other.ticket is not None
    assert other.ticket.desk == services.default_desk_for(mail_world.bob)
    assert other.ticket.desk in mail_world.bob.organization.desks.all()
    # Someone Pacte does not know waits on the default desk.
    stranger = receive(
        build_mail(sender="eve@unknown.test", to="sales@pacte.test", message_id="<eve@x.test>")
    )
    assert stranger.status == InboundMail.Status.REVIEW and stranger.desk == mail_world.europe
    # The envelope recipient (the MTA's) wins over the headers.
    envelope = receive(
        build_mail(sender="bob@globex.test", to="sales@pacte.test"),
        recipient="support-na@pacte.test",
    )
    assert envelope.ticket is not None and envelope.ticket.desk == mail_world.north_america


def test_a_severity_named_in_the_subject_is_taken(mail_world: MailWorld) -> None:
    inbound = receive(build_mail(subject="[Bloquant] Plus rien ne répond"))
    assert inbound.ticket is not None and inbound.ticket.severity == "blocking"


def test_an_outage_by_mail_without_a_tag_starts_a_blocking_clock(mail_world: MailWorld) -> None:
    """No tag: the text decides. A calm mail about every kiosk down is blocking (5 business
    hours to acknowledge), where the default would have promised a business day."""
    raw = build_mail(
        subject="Petite question sur nos bornes",
        body="Bonjour,\n\nDepuis ce matin aucune de nos 40 bornes n'affiche plus rien, "
        "écran noir partout dans les magasins. Pourriez-vous regarder quand vous pouvez ?"
        "\n\nAlice",
    )
    ticket = receive(raw).ticket
    assert ticket is not None and ticket.severity == "blocking"
    assert (ticket.triage.source, ticket.triage.suggested) == ("suggestion", "blocking")
    clock = ticket.clocks.get(metric="acknowledgement")
    assert (clock.kind, clock.target) == ("business_hours", timedelta(hours=5))
    # A tag still wins over the text; the suggestion is kept beside it.
    tagged = receive(build_mail(subject="[mineur] Écran noir sur toutes les bornes")).ticket
    assert tagged is not None and tagged.severity == "minor"
    assert (tagged.triage.source, tagged.triage.suggested) == ("tag", "blocking")


def test_a_mail_the_classifier_is_unsure_of_takes_the_default(
    mail_world: MailWorld, settings: object
) -> None:
    settings.PACTE_TRIAGE_CONFIDENCE = 1.0  # type: ignore[attr-defined]  # never sure enough
    settings.PACTE_MAIL_DEFAULT_SEVERITY = "major"  # type: ignore[attr-defined]
    ticket = receive(build_mail(subject="Plus rien ne marche", body="Tout est noir.")).ticket
    assert ticket is not None and ticket.severity == "major"
    assert ticket.triage.source == "default"


def _open_by_mail(mail_world: MailWorld) -> tuple[Ticket, OutboundMail]:
    inbound = receive(build_mail(message_id="<open@mail.acme.test>"))
    assert inbound.ticket is not None
    return inbound.ticket, OutboundMail.objects.get(ticket=inbound.ticket)


def test_a_reply_threads_by_its_headers_and_resumes_the_correction_clock(
    mail_world: MailWorld,
) -> None:
    ticket, _ = _open_by_mail(mail_world)
    agent = mail_world.world.agent_eu
    services.ticket_reply(ticket=ticket, author=agent, body="Pouvez-vous envoyer le fichier ?")
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.WAITING_ON_CUSTOMER)
    correction = Clock.objects.get(ticket=ticket, metric="correction")
    assert correction.state == Clock.State.PAUSED
    reply_mail = OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.REPLY)
    assert reply_mail.in_reply_to  # threaded under the earlier mails
    assert "<open@mail.acme.test>" in reply_mail.references.split()
    answer = build_mail(
        subject=f"RE: {reply_mail.subject}",
        body=(
            "Voici le fichier.\n\nLe lun. 16 nov. 2026, Support a écrit :\n"
            "> Pouvez-vous envoyer le fichier ?\n"
        ),
        in_reply_to=reply_mail.mail_id,
        references=f"<open@mail.acme.test> {reply_mail.mail_id}",
        attachments=[("export.csv", "text/csv", b"id;amount\n1;2\n")],
    )
    inbound = receive(answer)
    assert inbound.status == InboundMail.Status.APPENDED
    assert inbound.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    correction.refresh_from_db()
    assert correction.state == Clock.State.RUNNING
    message = inbound.message
    assert message is not None and message.author_contact == mail_world.alice
    assert message.body == "Voici le fichier."
    assert "Pouvez-vous envoyer le fichier ?" in message.quoted  # folded, not lost
    assert [a.filename for a in message.attachments.all()] == ["export.csv"]
    assert Ticket.objects.count() == 1


def test_a_subject_reference_attaches_only_for_the_tickets_organization(
    mail_world: MailWorld,
) -> None:
    ticket, _ = _open_by_mail(mail_world)
    colleague = receive(
        build_mail(sender="amir@acme.test", subject=f"Re: [{ticket.reference}] export")
    )
    assert colleague.status == InboundMail.Status.APPENDED and colleague.ticket == ticket
    # Bob (another organization) quoting the reference opens his own ticket instead.
    other = receive(
        build_mail(sender="bob@globex.test", subject=f"Re: [{ticket.reference}] export")
    )
    assert other.status == InboundMail.Status.TICKETED and other.ticket != ticket
    # A stranger quoting it writes into nothing: held for review.
    stranger = receive(build_mail(sender="eve@unknown.test", subject=f"[{ticket.reference}] hi"))
    assert stranger.status == InboundMail.Status.REVIEW
    assert ticket.messages.count() == 2


def test_unknown_senders_wait_for_review_and_get_one_answer_a_day(
    mail_world: MailWorld,
) -> None:
    first = receive(build_mail(sender="Eve <eve@unknown.test>", subject="Help"))
    second = receive(build_mail(sender="EVE@unknown.test", subject="Help again"))
    carol = receive(build_mail(sender="carol@expired.test", subject="Our contract"))
    assert [first.status, second.status, carol.status] == [InboundMail.Status.REVIEW] * 3
    assert first.reason == "unknown sender"
    assert carol.reason == "organization not under contract"
    assert not Ticket.objects.exists()
    answers = sent_to("eve@unknown.test")
    assert len(answers) == 1  # not one per mail
    (answer,) = answers
    assert answer["In-Reply-To"] == first.mail_id
    assert answer["Auto-Submitted"] == "auto-generated"
    assert "contract" in answer.get_body(("plain",)).get_content()
    assert "contrat" in answer.get_body(("plain",)).get_content()
    assert len(sent_to("carol@expired.test")) == 1


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto-submitted"),
        ({"X-Autoreply": "yes"}, "x-autoreply"),
        ({"X-Auto-Response-Suppress": "All"}, "x-auto-response-suppress"),
        ({"Precedence": "bulk"}, "precedence bulk"),
        ({"Precedence": "junk"}, "precedence junk"),
        ({"Precedence": "list"}, "precedence list"),
        ({"List-Id": "<news.acme.test>"}, "list"),
        ({"Return-Path": "<>"}, "empty return path"),
    ],
)
def test_machines_never_open_tickets_nor_get_answers(
    mail_world: MailWorld, headers: dict[str, str], reason: str
) -> None:
    for sender in ("alice@acme.test", "eve@unknown.test"):
        inbound = receive(build_mail(sender=sender, headers=headers))
        assert inbound.status == InboundMail.Status.IGNORED
        assert inbound.reason == reason
    assert not Ticket.objects.exists()
    mail_sweep_task()
    assert not mail.outbox


def test_an_out_of_office_on_a_ticket_is_kept_but_changes_nothing(mail_world: MailWorld) -> None:
    ticket, opened = _open_by_mail(mail_world)
    agent = mail_world.world.agent_eu
    services.ticket_acknowledge(ticket=ticket, actor=agent)
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.WAITING_ON_CUSTOMER)
    sent = len(sent_to("alice@acme.test"))
    inbound = receive(
        build_mail(
            subject="Réponse automatique : absent",
            in_reply_to=opened.mail_id,
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    assert inbound.status == InboundMail.Status.APPENDED
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER  # an auto-reply is no answer
    assert inbound.message is not None and inbound.message.is_automatic
    assert len(sent_to("alice@acme.test")) == sent


def test_html_is_sanitized_and_a_text_version_extracted(mail_world: MailWorld) -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        '<p onclick="steal()">L\'<b>export</b> échoue.</p>'
        '<img src="https://tracker.example/p.gif"><a href="javascript:alert(2)">x</a>'
        "<iframe src='https://evil.example'></iframe></body></html>"
    )
    raw = build_mail(html=html, body="")
    inbound = receive(raw.replace(b"Content-Type: text/plain", b"Content-Type: text/x-empty"))
    message = inbound.message
    assert message is not None
    for bad in (
        "<script",
        "alert(1)",
        "onclick",
        "javascript:",
        "tracker.example",
        "<iframe",
        "<style",
    ):
        assert bad not in message.body_html
    assert "<b>export</b>" in message.body_html
    assert "L'export échoue." in message.body


def test_a_broken_message_is_quarantined_kept_and_can_be_retried(mail_world: MailWorld) -> None:
    raw = b"Subject: no sender\r\nMessage-ID: <nofrom@x.test>\r\n\r\nHello"
    inbound = receive(raw)
    assert inbound.status == InboundMail.Status.QUARANTINED
    assert inbound.error == ingest.NO_FROM == "no From address"
    assert bytes(InboundMail.objects.get(pk=inbound.pk).raw) == raw
    assert not Ticket.objects.exists()
    # A second delivery is a duplicate: the quarantined one stays the only copy.
    assert mail_receive(raw=raw, source=PIPE).duplicate
    still = ingest.mail_retry(inbound=inbound)
    assert still.status == InboundMail.Status.QUARANTINED and still.attempts == 2


def test_a_failure_while_handling_writes_nothing_but_the_quarantine(
    mail_world: MailWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**kwargs: object) -> None:
        raise RuntimeError("clock service down")

    monkeypatch.setattr(intake, "apply_clocks", explode)
    inbound = receive(build_mail())
    assert inbound.status == InboundMail.Status.QUARANTINED
    assert "clock service down" in inbound.error
    assert not Ticket.objects.exists() and not Message.objects.exists()
    assert not OutboundMail.objects.exists()
    monkeypatch.undo()
    retried = ingest.mail_retry(inbound=inbound)
    assert retried.status == InboundMail.Status.TICKETED


def test_the_database_going_away_while_handling_leaves_the_mail_for_the_sweep(
    mail_world: MailWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(**kwargs: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(ingest, "_open", lambda *a, **k: locked())
    inbound = receive(build_mail())
    assert inbound.status == InboundMail.Status.RECEIVED  # stored, not handled, not lost
    monkeypatch.undo()
    assert ingest.mail_unprocessed(older_than=timezone.now()) == [inbound.pk]
    InboundMail.objects.filter(pk=inbound.pk).update(
        received_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    assert mail_sweep_task()["handled"] == 1
    inbound.refresh_from_db()
    assert inbound.status == InboundMail.Status.TICKETED


def test_limits_reject_what_no_retry_can_fix(mail_world: MailWorld, settings: object) -> None:
    with pytest.raises(ingest.EmptyMail):
        mail_receive(raw=b"  \r\n", source=PIPE)
    settings.PACTE_MAIL_MAX_BYTES = 1000  # type: ignore[attr-defined]
    with pytest.raises(ingest.MailTooLarge):
        mail_receive(raw=build_mail(body="x" * 2000), source=PIPE)
    assert not InboundMail.objects.exists()


def test_attachments_over_the_limit_are_listed_not_kept(
    mail_world: MailWorld, settings: object
) -> None:
    settings.PACTE_MAIL_ATTACHMENT_MAX_BYTES = 1000  # type: ignore[attr-defined]
    inbound = receive(
        build_mail(
            attachments=[
                ("small.txt", "text/plain", b"ok"),
                ("big.zip", "application/zip", b"z" * 5000),
            ]
        )
    )
    message = inbound.message
    assert message is not None
    assert [a.filename for a in message.attachments.all()] == ["small.txt"]
    assert "big.zip" in message.body and "Not kept" in message.body


def test_a_new_tickets_signature_is_folded_but_a_forwarded_history_kept(
    mail_world: MailWorld,
) -> None:
    inbound = receive(
        build_mail(
            sender="amir@acme.test",
            subject="Fwd: crash at start",
            body=(
                "See below, this hits all our users.\n\nAmir\n\n"
                "---------- Forwarded message ---------\nFrom: Lena <lena@acme.test>\n"
                "Subject: crash at start\n\nThe app crashes on start since 9:00.\n"
                "-- \nAmir Haddad | Acme IT | +49 30 1234"
            ),
        )
    )
    message = inbound.message
    assert message is not None
    assert "The app crashes on start since 9:00." in message.body  # the incident itself
    assert "Acme IT" not in message.body
    assert message.quoted == "-- \nAmir Haddad | Acme IT | +49 30 1234"


def test_nul_bytes_long_subjects_and_lone_surrogates_are_stored(mail_world: MailWorld) -> None:
    long_subject = "Très " * 80  # 400 characters, over the ticket's 200
    raw = build_mail(subject=long_subject.strip(), body="ok")
    raw = raw.replace(b"\nok", b"\nok\x00 and \xed\xa0\x80 bytes")
    inbound = receive(raw)
    assert inbound.status == InboundMail.Status.TICKETED, inbound.error
    ticket = inbound.ticket
    assert ticket is not None and 190 < len(ticket.subject) <= 200
    body = ticket.messages.get().body
    assert "\x00" not in body and body.startswith("ok and ")
