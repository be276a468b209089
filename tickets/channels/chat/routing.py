from django.urls import path

from tickets.channels.chat.consumers import ChatConsumer
from tickets.channels.presence.consumers import TicketPresenceConsumer

websocket_urlpatterns = [
    path("ws/chat/<str:reference>/", ChatConsumer.as_asgi()),
    path("ws/tickets/<str:reference>/presence/", TicketPresenceConsumer.as_asgi()),
]
