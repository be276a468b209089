from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from tickets.models import (
    Attachment,
    Contact,
    Desk,
    DeskAddress,
    Message,
    Organization,
    Ticket,
    TicketEvent,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Pacte", {"fields": ("role", "language", "time_zone")}),
    )
    list_display = ["username", "email", "first_name", "last_name", "role", "is_staff"]
    list_filter = ["role", "is_staff", "is_active"]


class DeskAddressInline(admin.TabularInline):
    model = DeskAddress
    extra = 0


@admin.register(Desk)
class DeskAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "email", "calendar", "lead"]
    filter_horizontal = ["agents"]
    inlines = [DeskAddressInline]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "under_contract", "sla_policy", "availability_commitment"]
    list_filter = ["under_contract", "sla_policy"]
    filter_horizontal = ["desks"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "organization", "role", "region"]
    list_filter = ["organization", "role", "region"]
    search_fields = ["name", "email"]
    raw_id_fields = ["user"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tickets and their history change only through the services (which keep the clocks)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
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
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "author", "is_internal", "channel", "received_at"]
    list_select_related = ["ticket", "author"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["filename", "ticket", "content_type", "size"]


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "kind", "field", "before", "after", "actor", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["ticket", "actor"]
