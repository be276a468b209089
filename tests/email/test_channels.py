"""The three ways in — the MTA pipe command (a real process), the webhook — and the staff pages
for mail held for review or quarantined."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.email.conftest import MailWorld, build_mail
from tests.services import ROOT, database_url_for_subprocess
from tickets.channels.email.ingest import mail_receive, mail_review_accept
from tickets.exceptions import TicketError
from tickets.models import InboundMail, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def pipe(
    raw: bytes, *args: str, database_url: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url or database_url_for_subprocess(),
        "PACTE_MAIL_DEFAULT_DESK": "eu",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "ingest_email", *args],
        input=raw,
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )


def test_the_pipe_command_exit_codes(mail_world: MailWorld, tmp_path: Path) -> None:
    raw = build_mail(message_id="<piped@mail.acme.test>")
    handled = pipe(raw, "--recipient", "support-eu@pacte.test")
    assert handled.returncode == 0, handled.stderr
    ticket = Ticket.objects.get()
    assert f"ticketed {ticket.reference}" in handled.stdout.decode()
    # The MTA delivering it again (after a timeout, say): still one ticket, still success.
    again = pipe(raw)
    assert again.returncode == 0 and b"duplicate" in again.stdout
    assert Ticket.objects.count() == 1
    # Ignored and quarantined mail is handled too: the MTA must not retry it.
    auto = pipe(build_mail(headers={"Auto-Submitted": "auto-replied"}))
    assert auto.returncode == 0 and b"ignored" in auto.stdout
    broken = pipe(b"Subject: nobody\r\n\r\nwho sent this?")
    assert broken.returncode == 0 and b"quarantined" in broken.stdout
    # Nothing to store: 65, the MTA bounces it.
    empty = pipe(b"")
    assert empty.returncode == 65
    assert b"empty" in empty.stderr and len(empty.stderr.decode().splitlines()) == 1
    # The database is away: 75, the MTA keeps the mail and retries later.
    away = pipe(build_mail(), database_url=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    assert away.returncode == 75, away.stderr
    assert b"temporary failure" in away.stderr
    assert InboundMail.objects.count() == 3


@pytest.fixture
def secret(mail_world: MailWorld) -> str:
    mail_world.north_america.inbound_secret = "s3cret-token-for-na"
    mail_world.north_america.save()
    return "s3cret-token-for-na"


def post(raw: bytes, token: str, slug: str = "na", **headers: str) -> object:
    return Client().post(
        reverse("inbound:webhook", args=[slug]),
        data=raw,
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def test_the_webhook_takes_raw_mime_with_the_desk_secret(
    mail_world: MailWorld, secret: str
) -> None:
    raw = build_mail(sender="bob@globex.test", to="someone@else.test", message_id="<hook@x.test>")
    response = post(raw, secret)
    assert response.status_code == 202  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == "ticketed" and body["duplicate"] is False
    ticket = Ticket.objects.get()
    assert ticket.desk == mail_world.north_america  # the webhook's desk, no address matched
    again = post(raw, secret)
    assert again.status_code == 200 and again.json()["duplicate"] is True  # type: ignore[attr-defined]
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("slug", "token"),
    [
        ("na", "wrong"),
        ("eu", "s3cret-token-for-na"),
        ("nowhere", "s3cret-token-for-na"),
        ("na", ""),
    ],
)
def test_the_webhook_refuses_without_the_right_secret(
    mail_world: MailWorld, secret: str, slug: str, token: str
) -> None:
    response = post(build_mail(), token, slug=slug)
    assert response.status_code == 404  # type: ignore[attr-defined]
    assert not InboundMail.objects.exists()


def test_the_webhook_answers_bad_input_clearly(
    mail_world: MailWorld, secret: str, settings: object
) -> None:
    assert post(b"", secret).status_code == 400  # type: ignore[attr-defined]
    settings.PACTE_MAIL_MAX_BYTES = 500  # type: ignore[attr-defined]
    too_big = post(build_mail(body="x" * 1000), secret)
    assert too_big.status_code == 413  # type: ignore[attr-defined]
    assert Client().get(reverse("inbound:webhook", args=["na"])).status_code == 405
    assert not InboundMail.objects.exists()


def login(client: Client, user: object) -> Client:
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_an_agent_turns_a_held_mail_into_a_ticket(mail_world: MailWorld) -> None:
    held = mail_receive(
        raw=build_mail(sender="Dana <dana@acme.test>", subject="Printer on fire"),
        source=InboundMail.Source.PIPE,
    ).inbound
    assert held.status == InboundMail.Status.REVIEW
    agent = login(Client(), mail_world.world.agent_eu)
    listing = agent.get(reverse("desk:mail-list"))
    assert listing.status_code == 200 and b"Printer on fire" in listing.content
    page = agent.get(reverse("desk:mail-detail", args=[held.pk]))
    assert page.status_code == 200
    # Same domain as Acme's contacts: one of them is proposed.
    assert page.context["form"].fields["contact"].initial in (  # type: ignore[index]
        mail_world.alice.pk,
        mail_world.amir.pk,
    )
    bad = agent.post(reverse("desk:mail-accept", args=[held.pk]), {"contact": "", "severity": "x"})
    assert bad.status_code == 400 and not Ticket.objects.exists()
    done = agent.post(
        reverse("desk:mail-accept", args=[held.pk]),
        {"contact": mail_world.amir.pk, "severity": "blocking"},
    )
    ticket = Ticket.objects.get()
    assert done.status_code == 302 and done["Location"].endswith(f"/{ticket.reference}/")
    assert (ticket.requester, ticket.severity, ticket.channel) == (
        mail_world.amir,
        "blocking",
        "email",
    )
    held.refresh_from_db()
    assert held.status == InboundMail.Status.TICKETED and held.ticket == ticket
    # Twice is refused, not a second ticket.
    twice = agent.post(
        reverse("desk:mail-accept", args=[held.pk]),
        {"contact": mail_world.amir.pk, "severity": "blocking"},
    )
    assert twice.status_code == 400 and Ticket.objects.count() == 1


def test_only_an_agent_of_the_contacts_desk_turns_a_held_mail_into_their_ticket(
    mail_world: MailWorld,
) -> None:
    held = mail_receive(
        raw=build_mail(sender="Dana <dana@acme.test>", subject="Printer on fire"),
        source=InboundMail.Source.PIPE,
    ).inbound
    with pytest.raises(TicketError) as refused:
        mail_review_accept(
            inbound=held, actor=mail_world.world.agent_fr, contact=mail_world.amir, severity="major"
        )
    assert refused.value.field == "contact"
    held.refresh_from_db()
    assert held.status == InboundMail.Status.REVIEW and not Ticket.objects.exists()


def test_discard_and_retry(mail_world: MailWorld) -> None:
    held = mail_receive(raw=build_mail(sender="eve@unknown.test"), source="pipe").inbound
    broken = mail_receive(raw=b"Subject: x\r\n\r\nno sender", source="pipe").inbound
    manager = login(Client(), mail_world.world.manager)
    assert manager.post(reverse("desk:mail-discard", args=[held.pk])).status_code == 302
    held.refresh_from_db()
    assert held.status == InboundMail.Status.DISCARDED and held.reason == "manager"
    retried = manager.post(reverse("desk:mail-retry", args=[broken.pk]), follow=True)
    assert "Still failing" in retried.content.decode()
    original = manager.get(reverse("desk:mail-raw", args=[broken.pk]))
    assert original.content == b"Subject: x\r\n\r\nno sender"
    assert original["Content-Type"] == "message/rfc822"
    # A raw mail is a stranger's bytes: downloaded sandboxed, as an attachment is.
    assert original["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert original["X-Content-Type-Options"] == "nosniff"


def test_mail_pages_are_for_staff_of_the_mails_desk(mail_world: MailWorld) -> None:
    held = mail_receive(
        raw=build_mail(sender="eve@unknown.test", to="support-na@pacte.test"), source="pipe"
    ).inbound
    assert held.desk == mail_world.north_america
    urls = [
        reverse("desk:mail-detail", args=[held.pk]),
        reverse("desk:mail-raw", args=[held.pk]),
    ]
    posts = [
        reverse("desk:mail-accept", args=[held.pk]),
        reverse("desk:mail-discard", args=[held.pk]),
        reverse("desk:mail-retry", args=[held.pk]),
    ]
    customer = login(Client(), mail_world.alice.user)
    other_desk = login(Client(), mail_world.world.agent_eu)  # Europe only
    for client in (customer, other_desk):
        for url in urls:
            assert client.get(url).status_code == 404
        for url in posts:
            assert (
                client.post(url, {"contact": mail_world.bob.pk, "severity": "minor"}).status_code
                == 404
            )
    assert customer.get(reverse("desk:mail-list")).status_code == 404
    assert b"eve@unknown.test" not in other_desk.get(reverse("desk:mail-list")).content
    assert Client().get(urls[0]).status_code == 302  # to the login page
    held.refresh_from_db()
    assert held.status == InboundMail.Status.REVIEW


def test_the_ticket_page_folds_quotes_and_shows_the_formatted_original(
    mail_world: MailWorld,
) -> None:
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
        b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
        b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    opened = mail_receive(raw=build_mail(message_id="<o@acme.test>"), source="pipe").inbound
    assert opened.ticket is not None
    from email.message import EmailMessage

    reply = EmailMessage()
    reply["From"] = "alice@acme.test"
    reply["To"] = "support-eu@pacte.test"
    reply["Subject"] = f"Re: [{opened.ticket.reference}] export"
    reply["In-Reply-To"] = "<o@acme.test>"
    reply["Message-ID"] = "<r@acme.test>"
    reply.set_content("Toujours en panne.\n\nLe lun., Support a écrit :\n> Ancien message\n")
    reply.add_alternative(
        '<p>Toujours <b>en panne</b>.</p><img src="cid:shot1"><script>alert(1)</script>'
        "<blockquote>Ancien message</blockquote>",
        subtype="html",
    )
    reply.get_payload()[1].add_related(png, "image", "png", cid="<shot1>", filename="shot.png")
    inbound = mail_receive(raw=bytes(reply), source="pipe").inbound
    assert inbound.status == InboundMail.Status.APPENDED
    page = login(Client(), mail_world.alice.user).get(
        reverse("tickets:detail", args=[opened.ticket.reference])
    )
    html = page.content.decode()
    assert "Toujours en panne." in html
    assert '<details class="fold"><summary>' in html and "Ancien message" in html
    attachment = inbound.message.attachments.get()  # type: ignore[union-attr]
    assert attachment.inline and attachment.content_id == "shot1"
    assert f'src="{reverse("files:download", args=[attachment.key])}"' in html
    assert "alert(1)" not in html
