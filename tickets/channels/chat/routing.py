from django.urls import path

from tickets.channels.chat.consumers import ChatConsumer

websocket_urlpatterns = [path("ws/chat/<str:reference>/", ChatConsumer.as_asgi())]
