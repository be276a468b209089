"""The security audit log: one append-only line per sign-in, refusal, sign-out, second factor
added or removed, password reset or change, invitation, role or desk change, API token, export
and configuration change made in the admin. Managers read, filter and download it; lines older
than PACTE_AUDIT_RETENTION_DAYS are deleted by a daily sweep.

Pacte's own services call `audit_record`; what django-allauth and Django's auth do is heard
through their signals (connected in `TicketsConfig.ready`); the admin's changes through
`Audited`, the base of every admin class that edits configuration."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from sla.reports.export import spreadsheet_safe
from tickets.models import AuditEvent, User

Kind = AuditEvent.Kind
# Fields of a user whose change in the admin is a change of role.
ROLE_FIELDS = {"role", "is_staff", "is_superuser", "is_active", "groups", "user_permissions"}
ROLE_LABELS = {"Role", "Staff status", "Superuser status", "Active", "Groups", "User permissions"}


def client_address(request: HttpRequest | None) -> str | None:
    """Where a request came from (REMOTE_ADDR: behind a proxy, uvicorn's --forwarded-allow-ips
    makes it the client's)."""
    return request.META.get("REMOTE_ADDR") or None if request is not None else None


def audit_record(
    kind: str,
    *,
    actor: User | None = None,
    target: str = "",
    request: HttpRequest | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one line to the audit log (the address from the request, or given)."""
    if actor is None and request is not None and isinstance(request.user, User):
        actor = request.user if request.user.is_authenticated else None
    return AuditEvent.objects.create(
        at=at or timezone.now(),
        kind=kind,
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        target=target[:255],
        ip=ip or client_address(request),
        detail=detail or {},
    )


def audit_purge(*, now: datetime) -> int:
    """Delete the lines older than the retention; how many."""
    cutoff = now - timedelta(days=settings.PACTE_AUDIT_RETENTION_DAYS)
    deleted, _rows = AuditEvent.objects.filter(at__lt=cutoff).delete()
    return deleted


CSV_HEADER = ["when (UTC)", "what", "by", "on", "address", "detail"]


def audit_rows(events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    """The lines as CSV rows, streamed from one query."""
    yield CSV_HEADER
    for event in events.iterator(chunk_size=2000):
        detail = (
            json.dumps(event.detail, ensure_ascii=False, sort_keys=True) if event.detail else ""
        )
        cells = [event.kind, event.actor_name, event.target, event.ip or "", detail]
        yield [event.at.astimezone(UTC).isoformat(), *map(str, map(spreadsheet_safe, cells))]


# --- what django-allauth and Django's auth do ---------------------------------------------------


def on_signed_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_record(Kind.SIGN_IN, actor=user, target=user.get_username(), request=request)


def on_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    name = str(credentials.get("username") or credentials.get("email") or "")
    audit_record(Kind.SIGN_IN_FAILED, target=name, request=request)


def on_signed_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_record(Kind.SIGN_OUT, actor=user, target=user.get_username(), request=request)


def on_password_changed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_record(Kind.PASSWORD_CHANGED, actor=user, target=user.get_username(), request=request)


def on_password_reset(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_record(Kind.PASSWORD_RESET, actor=user, target=user.get_username(), request=request)


def on_factor_added(
    sender: Any, request: HttpRequest | None, user: User, authenticator: Any, **kwargs: Any
) -> None:
    kind = (
        Kind.RECOVERY_CODES if authenticator.type == "recovery_codes" else Kind.SECOND_FACTOR_ADDED
    )
    audit_record(
        kind, actor=user, target=user.get_username(), request=request,
        detail={"type": authenticator.type},
    )  # fmt: skip


def on_factor_removed(
    sender: Any, request: HttpRequest | None, user: User, authenticator: Any, **kwargs: Any
) -> None:
    audit_record(
        Kind.SECOND_FACTOR_REMOVED, actor=user, target=user.get_username(), request=request,
        detail={"type": authenticator.type},
    )  # fmt: skip


def on_factor_reset(
    sender: Any, request: HttpRequest | None, user: User, authenticator: Any, **kwargs: Any
) -> None:
    audit_record(Kind.RECOVERY_CODES, actor=user, target=user.get_username(), request=request)


def connect_signals() -> None:
    from allauth.account import signals as account_signals
    from allauth.mfa import signals as mfa_signals
    from django.contrib.auth import signals as auth_signals

    pairs = [
        (auth_signals.user_logged_in, on_signed_in),
        (auth_signals.user_login_failed, on_sign_in_failed),
        (auth_signals.user_logged_out, on_signed_out),
        (account_signals.password_changed, on_password_changed),
        (account_signals.password_reset, on_password_reset),
        (mfa_signals.authenticator_added, on_factor_added),
        (mfa_signals.authenticator_removed, on_factor_removed),
        (mfa_signals.authenticator_reset, on_factor_reset),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"pacte.audit.{receiver.__name__}")


# --- the admin ---------------------------------------------------------------------------------


def _changed_fields(message: Any) -> list[str]:
    entries = json.loads(message) if isinstance(message, str) and message else message or []
    fields: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        fields += entry.get("changed", {}).get("fields", [])
    return fields


class Audited(admin.options.BaseModelAdmin):  # of any model
    """Every addition, change and deletion made in the admin goes to the audit log; a user's
    role and a desk's agents as their own kinds."""

    def _audit(self, request: HttpRequest, obj: Model, action: str, fields: list[str]) -> None:
        kind = Kind.ADMIN_CHANGE
        if isinstance(obj, User) and (ROLE_FIELDS | ROLE_LABELS) & set(fields):
            kind = Kind.ROLE_CHANGED
        elif obj._meta.label == "tickets.Desk" and {"agents", "Agents"} & set(fields):
            kind = Kind.DESKS_CHANGED
        audit_record(
            kind,
            target=f"{obj._meta.verbose_name}: {obj}",
            request=request,
            detail={"model": obj._meta.label, "id": obj.pk, "action": action, "fields": fields},
        )

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, obj, "added", [])
        return super().log_addition(request, obj, message)  # type: ignore[misc]  # ModelAdmin's

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, obj, "changed", _changed_fields(message))
        return super().log_change(request, obj, message)  # type: ignore[misc]  # ModelAdmin's

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, obj, "deleted", [])
        return super().log_deletions(request, queryset)  # type: ignore[misc]  # ModelAdmin's
