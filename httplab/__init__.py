"""The lab kit of the course "HTTP and WebSockets in Python".

    import httplab
    lab = httplab.start()          # local httpbin + course API, on 127.0.0.1
    lab.httpbin, lab.api           # their base URLs
    httplab.progress()             # where you stand on every exercise

Importing httplab adds 127.0.0.1, localhost and ::1 to NO_PROXY, so that a proxy set in the
environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) never swallows the lab's loopback traffic.
"""

from . import netenv, tls
from .attempts import progress, reset_progress
from .lab import Lab, new_client_id, start, stop
from .servers import (
    Server,
    ServerStartError,
    running_servers,
    serve_aiohttp,
    serve_asgi,
    serve_websockets,
    serve_wsgi,
    stop_all,
)

netenv.bypass_proxy_for_loopback()

__all__ = [
    "Lab",
    "Server",
    "ServerStartError",
    "new_client_id",
    "progress",
    "reset_progress",
    "running_servers",
    "serve_aiohttp",
    "serve_asgi",
    "serve_websockets",
    "serve_wsgi",
    "start",
    "stop",
    "stop_all",
    "tls",
]
