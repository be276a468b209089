from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView

from tickets.api.docs import ApiDocs
from tickets.urls import desk_urlpatterns, file_urlpatterns, inbound_urlpatterns
from tickets.views import (
    account,
    chat,
    chat_widget,
    faq,
    notifications,
    people,
    portal,
    satisfaction,
    status,
)

chat_urlpatterns = (
    [
        path("", chat.chat_start, name="start"),
        path("waiting/", chat.chat_waiting, name="waiting"),
        path("widget/", chat_widget.chat_widget, name="widget"),
        path("widget/try/", chat_widget.chat_widget_try, name="widget-try"),
        path("<str:reference>/", chat.chat_room, name="room"),
    ],
    "chat",
)
satisfaction_urlpatterns = (
    [path("<str:token>/", satisfaction.rate_by_link, name="rate")],
    "satisfaction",
)
faq_urlpatterns = (
    [
        path("", faq.faq_index, name="index"),
        path("suggest/", faq.faq_suggest, name="suggest"),
        path("area/<slug:slug>/", faq.faq_area, name="area"),
        path("<slug:slug>/", faq.faq_article, name="article"),
    ],
    "faq",
)

# The admin signs in through Pacte's own sign-in page, second factor included.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # documented

urlpatterns = [
    path("", portal.home, name="home"),
    path("i18n/setlang/", account.language_switch, name="set_language"),
    path("accounts/preferences/", account.preferences, name="preferences"),
    path("accounts/sessions/", account.sessions, name="sessions"),
    path("accounts/sessions/<int:pk>/end/", account.session_end_view, name="session-end"),
    path("accounts/invitation/<str:token>/", people.invitation, name="invitation"),
    path("accounts/", include("allauth.urls")),
    path("organization/people/", people.people, name="people"),
    path("organization/people/<int:pk>/", people.people_change, name="people-change"),
    path("api-tokens/", account.api_tokens, name="api-tokens"),
    path("api-tokens/<int:pk>/revoke/", account.api_token_revoke_view, name="api-token-revoke"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("tickets/", include("tickets.urls")),
    path("desk/", include(desk_urlpatterns)),
    path("faq/", include(faq_urlpatterns)),
    path("chat/", include(chat_urlpatterns)),
    path("status/<slug:slug>/", status.status_page, name="status"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notification_read_all, name="notifications-read-all"),
    path("notifications/<int:pk>/", notifications.notification_open, name="notification-open"),
    path("attachments/", include(file_urlpatterns)),
    path("satisfaction/", include(satisfaction_urlpatterns)),
    path("mail/inbound/", include(inbound_urlpatterns)),
    path("api/", include("tickets.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocs.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
]
