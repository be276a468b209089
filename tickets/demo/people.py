"""The demo's people: the staff (a manager, a superuser, an agent per desk) and the customers'
contacts with their logins, all signing in with DEMO_PASSWORD."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from tickets.models import Contact, Organization, Region, User

DEMO_PASSWORD = "pacte-demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    description: str


LOGINS = [
    DemoLogin("maya", "manager", "Manager and head of support: every desk, configuration"),
    DemoLogin("admin", "manager", "Superuser for the Django admin"),
    DemoLogin("anna", "agent", "Agent, Europe desk (Berlin hours)"),
    DemoLogin("nate", "agent", "Agent, North America desk (New York hours)"),
    DemoLogin("fanny", "agent", "Agent, France desk (Paris hours)"),
    DemoLogin("klaus", "customer", "Kiosk Vision (99.5 %), organization admin, Europe"),
    DemoLogin("petra", "customer", "Kiosk Vision (99.5 %), member, Europe"),
    DemoLogin("olivia", "customer", "Kiosk Vision (99.5 %), member, North America"),
    DemoLogin("camille", "customer", "Eventia (99.8 %), organization admin, France"),
]


@dataclass(frozen=True)
class Staff:
    maya: User  # manager, head of support
    anna: User  # Europe
    nate: User  # North America
    fanny: User  # France


@dataclass(frozen=True)
class Customers:
    klaus: Contact  # Kiosk Vision, organization admin
    petra: Contact  # Kiosk Vision
    olivia: Contact  # Kiosk Vision, North America
    camille: Contact  # Eventia, organization admin, in French


def staff_seed() -> Staff:
    maya = _user("maya", User.Role.MANAGER, "Maya", "Schneider", staff=True)
    if not maya.head_of_support:
        maya.head_of_support = True  # alerted when a deadline is far overrun
        maya.save(update_fields=["head_of_support"])
    _user("admin", User.Role.MANAGER, "Admin", "Pacte", staff=True, superuser=True)
    anna = _user("anna", User.Role.AGENT, "Anna", "Becker", time_zone="Europe/Berlin")
    nate = _user("nate", User.Role.AGENT, "Nate", "Walker", time_zone="America/New_York")
    fanny = _user(
        "fanny", User.Role.AGENT, "Fanny", "Moreau", language="fr", time_zone="Europe/Paris"
    )
    for user in User.objects.filter(username__in=[login.username for login in LOGINS]).exclude(
        role=User.Role.CUSTOMER
    ):
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, generate_totp_secret())  # staff sign in with a second factor
    return Staff(maya=maya, anna=anna, nate=nate, fanny=fanny)


def customers_seed(*, kiosk: Organization, eventia: Organization) -> Customers:
    klaus = _contact(
        kiosk,
        _user("klaus", User.Role.CUSTOMER, "Klaus", "Richter", time_zone="Europe/Berlin"),
        "klaus@kiosk-vision.example",
        role=Contact.Role.ADMIN,
    )
    petra = _contact(
        kiosk,
        _user("petra", User.Role.CUSTOMER, "Petra", "Wolf", time_zone="Europe/Berlin"),
        "petra@kiosk-vision.example",
    )
    olivia = _contact(
        kiosk,
        _user("olivia", User.Role.CUSTOMER, "Olivia", "Brooks", time_zone="America/Chicago"),
        "olivia@kiosk-vision.example",
        region=Region.NORTH_AMERICA,
    )
    camille = _contact(
        eventia,
        _user(
            "camille",
            User.Role.CUSTOMER,
            "Camille",
            "Durand",
            language="fr",
            time_zone="Europe/Paris",
        ),
        "camille@eventia.example",
        role=Contact.Role.ADMIN,
        language="fr",
    )
    return Customers(klaus=klaus, petra=petra, olivia=olivia, camille=camille)


def _user(
    username: str,
    role: str,
    first: str,
    last: str,
    *,
    language: str = "en",
    time_zone: str = "",
    staff: bool = False,
    superuser: bool = False,
) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "role": role,
            "first_name": first,
            "last_name": last,
            "email": f"{username}@pacte.example",
            "language": language,
            "time_zone": time_zone,
            "is_staff": staff,
            "is_superuser": superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _contact(
    org: Organization,
    user: User,
    email: str,
    *,
    role: str = Contact.Role.MEMBER,
    region: str = Region.EUROPE,
    language: str = "en",
) -> Contact:
    contact, _ = Contact.objects.get_or_create(
        email=email,
        defaults={
            "organization": org,
            "user": user,
            "name": user.get_full_name(),
            "role": role,
            "region": region,
            "language": language,
        },
    )
    return contact
