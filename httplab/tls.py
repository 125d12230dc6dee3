"""The lab's certificate authority, for HTTPS, HTTP/2 and HTTP/3 on loopback.

A local CA (made with trustme) issues the servers' certificate for 127.0.0.1, localhost and
::1. Clients trust that CA; nothing in the course ever turns certificate verification off:

    requests.get(url, verify=tls.ca_file(), timeout=5)
    httpx.Client(verify=tls.client_context())
    aiohttp.ClientSession().get(url, ssl=tls.client_context())
    websockets.asyncio.client.connect(url, ssl=tls.client_context())

The CA lives for the Python process; its files sit in a temporary folder removed at exit.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import ssl
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import trustme

SERVER_NAMES = ("127.0.0.1", "localhost", "::1")


@functools.cache
def lab_ca() -> trustme.CA:
    """The lab's CA itself (trustme), to issue more certificates (lesson 14's cases)."""
    import trustme

    return trustme.CA(organization_name="httplab course CA")


@functools.cache
def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="httplab-tls-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    ca = lab_ca()
    ca.cert_pem.write_to_path(folder / "ca.pem")
    cert = ca.issue_cert(*SERVER_NAMES)
    cert.private_key_pem.write_to_path(folder / "server.key")
    cert.private_key_and_cert_chain_pem.write_to_path(folder / "server.pem")
    return folder


def ca_file() -> str:
    """Path of the CA certificate (PEM): `verify=` for requests, `cafile=` for ssl."""
    return str(_folder() / "ca.pem")


def server_cert_files() -> tuple[str, str]:
    """(certificate chain, private key) paths for the lab's servers."""
    folder = _folder()
    return str(folder / "server.pem"), str(folder / "server.key")


def client_context() -> ssl.SSLContext:
    """An SSL context that verifies servers against the lab's CA (and checks host names)."""
    return ssl.create_default_context(cafile=ca_file())


def server_context() -> ssl.SSLContext:
    """An SSL context for a server presenting the lab's certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*server_cert_files())
    return context
