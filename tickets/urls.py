from django.urls import path

from tickets.views import clocks, desk, files, portal

app_name = "tickets"

urlpatterns = [
    path("", portal.ticket_list, name="list"),
    path("new/", portal.ticket_create, name="create"),
    path("<str:reference>/", portal.ticket_detail, name="detail"),
    path("<str:reference>/reply/", portal.ticket_reply, name="reply"),
    path("<str:reference>/status/", portal.ticket_status, name="status"),
    path("<str:reference>/acknowledge/", desk.ticket_acknowledge, name="acknowledge"),
    path("<str:reference>/assign/", desk.ticket_assign, name="assign"),
    path("<str:reference>/reclassify/", desk.ticket_reclassify, name="reclassify"),
    path("<str:reference>/clocks/<str:metric>/", clocks.clock_explain, name="clock-explain"),
]

desk_urlpatterns = ([path("", desk.queue, name="queue")], "desk")
file_urlpatterns = ([path("<str:key>/", files.attachment_download, name="download")], "files")
