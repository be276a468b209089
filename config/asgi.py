"""HTTP through Django; WebSockets (live chat) through Channels, from the allowed hosts only,
for signed-in users (a session, or the embedded widget's credential)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

django_application = get_asgi_application()  # sets Django up before the consumers import

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from tickets.channels.chat.middleware import WidgetCredentialMiddleware  # noqa: E402
from tickets.channels.chat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(WidgetCredentialMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
