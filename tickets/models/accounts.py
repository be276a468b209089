"""What accounts hold beside the user: API tokens."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A key for the API's ``Authorization: Token …`` header. The key is shown once, when it
    is created; Pacte keeps only its SHA-256 and its first characters, to tell keys apart.
    It stops working when it expires or is revoked."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("starts with"), max_length=8)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class AuditEvent(models.Model):
    """One line of the security audit log: who did what to which account or setting, from
    where. Append-only: a line is never changed (the database refuses it), only deleted by the
    retention sweep once older than PACTE_AUDIT_RETENTION_DAYS."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in refused")
        SIGN_OUT = "sign_out", _("Signed out")
        SECOND_FACTOR_ADDED = "mfa_added", _("Second factor added")
        SECOND_FACTOR_REMOVED = "mfa_removed", _("Second factor removed")
        RECOVERY_CODES = "recovery_codes", _("Recovery codes generated")
        PASSWORD_RESET_ASKED = "password_reset_asked", _("Password reset asked")
        PASSWORD_RESET = "password_reset", _("Password reset")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        INVITATION = "invitation", _("Colleague invited")
        ACCOUNT_TURNED_OFF = "account_off", _("Sign-in turned off")
        ACCOUNT_TURNED_ON = "account_on", _("Sign-in turned on")
        ROLE_CHANGED = "role_changed", _("Role changed")
        DESKS_CHANGED = "desks_changed", _("Desks changed")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        SESSION_ENDED = "session_ended", _("Session signed out")
        EXPORT = "export", _("Export")
        ADMIN_CHANGE = "admin_change", _("Configuration changed")
        PERSONAL_DATA_EXPORT = "personal_export", _("Personal data exported")
        PERSONAL_DATA_ERASED = "personal_erased", _("Personal data erased")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    kind = models.CharField(_("what"), max_length=24, choices=Kind, db_index=True)
    # No constraint and nothing done when the user is deleted: a line is never changed, and
    # actor_name keeps who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)  # kept if the user goes
    target = models.CharField(_("on"), max_length=255, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.actor_name} {self.target}"
