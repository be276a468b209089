"""The Django admin: managers edit the configuration; tickets are read-only here."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tickets import access
from tickets.accounts.audit import Audited
from tickets.channels.chat.services import organization_chat_secret_rotate
from tickets.models import (
    Attachment,
    Contact,
    Desk,
    DeskAddress,
    InboundMail,
    Mailbox,
    Message,
    Organization,
    OutboundMail,
    Ticket,
    TicketEvent,
    User,
)


def is_manager(request: HttpRequest) -> bool:
    user = request.user
    return isinstance(user, User) and access.may_configure(user)


class ManagerEditable(Audited):  # of any model
    """Managers may edit this configuration, beside users given Django permissions."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_manager(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return is_manager(request) or super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_manager(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_manager(request) or super().has_delete_permission(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_manager(request) or super().has_module_permission(request)


class ReadOnly(admin.options.BaseModelAdmin):  # of any model
    """Shown to managers, changed only through the services (which keep history and clocks)."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_manager(request) or super().has_view_permission(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_manager(request) or super().has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(Audited, BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Pacte", {"fields": ("role", "language", "time_zone")}),
    )
    list_display = ["username", "email", "first_name", "last_name", "role", "is_staff"]
    list_filter = ["role", "is_staff", "is_active"]


class DeskAddressInline(ManagerEditable, admin.TabularInline):
    model = DeskAddress
    extra = 0


KEEP_HELP = _("Stored encrypted and never shown; leave empty to keep the current one.")


def _secret_input(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=KEEP_HELP,
    )


class SecretsForm(forms.ModelForm):  # of any model
    """Secrets are never sent back to the browser. A secret field left empty keeps the stored
    value; `<name>_clear`, where the form declares it, empties it (turns the feature off)."""

    secrets: tuple[str, ...] = ()

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        for name in self.secrets:
            if cleaned.get(name):
                continue
            if cleaned.get(f"{name}_clear"):
                cleaned[name] = ""
            elif self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
            elif not self.instance._meta.get_field(name).blank:
                self.add_error(name, forms.Field.default_error_messages["required"])
        return cleaned


class MailboxForm(SecretsForm):
    secrets = ("password",)
    password = _secret_input(_("password"))

    class Meta:
        model = Mailbox
        fields = [
            "host",
            "port",
            "security",
            "ca_bundle",
            "username",
            "password",
            "folder",
            "done_folder",
            "active",
        ]


class MailboxInline(ManagerEditable, admin.StackedInline):
    model = Mailbox
    form = MailboxForm
    extra = 0
    readonly_fields = ["last_polled_at", "last_error"]


class DeskForm(SecretsForm):
    secrets = ("inbound_secret",)
    inbound_secret = _secret_input(_("inbound webhook secret"))
    inbound_secret_clear = forms.BooleanField(
        label=_("Remove the webhook secret (turns the webhook off)"), required=False
    )

    class Meta:
        model = Desk
        fields = "__all__"  # noqa: DJ007  # every field, as the admin's default form; new ones too


@admin.register(Desk)
class DeskAdmin(ManagerEditable, admin.ModelAdmin):
    form = DeskForm
    list_display = ["name", "region", "email", "calendar", "lead"]
    filter_horizontal = ["agents"]
    inlines = [DeskAddressInline, MailboxInline]


class OrganizationForm(SecretsForm):
    secrets = ("chat_secret",)
    chat_secret = _secret_input(_("chat widget secret"))
    chat_secret_clear = forms.BooleanField(
        label=_("Remove the chat widget secret (turns the widget off)"), required=False
    )

    class Meta:
        model = Organization
        fields = "__all__"  # noqa: DJ007  # every field, as the admin's default form; new ones too


@admin.register(Organization)
class OrganizationAdmin(ManagerEditable, admin.ModelAdmin):
    form = OrganizationForm
    list_display = ["name", "under_contract", "sla_policy", "availability_commitment"]
    list_filter = ["under_contract", "sla_policy"]
    filter_horizontal = ["desks"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["rotate_chat_secret"]

    @admin.action(description=_("Generate a new chat widget secret"))
    def rotate_chat_secret(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        # Shown this once (the form never shows a stored secret).
        rotated = [
            organization_chat_secret_rotate(organization=organization) for organization in queryset
        ]
        self.message_user(
            request,
            _("New chat widget secrets, shown only now: give them to their developers. %(list)s")
            % {"list": "; ".join(f"{o}: {o.chat_secret}" for o in rotated)},
        )


@admin.register(Contact)
class ContactAdmin(ManagerEditable, admin.ModelAdmin):
    list_display = ["name", "email", "organization", "role", "region"]
    list_filter = ["organization", "role", "region"]
    search_fields = ["name", "email"]
    raw_id_fields = ["user"]


@admin.register(Ticket)
class TicketAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "__str__",
        "severity",
        "status",
        "channel",
        "organization",
        "desk",
        "assignee",
        "received_at",
    ]
    list_filter = ["status", "severity", "channel", "desk"]
    list_select_related = ["organization", "desk", "assignee"]
    search_fields = ["subject"]


@admin.register(Message)
class MessageAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["ticket", "author", "is_internal", "channel", "received_at"]
    list_select_related = ["ticket", "author"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["filename", "ticket", "content_type", "size"]


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["ticket", "kind", "field", "before", "after", "actor", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["ticket", "actor"]


@admin.register(InboundMail)
class InboundMailAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["received_at", "sender", "subject", "desk", "status", "source"]
    list_filter = ["status", "source", "desk"]
    search_fields = ["sender", "subject", "mail_id"]
    exclude = ["raw"]  # downloaded from the staff mail page


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "to_address", "subject", "kind", "state", "attempts"]
    list_filter = ["state", "kind"]
    search_fields = ["to_address", "subject", "mail_id"]
