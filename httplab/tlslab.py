"""The TLS lab: one HTTPS server per certificate case, all on 127.0.0.1, for lesson 14.

    >>> tlslab = httplab.tlslab.start()          # idempotent, like httplab.start()
    >>> tlslab.urls["expired"]
    'https://127.0.0.1:40125'

Cases (each on a port of its own, one background thread for all):

- ``valid``: issued by the lab's CA for 127.0.0.1, localhost and ::1 (what `httplab.tls` serves);
- ``wrong-host``: issued by the lab's CA, but for ``www.example.org`` only;
- ``expired``: issued by the lab's CA for the loopback names, valid until yesterday;
- ``unknown-ca``: for the loopback names, issued by another CA that no client trusts;
- ``self-signed``: for the loopback names, signed by its own key;
- ``mtls``: the valid certificate, and the server requires a client certificate from the lab's CA;
- ``sni``: two certificates on one port, chosen by the name the client sends (SNI):
  ``shop.test`` gets its own, every other name (or none) gets the valid one;
- ``tls12``: the valid certificate, but the server speaks at most TLS 1.2.

Every server answers any GET with JSON saying what it saw of the TLS connection: the case,
the SNI name the client sent, TLS version, cipher, ALPN protocol and the client
certificate's subject (mtls).
"""

from __future__ import annotations

import datetime
import functools
import ssl
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import servers, tls

CASES = ("valid", "wrong-host", "expired", "unknown-ca", "self-signed", "mtls", "sni", "tls12")
SNI_NAME = "shop.test"
WRONG_NAME = "www.example.org"
CLIENT_NAME = "learner@httplab.test"
NAME = "lab-tls"
_lock = threading.Lock()
_urls: dict[str, str] = {}
_sent_names: weakref.WeakKeyDictionary[ssl.SSLObject, str | None] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class TLSLab:
    """The URLs of the TLS lab's servers, by case."""

    urls: dict[str, str]

    def __getitem__(self, case: str) -> str:
        return self.urls[case]


def _write(folder: Path, name: str, cert: Any) -> tuple[str, str]:
    chain, key = folder / f"{name}.pem", folder / f"{name}.key"
    cert.private_key_and_cert_chain_pem.write_to_path(chain)
    cert.private_key_pem.write_to_path(key)
    return str(chain), str(key)


@functools.cache
def _files() -> dict[str, tuple[str, str]]:
    """(certificate chain, key) paths of every case, and of the learner's client certificate."""
    import trustme

    folder = Path(tls.ca_file()).parent / "cases"
    folder.mkdir(exist_ok=True)
    ca = tls.lab_ca()
    now = datetime.datetime.now(datetime.UTC)
    other_ca = trustme.CA(organization_name="Some other CA")
    other_ca.cert_pem.write_to_path(folder / "other-ca.pem")
    files = {
        "valid": tls.server_cert_files(),
        "wrong-host": _write(folder, "wrong-host", ca.issue_cert(WRONG_NAME)),
        "expired": _write(
            folder,
            "expired",
            ca.issue_cert(
                *tls.SERVER_NAMES,
                not_before=now - datetime.timedelta(days=30),
                not_after=now - datetime.timedelta(days=1),
            ),
        ),
        "unknown-ca": _write(folder, "unknown-ca", other_ca.issue_cert(*tls.SERVER_NAMES)),
        "self-signed": _self_signed(folder),
        "sni": _write(folder, "sni", ca.issue_cert(SNI_NAME)),
        "client": _write(folder, "client", ca.issue_cert(CLIENT_NAME)),
    }
    return files


def _self_signed(folder: Path) -> tuple[str, str]:
    """A certificate for the loopback names that signs itself (issuer = subject)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self-signed localhost")])
    now = datetime.datetime.now(datetime.UTC)
    alt_names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC))  # as trustme's
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(key, hashes.SHA256())
    )
    chain, key_path = folder / "self-signed.pem", folder / "self-signed.key"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(chain), str(key_path)


def cert_files(case: str) -> tuple[str, str]:
    """(certificate chain, private key) paths of a case's server certificate."""
    return _files()["valid" if case in ("mtls", "tls12") else case]


def other_ca_file() -> str:
    """The CA file of the other CA, the one that issued the ``unknown-ca`` certificate."""
    _files()
    return str(Path(tls.ca_file()).parent / "cases" / "other-ca.pem")


def client_cert_files() -> tuple[str, str]:
    """(certificate chain, private key) of a client certificate issued by the lab's CA."""
    return _files()["client"]


def _context(case: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert_files(case))
    context.set_alpn_protocols(["http/1.1"])
    return context


def server_context(case: str) -> ssl.SSLContext:
    """The server-side SSL context of a case (TLS 1.2 at least, as Python's default).

    It notes the name each client sent (SNI), and for the ``sni`` case chooses the
    certificate by that name."""
    context = _context(case)
    if case == "mtls":
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(tls.ca_file())
    if case == "tls12":
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    shop = _context("sni") if case == "sni" else None
    default = _context("valid") if case == "sni" else None

    def note_name(ssl_object: ssl.SSLObject, server_name: str | None, _: Any) -> None:
        _sent_names[ssl_object] = server_name
        if case == "sni":
            ssl_object.context = shop if server_name == SNI_NAME else default

    context.sni_callback = note_name
    return context


def _describe(request: Any, case: str) -> dict[str, Any]:
    ssl_object = request.transport.get_extra_info("ssl_object")
    peer = ssl_object.getpeercert() or {}
    subject = dict(item for part in peer.get("subject", ()) for item in part)
    alt = [value for _, value in peer.get("subjectAltName", ())]
    return {
        "case": case,
        "sni": _sent_names.get(ssl_object),
        "tls_version": ssl_object.version(),
        "cipher": ssl_object.cipher()[0],
        "alpn": ssl_object.selected_alpn_protocol(),
        "client_cert": (subject.get("commonName") or ", ".join(alt)) if peer else None,
    }


def _app(cases_by_port: dict[int, str]) -> Any:
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        port = request.transport.get_extra_info("sockname")[1]
        return web.json_response(_describe(request, cases_by_port[port]))

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    return app


def _serve() -> servers.Server:
    """One thread, one aiohttp runner, one TLS site per case."""
    from aiohttp import web

    cases_by_port: dict[int, str] = {}
    sockets = {case: servers.bind_socket() for case in CASES}
    for case, sock in sockets.items():
        cases_by_port[sock.getsockname()[1]] = case

    async def start() -> tuple[int, servers.Closer]:
        runner = web.AppRunner(
            _app(cases_by_port),
            access_log=None,
            handle_signals=False,
            logger=servers.quiet_logger("httplab.tlslab"),
        )
        await runner.setup()
        try:
            for case, sock in sockets.items():
                await web.SockSite(runner, sock, ssl_context=server_context(case)).start()
        except BaseException:
            await runner.cleanup()
            raise
        return sockets["valid"].getsockname()[1], runner.cleanup

    server = servers.serve_asyncio(start, name=NAME, scheme="https")
    _urls.clear()
    _urls.update({case: f"https://127.0.0.1:{port}" for port, case in cases_by_port.items()})
    return server


def start() -> TLSLab:
    """Start the TLS lab's servers (or return the running ones) and give their URLs."""
    with _lock:
        server = servers.get(NAME)
        if server is None:
            _serve()
        return TLSLab(urls=dict(_urls))


def stop() -> None:
    """Stop the TLS lab's servers."""
    server = servers.get(NAME)
    if server is not None:
        server.stop()
