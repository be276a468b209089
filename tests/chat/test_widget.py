"""The embedded chat widget: the product's signed token, the contact it names, Pacte's
credential, the frame's pages (who may frame them, support hours, starting and resuming a
chat), the WebSocket signed in by credential, and the managers' sample page."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jwt
import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import World, client_for
from tickets.channels.chat import services, widget
from tickets.channels.chat.widget import WidgetTokenError
from tickets.models import ChatSession, Contact, Organization, Ticket, User

BERLIN = ZoneInfo("Europe/Berlin")
OPEN = datetime(2026, 6, 8, 10, 0, tzinfo=BERLIN)  # Monday morning: the europe desk is open
SATURDAY = datetime(2026, 6, 6, 10, 0, tzinfo=BERLIN)
PRODUCT = "https://app.acme.example"
PACTE = "http://testserver"
URL = "/chat/widget/"


@pytest.fixture
def acme(world: World) -> Organization:
    services.organization_chat_secret_rotate(organization=world.acme)
    world.acme.chat_origins = f"{PRODUCT}\nhttp://localhost:3000"
    world.acme.chat_domains = "acme.example"
    world.acme.save(update_fields=["chat_origins", "chat_domains"])
    return world.acme


def identify(token: str, *, slug: str = "acme", origin: str = PRODUCT) -> Contact:
    return widget.chat_widget_identify(
        organization_slug=slug, token=token, origin=origin, own_origin=PACTE, now=timezone.now()
    )


def signed(
    org: Organization, claims: dict[str, object], *, key: str = "", alg: str = "HS256"
) -> str:
    return jwt.encode(claims, key or org.chat_secret, algorithm=alg)


def claims(**extra: object) -> dict[str, object]:
    return {"email": "dana@acme.example", "exp": int(timezone.now().timestamp()) + 300, **extra}


# --- the token ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_of_the_organizations_product_says_who_its_user_is(acme: Organization) -> None:
    identity = widget.read_token(
        acme, signed(acme, claims(name="Dana Scott", language="fr")), now=timezone.now()
    )
    assert (identity.email, identity.name, identity.language) == (
        "dana@acme.example",
        "Dana Scott",
        "fr",
    )


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 case
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda o: signed(o, claims(exp=int(timezone.now().timestamp()) - 120)), "expired"),
        (lambda o: signed(o, claims(), key="another secret of thirty-two chars"), "not valid"),
        (lambda o: signed(o, claims(), alg="HS512"), "not valid"),
        (lambda o: jwt.encode(claims(), None, algorithm="none"), "not valid"),
        (lambda o: "not.a.token", "not valid"),
        (lambda o: "", "not valid"),
        (lambda o: signed(o, {"exp": claims()["exp"]}), "not valid"),  # no email
        (lambda o: signed(o, {"email": "dana@acme.example"}), "not valid"),  # no expiry
        (lambda o: signed(o, claims(exp=int(timezone.now().timestamp()) + 7200)), "within an hour"),
        (lambda o: signed(o, claims(email="not an address")), "valid email"),
        (lambda o: signed(o, claims(email=["a@b.example"])), "valid email"),
        (lambda o: signed(o, claims(language="de")), "unknown language"),
    ],
)
def test_a_token_that_is_forged_stale_or_incomplete_is_refused(
    acme: Organization, make: object, reason: str
) -> None:
    with pytest.raises(WidgetTokenError, match=reason):
        widget.read_token(acme, make(acme), now=timezone.now())  # type: ignore[operator]


def _in(seconds: int) -> int:
    return int(timezone.now().timestamp()) + seconds


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("exp", "reason"),
    [
        (str(_in(300)), "not valid"),  # a number in a string: int() takes it, JSON does not
        ("soon", "not valid"),
        ("", "not valid"),
        ([_in(300)], "not valid"),
        ({"at": _in(300)}, "not valid"),
        (None, "not valid"),
        (True, "expired"),  # PyJWT reads it as 1 (1970) before Pacte sees it: refused anyway
        (float("nan"), "not valid"),
        (float("inf"), "not valid"),
        (10**400, "within an hour"),  # a valid JSON number, beyond any float
        (1e300, "within an hour"),
        (-(10**400), "expired"),
        (_in(300) + 0.5, None),  # a fraction of a second is still a number of seconds
    ],
    ids=lambda value: repr(value)[:24],
)
def test_an_expiry_that_is_not_a_number_is_refused_like_any_bad_token(
    acme: Organization, exp: object, reason: str | None
) -> None:
    token = signed(acme, claims(exp=exp))
    if reason is None:
        assert widget.read_token(acme, token, now=timezone.now()).email == "dana@acme.example"
        return
    with pytest.raises(WidgetTokenError, match=reason):
        widget.read_token(acme, token, now=timezone.now())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "exp", [str(_in(300)), ["x"], None, 10**400], ids=["str", "list", "null", "huge"]
)
def test_the_frame_answers_a_bad_expiry_with_its_refusal_page_not_an_error(
    acme: Organization, exp: object
) -> None:
    response = post(frame(signed(acme, claims(exp=exp))))
    assert response.status_code == 403
    page = response.content.decode()
    assert "The chat token is not valid." in page or "must expire within an hour" in page
    assert not Contact.objects.filter(email="dana@acme.example").exists()


@pytest.mark.django_db
def test_an_organization_without_a_secret_has_no_widget(world: World) -> None:
    token = jwt.encode(claims(), "x" * 32, algorithm="HS256")
    with pytest.raises(WidgetTokenError, match="not enabled"):
        widget.read_token(world.acme, token, now=timezone.now())


# --- the contact it names ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_user_becomes_a_contact_with_a_login_that_has_no_password(acme: Organization) -> None:
    token = signed(acme, claims(name="Dana Scott", region="north-america"))
    contact = identify(token)
    assert contact.organization == acme and contact.name == "Dana Scott"
    assert contact.region == "north-america" and contact.role == Contact.Role.MEMBER
    assert contact.user is not None and contact.user.is_customer
    assert not contact.user.has_usable_password()
    again = identify(token)
    assert again.pk == contact.pk and User.objects.filter(email="dana@acme.example").count() == 1


@pytest.mark.django_db
def test_a_known_contact_is_found_by_address_whatever_its_case(
    world: World, acme: Organization
) -> None:
    token = signed(acme, claims(email=world.alice.email.upper()))
    contact = identify(token)
    assert contact.pk == world.alice.pk and contact.user == world.alice.user


@pytest.mark.django_db
def test_an_address_of_another_organization_or_of_staff_is_refused(
    world: World, acme: Organization
) -> None:
    contacts = Contact.objects.count()
    for email in (world.bob.email, "someone@acme.example"):
        if email == "someone@acme.example":
            Contact.objects.create(
                organization=acme, name="Staff", email=email, user=world.agent_eu
            )
            contacts += 1
        with pytest.raises(WidgetTokenError, match="cannot use"):
            identify(signed(acme, claims(email=email)))
    assert Contact.objects.count() == contacts


@pytest.mark.django_db
def test_an_organization_unknown_or_without_contract_is_refused(acme: Organization) -> None:
    token = signed(acme, claims())
    with pytest.raises(WidgetTokenError, match="not enabled"):
        identify(token, slug="nobody")
    acme.under_contract = False
    acme.save(update_fields=["under_contract"])
    with pytest.raises(WidgetTokenError, match="not enabled"):  # the same answer: nothing to probe
        identify(token)
    assert not Contact.objects.filter(email="dana@acme.example").exists()


# --- Pacte's credential ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_credential_stands_for_its_contact_until_old_or_the_secret_changes(
    world: World, acme: Organization
) -> None:
    credential = widget.credential_for(world.alice)
    assert widget.contact_from_credential(credential) == world.alice
    assert widget.contact_from_credential(credential[:-2] + "xx") is None
    assert widget.contact_from_credential("") is None
    with time_machine.travel(timezone.now() + timedelta(hours=13)):
        assert widget.contact_from_credential(credential) is None
    services.organization_chat_secret_rotate(organization=acme)
    assert widget.contact_from_credential(credential) is None


# --- the frame's pages -------------------------------------------------------------------------


def frame(token: str = "", credential: str = "", **data: str) -> dict[str, str]:
    return {"organization": "acme", "token": token, "credential": credential, **data}


def csp_directives(response: HttpResponse) -> dict[str, str]:
    """The response's Content-Security-Policy, directive by directive."""
    parts = (part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    return {name: value for name, value in parts}


def post(data: dict[str, str], origin: str = "") -> HttpResponse:
    """The frame's requests as a browser sends them: the token from the product's page, the
    credential from the frame's own (Pacte's) pages."""
    origin = origin or (PACTE if data.get("credential") else PRODUCT)
    # No CSRF token: the host page's form cannot have one.
    client = Client(enforce_csrf_checks=True)
    return client.post(URL, data, HTTP_ORIGIN=origin)  # type: ignore[return-value]


@pytest.mark.django_db
def test_the_frame_opens_for_a_signed_user_and_only_inside_the_organizations_pages(
    acme: Organization,
) -> None:
    with time_machine.travel(OPEN, tick=False):
        response = post(frame(signed(acme, claims())))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Support is open now" in page and "Start the chat" in page
    assert "dana@acme.example" in page and 'name="credential"' in page
    policy = csp_directives(response)
    assert policy["frame-ancestors"] == f"'self' {PRODUCT} http://localhost:3000"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "X-Frame-Options" not in response
    assert not response.cookies  # nothing is kept in the browser: the credential is the key
    assert Client().get(URL).status_code == 405


@pytest.mark.django_db
def test_a_refused_token_shows_why_and_writes_nothing(acme: Organization) -> None:
    contacts, users = Contact.objects.count(), User.objects.count()
    response = post(frame(signed(acme, claims(), key="z" * 40)))
    assert response.status_code == 403
    assert "The chat token is not valid." in response.content.decode()
    # Only a reason on it: the product's page, whatever its origin, may show it.
    assert csp_directives(response)["frame-ancestors"] == "*"
    assert csp_directives(response)["script-src"] == "'self'"
    stale = post({"credential": "forged"})
    assert stale.status_code == 403 and "reload the page" in stale.content.decode()
    assert (Contact.objects.count(), User.objects.count()) == (contacts, users)


@pytest.mark.django_db
def test_starting_a_chat_from_the_frame_and_finding_it_again(acme: Organization) -> None:
    with time_machine.travel(OPEN, tick=False):
        post(frame(signed(acme, claims())))
        dana = Contact.objects.get(email="dana@acme.example")
        credential = widget.credential_for(dana)
        empty = post(frame(credential=credential, action="start", severity="major"))
        assert empty.status_code == 400 and not Ticket.objects.exists()
        start = frame(credential=credential, action="start", severity="major", text="Kiosk down")
        room = post(start)
        assert room.status_code == 200
        session = ChatSession.objects.get()
        assert session.ticket.requester == dana and session.ticket.channel == "chat"
        assert session.state == ChatSession.State.WAITING
        page = room.content.decode()
        assert f'data-url="{session.ticket.reference}"' in page
        assert f'data-credential="{credential}"' in page
        # Sent twice (a double click) or the page reloaded: the same conversation, no other.
        assert post(start).status_code == 200
        assert session.ticket.reference in post(frame(signed(acme, claims()))).content.decode()
        assert ChatSession.objects.count() == 1
        # Once it has ended, a new chat can start.
        services.chat_end(session=session, actor=dana.user)  # type: ignore[arg-type]
        assert "Start the chat" in post(frame(credential=credential)).content.decode()
        post({**start, "text": "Another question"})
    assert ChatSession.objects.count() == 2


@pytest.mark.django_db
def test_outside_hours_the_frame_says_when_support_opens_and_takes_a_message(
    acme: Organization,
) -> None:
    with time_machine.travel(SATURDAY, tick=False):
        page = post(frame(signed(acme, claims()), tz="Europe/Berlin")).content.decode()
        assert "Support is closed; it opens on Mon 8 Jun 2026, 09:00." in page
        assert "Leave the message" in page
        credential = widget.credential_for(Contact.objects.get(email="dana@acme.example"))
        left = post(
            frame(credential=credential, action="start", severity="minor", text="Weekend question"),
        ).content.decode()
    ticket = Ticket.objects.get()
    assert ticket.chat.state == ChatSession.State.ENDED and ticket.clocks.count() == 2
    assert f"your message is ticket {ticket.reference}" in left


@pytest.mark.django_db
def test_the_frame_speaks_the_contacts_language(world: World, acme: Organization) -> None:
    with time_machine.travel(OPEN, tick=False):
        page = post(frame(signed(acme, claims(language="fr")))).content.decode()
    assert '<html lang="fr">' in page and "Discuter avec le support" in page


# --- the WebSocket -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_websocket_signs_the_frame_in_by_its_credential(world: World) -> None:
    from config.asgi import application

    services.organization_chat_secret_rotate(organization=world.acme)
    with time_machine.travel(OPEN, tick=False):
        session = services.chat_start(
            contact=world.alice, actor=world.alice.user, text="Hello", severity="minor"
        )
    credential = widget.credential_for(world.alice)
    other = widget.credential_for(world.amir)  # the organization's admin: sees every ticket
    stranger = client_for(world.bob.user)
    cookie = f"sessionid={stranger.cookies['sessionid'].value}".encode()
    path = f"/ws/chat/{session.ticket.reference}/?after=0"
    origin = (b"origin", b"http://testserver")

    def client(credential: str, *headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
        return WebsocketCommunicator(
            application, path, headers=[origin, *headers], subprotocols=["pacte.widget", credential]
        )

    async def scenario() -> None:
        good = client(credential)
        assert await good.connect() == (True, "pacte.widget")  # named back, as browsers need
        assert (await good.receive_json_from(timeout=2))["type"] == "state"
        assert (await good.receive_json_from(timeout=2))["text"] == "Hello"
        await good.disconnect()
        admin = client(other)
        assert (await admin.connect())[0]
        await admin.disconnect()
        # A bad credential decides, even beside a session cookie of another customer.
        forged = client(credential[:-3] + "abc", (b"cookie", cookie))
        assert not (await forged.connect())[0]
        # Never on the URL: a credential there is ignored.
        on_url = WebsocketCommunicator(application, f"{path}&widget={credential}", headers=[origin])
        assert not (await on_url.connect())[0]

    async_to_sync(scenario)()


# --- managers --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_managers_try_the_widget_on_a_sample_page(world: World, acme: Organization) -> None:
    url = reverse("chat:widget-try")
    manager = world.manager
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    page = client_for(manager).get(url, {"contact": world.alice.pk}).content.decode()
    assert 'src="/static/js/widget.js"' in page and 'data-organization="acme"' in page
    assert world.bob.email not in page  # Globex has no widget secret: not offered
    for user in (world.agent_eu, world.alice.user):
        assert client_for(user).get(url).status_code == 404


@pytest.mark.django_db
def test_the_admin_generates_a_new_secret(world: World, acme: Organization) -> None:
    admin = User.objects.create_superuser("root", "root@pacte.example", "pw")
    before = acme.chat_secret
    response = client_for(admin).post(
        reverse("admin:tickets_organization_changelist"),
        {"action": "rotate_chat_secret", ACTION_CHECKBOX_NAME: [acme.pk]},
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.chat_secret != before and len(acme.chat_secret) >= 32


def test_origins_are_checked_one_a_line() -> None:
    from django.core.exceptions import ValidationError

    from tickets.models.people import validate_origins

    validate_origins("https://app.example.com\nhttp://localhost:3000/")
    for bad in (
        "app.example.com",
        "https://app.example.com/path",
        "javascript:alert(1)",
        "https://*",
        "https://*.com",
        "https://user@app.example.com",
        "https://app.example.com?x",
        "https://app.example.com#x",
        "https://app.example.com:99999",
    ):
        with pytest.raises(ValidationError):
            validate_origins(bad)


# --- what the review found ---------------------------------------------------------------------


@pytest.mark.django_db
def test_new_contacts_only_in_the_organizations_mail_domains(acme: Organization) -> None:
    with pytest.raises(WidgetTokenError, match="cannot use"):
        identify(signed(acme, claims(email="ceo@othercorp.example")))
    acme.chat_domains = ""
    acme.save(update_fields=["chat_domains"])
    with pytest.raises(WidgetTokenError, match="cannot use"):
        identify(signed(acme, claims()))
    assert not Contact.objects.filter(email__in=["ceo@othercorp.example", "dana@acme.example"])


@pytest.mark.django_db
def test_a_token_is_taken_only_from_the_organizations_pages_or_pactes(acme: Organization) -> None:
    token = signed(acme, claims())
    for origin in ("https://evil.example", "null", ""):
        with pytest.raises(WidgetTokenError, match="may not open"):
            identify(token, origin=origin)
    assert identify(token, origin="HTTPS://APP.ACME.EXAMPLE").email == "dana@acme.example"
    assert identify(token, origin=PACTE).email == "dana@acme.example"  # the sample page
    with time_machine.travel(OPEN, tick=False):
        # Another site posting the form at the top level (a login CSRF) gets nothing.
        assert post(frame(token), origin="https://evil.example").status_code == 403
        credential = widget.credential_for(Contact.objects.get(email="dana@acme.example"))
        # The frame's own forms come from Pacte's pages only.
        assert post(frame(credential=credential), origin=PRODUCT).status_code == 403
        assert post(frame(credential=credential)).status_code == 200


@pytest.mark.django_db
def test_staff_never_sign_in_through_the_widget(world: World, acme: Organization) -> None:
    root = User.objects.create_superuser("root", "root@acme.example", "pw")  # role: customer
    contact = Contact.objects.create(
        organization=acme, name="Root", email="root@acme.example", user=root
    )
    with pytest.raises(WidgetTokenError, match="cannot use"):
        identify(signed(acme, claims(email="root@acme.example")))
    assert widget.contact_from_credential(widget.credential_for(contact)) is None


@pytest.mark.django_db
def test_odd_but_valid_input_never_fails(acme: Organization) -> None:
    contact = identify(signed(acme, claims(email="o'brien+kiosk@acme.example")))
    assert contact.user is not None and contact.user.username.startswith("chat-")
    with pytest.raises(WidgetTokenError, match="valid email"):
        identify(signed(acme, claims(name="Nul\x00l")))
    with time_machine.travel(OPEN, tick=False):
        for data in (
            frame(signed(acme, claims()), organization="ac\x00me"),
            frame(signed(acme, claims()), organization="x" * 5000),
            {"credential": "a.b.c\x00"},
        ):
            assert post(data).status_code == 403
        page = post(frame(signed(acme, claims()), tz="Not/AZone\x00")).content.decode()
        assert "Start the chat" in page
