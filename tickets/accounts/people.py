"""Organizations manage their own people: an organization's admin invites colleagues by mail
(each sets their password through a signed link that expires and works once), deactivates
them, makes them admins or members. Only an organization under contract has people who sign
in: the SLA serves the customer's users, not their event participants."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tickets.accounts.audit import audit_record
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.models import AuditEvent, Contact, OutboundMail, User
from tickets.services.customer_mail import new_mail_id

SALT = "pacte.invitation"


@dataclass(frozen=True)
class Invitation:
    contact: Contact
    url: str


def _admin_of(user: User) -> Contact:
    """The contact an organization admin acts as; refused for anyone else."""
    contact = Contact.objects.select_related("organization").filter(user=user).first()
    if contact is None or not contact.is_org_admin or not user.is_active:
        raise PermissionDeniedError(_("Only your organization's administrators manage its people."))
    if not contact.organization.under_contract:
        raise PermissionDeniedError(
            _("%(org)s has no support contract: its people cannot be invited.")
            % {"org": contact.organization.name}
        )
    return contact


def _password_mark(user: User) -> str:
    """Changes when the password is set: a used invitation stops working."""
    return hashlib.sha256(user.password.encode()).hexdigest()[:16]


def invitation_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "p": _password_mark(user)}, salt=SALT)


def invitation_user(token: str) -> User | None:
    """The invited user a token names, if it is recent and unused; else None."""
    max_age = settings.PACTE_INVITATION_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:  # altered, or expired (SignatureExpired is one)
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.has_usable_password():
        return None
    if not constant_time_compare(str(data.get("p", "")), _password_mark(user)):
        return None
    return user


def _username_for(email: str) -> str:
    base = slugify(email.partition("@")[0])[:140] or "user"
    name, n = base, 1
    while User.objects.filter(username=name).exists():
        n += 1
        name = f"{base}{n}"
    return name


@transaction.atomic
def colleague_invite(
    *, by: User, name: str, email: str, admin: bool = False, ip: str | None = None
) -> Invitation:
    """Add a colleague to the inviting admin's organization and mail them a link to set their
    password. An address already invited but never used gets a fresh link."""
    inviter = _admin_of(by)
    organization = inviter.organization
    name, email = " ".join(name.split()), email.strip()
    if not name:
        raise TicketError(_("Give your colleague's name."), field="name")
    if not organization.may_invite(email):
        raise TicketError(
            _("Invitations go to addresses of %(domains)s only.")
            % {"domains": ", ".join(organization.invitation_domains.split())},
            field="email",
        )
    contact = Contact.objects.select_related("user").filter(email__iexact=email).first()
    taken = User.objects.filter(email__iexact=email)
    if contact is not None and contact.user_id is not None:
        taken = taken.exclude(pk=contact.user_id)
    if (
        taken.exists()
        or (contact is not None and contact.organization_id != organization.pk)
        or (contact is not None and contact.user is not None and contact.user.has_usable_password())
    ):
        # One answer whatever the reason: an admin learns nothing of other organizations.
        raise TicketError(_("This address cannot be invited."), field="email")
    role = Contact.Role.ADMIN if admin else Contact.Role.MEMBER
    if contact is None:
        contact = Contact(organization=organization, email=email)
    contact.name, contact.role = name, role
    contact.region, contact.language = inviter.region, inviter.language
    if contact.user is None:
        first, _sep, last = name.partition(" ")
        user = User(
            username=_username_for(email), email=email, first_name=first[:150], last_name=last[:150]
        )
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        contact.user = user
    else:  # invited again: a new random unusable password, so the earlier link stops working
        contact.user.set_unusable_password()
        contact.user.save(update_fields=["password"])
    contact.full_clean(exclude=["organization", "user"])
    contact.save()
    assert contact.user is not None
    url = settings.PACTE_BASE_URL + reverse("invitation", args=[invitation_token(contact.user)])
    _mail_invitation(contact=contact, inviter=inviter, url=url)
    audit_record(
        AuditEvent.Kind.INVITATION,
        actor=by,
        target=contact.email,
        ip=ip,
        detail={"organization": organization.name, "role": role},
    )
    return Invitation(contact=contact, url=url)


def _mail_invitation(*, contact: Contact, inviter: Contact, url: str) -> None:
    context = {
        "contact": contact,
        "inviter": inviter,
        "organization": contact.organization,
        "url": url,
        "days": settings.PACTE_INVITATION_DAYS,
    }
    with translation.override(contact.language):
        subject = _("%(name)s invites you to Pacte") % {"name": inviter.name}
        text = render_to_string("account/email/invitation.txt", context)
        html = render_to_string("account/email/invitation.html", context)
    OutboundMail.objects.create(
        kind=OutboundMail.Kind.ACCOUNT,
        from_address=settings.DEFAULT_FROM_EMAIL,
        to_address=contact.email,
        to_name=contact.name,
        language=contact.language,
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}"[:255],
        text=text,
        html=html,
        mail_id=new_mail_id(),
    )


def _colleague(admin: Contact, pk: int) -> Contact:
    contact = (
        Contact.objects.select_related("user")
        .filter(pk=pk, organization=admin.organization)
        .first()
    )
    if contact is None:
        raise PermissionDeniedError(_("This person is not of your organization."))
    return contact


@transaction.atomic
def colleague_set_active(
    *, by: User, contact_id: int, active: bool, ip: str | None = None
) -> Contact:
    """Turn a colleague's sign-in off (their sessions end at once) or on again."""
    admin = _admin_of(by)
    contact = _colleague(admin, contact_id)
    if contact.pk == admin.pk:
        raise TicketError(_("You cannot turn your own sign-in off."))
    if contact.user is None:
        raise TicketError(_("This person has no account."))
    contact.user.is_active = active
    contact.user.save(update_fields=["is_active"])
    if not active:
        for session in UserSession.objects.filter(user=contact.user):
            session.end()
    kind = AuditEvent.Kind.ACCOUNT_TURNED_ON if active else AuditEvent.Kind.ACCOUNT_TURNED_OFF
    audit_record(kind, actor=by, target=contact.email, ip=ip)
    return contact


@transaction.atomic
def colleague_set_role(*, by: User, contact_id: int, admin: bool, ip: str | None = None) -> Contact:
    """Make a colleague an admin of the organization, or a member; one admin always stays."""
    inviter = _admin_of(by)
    contact = _colleague(inviter, contact_id)
    role = Contact.Role.ADMIN if admin else Contact.Role.MEMBER
    if not admin and contact.is_org_admin:
        admins = Contact.objects.filter(
            organization=inviter.organization, role=Contact.Role.ADMIN, user__is_active=True
        )
        if admins.exclude(pk=contact.pk).count() == 0:
            raise TicketError(_("The organization needs at least one administrator."))
    before = contact.role
    contact.role = role
    contact.save(update_fields=["role"])
    audit_record(
        AuditEvent.Kind.ROLE_CHANGED,
        actor=by,
        target=contact.email,
        ip=ip,
        detail={"organization role": [before, role]},
    )
    return contact
