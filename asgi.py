"""The ASGI application: Django for HTTP, Channels for WebSockets. Composition only."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cencomm.settings")

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from cencomm.logging import SocketRequestId  # noqa: E402
from cencomm.middleware import websocket_stack  # noqa: E402
from hub.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SocketRequestId(websocket_stack(URLRouter(websocket_urlpatterns))),
    }
)
