from django.urls import path

from tickets.api import views

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenApi.as_view(), name="token"),
    path("tickets/", views.TicketsApi.as_view(), name="tickets"),
    path("tickets/<str:reference>/", views.TicketDetailApi.as_view(), name="ticket-detail"),
    path(
        "tickets/<str:reference>/messages/",
        views.TicketMessagesApi.as_view(),
        name="ticket-messages",
    ),
    path("tickets/<str:reference>/status/", views.TicketStatusApi.as_view(), name="ticket-status"),
    path(
        "tickets/<str:reference>/acknowledge/",
        views.TicketAcknowledgeApi.as_view(),
        name="ticket-acknowledge",
    ),
    path("tickets/<str:reference>/assign/", views.TicketAssignApi.as_view(), name="ticket-assign"),
    path(
        "tickets/<str:reference>/reclassify/",
        views.TicketReclassifyApi.as_view(),
        name="ticket-reclassify",
    ),
    path(
        "attachments/<str:key>/", views.AttachmentDownloadApi.as_view(), name="attachment-download"
    ),
]
