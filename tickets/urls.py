from django.urls import path

from tickets.views import (
    audit,
    backups,
    clocks,
    credits,
    desk,
    files,
    followers,
    mail,
    personal_data,
    portal,
    reports,
    satisfaction,
    service_levels,
    tags,
    triage,
    workspace,
)

app_name = "tickets"

urlpatterns = [
    path("", portal.ticket_list, name="list"),
    path("new/", portal.ticket_create, name="create"),
    path("service-levels/", service_levels.service_levels, name="service-levels"),
    path("reports/", service_levels.organization_report, name="reports"),
    path("<str:reference>/", portal.ticket_detail, name="detail"),
    path("<str:reference>/reply/", portal.ticket_reply, name="reply"),
    path("<str:reference>/reopen/", portal.ticket_reopen, name="reopen"),
    path("<str:reference>/satisfaction/", satisfaction.rate_on_ticket, name="rate"),
    path("<str:reference>/tags/", tags.ticket_tags, name="tags"),
    path("<str:reference>/followers/", followers.ticket_follower_add, name="follower-add"),
    path(
        "<str:reference>/followers/<int:pk>/remove/",
        followers.ticket_follower_remove,
        name="follower-remove",
    ),
    path("<str:reference>/status/", portal.ticket_status, name="status"),
    path("<str:reference>/acknowledge/", desk.ticket_acknowledge, name="acknowledge"),
    path("<str:reference>/assign/", desk.ticket_assign, name="assign"),
    path("<str:reference>/reclassify/", desk.ticket_reclassify, name="reclassify"),
    path(
        "<str:reference>/severity/confirm/",
        triage.ticket_severity_confirm,
        name="severity-confirm",
    ),
    path(
        "<str:reference>/severity/suggested/",
        triage.ticket_severity_suggested,
        name="severity-suggested",
    ),
    path("<str:reference>/merge/", workspace.ticket_merge, name="merge"),
    path("<str:reference>/clocks/<str:metric>/", clocks.clock_explain, name="clock-explain"),
]

desk_urlpatterns = (
    [
        path("", desk.queue, name="queue"),
        path("bulk/", desk.queue_bulk, name="bulk"),
        path("views/", desk.queue_view_save, name="view-save"),
        path("views/<int:pk>/delete/", desk.queue_view_delete, name="view-delete"),
        path("call/", desk.phone_call, name="call"),
        path("reports/", reports.sla_report, name="reports"),
        path("audit/", audit.audit_log, name="audit"),
        path("audit/log.csv", audit.audit_log_csv, name="audit-csv"),
        path("backups/", backups.backups, name="backups"),
        path("personal-data/", personal_data.personal_data, name="personal-data"),
        path(
            "personal-data/<int:pk>/export.zip",
            personal_data.personal_data_download,
            name="personal-data-export",
        ),
        path(
            "personal-data/<int:pk>/erase/",
            personal_data.personal_data_erase_view,
            name="personal-data-erase",
        ),
        path("reports/sla.csv", reports.sla_report_csv, name="reports-csv"),
        path("reports/credits.csv", credits.credits_csv, name="credits-csv"),
        path("reports/availability/", reports.availability_report, name="availability"),
        path("reports/monthly/<slug:slug>/", reports.monthly_report, name="monthly-report"),
        path("canned/", workspace.canned_list, name="canned-list"),
        path("canned/new/", workspace.canned_edit, name="canned-new"),
        path("canned/<int:pk>/", workspace.canned_edit, name="canned-edit"),
        path("canned/<int:pk>/delete/", workspace.canned_delete, name="canned-delete"),
        path("faq/", workspace.article_list_staff, name="faq-list"),
        path("faq/new/", workspace.article_edit, name="faq-new"),
        path("faq/<int:pk>/", workspace.article_edit, name="faq-edit"),
        path("faq/<int:pk>/delete/", workspace.article_delete, name="faq-delete"),
        path("mail/", mail.mail_list, name="mail-list"),
        path("mail/<int:pk>/", mail.mail_detail, name="mail-detail"),
        path("mail/<int:pk>/original/", mail.mail_raw, name="mail-raw"),
        path("mail/<int:pk>/accept/", mail.mail_accept, name="mail-accept"),
        path("mail/<int:pk>/attach/", mail.mail_attach, name="mail-attach"),
        path("mail/<int:pk>/discard/", mail.mail_discard, name="mail-discard"),
        path("mail/<int:pk>/retry/", mail.mail_retry_view, name="mail-retry"),
    ],
    "desk",
)
inbound_urlpatterns = ([path("<slug:slug>/", mail.inbound_webhook, name="webhook")], "inbound")
file_urlpatterns = (
    [
        path("<str:key>/", files.attachment_download, name="download"),
        path("<str:key>/preview/", files.attachment_preview, name="preview"),
    ],
    "files",
)
