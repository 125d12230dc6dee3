"""Exercises of lesson 14: diagnose a TLS failure; a client context for mutual TLS that
trusts exactly one CA; a requests session that keeps credentials on their origin.

The checks run the learner's code against the TLS lab (`httplab.tlslab`) and the course
API's redirect and landing endpoints (`/api/credentials/...`), and read what the servers
saw: the client certificate presented, the credentials that arrived after a redirect.
"""

from __future__ import annotations

import contextlib
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import requests

from .. import lab as _lab
from .. import servers, tls, tlslab
from ..checks import Exercise, Incorrect, call, without_ports
from ..lab import new_client_id
from ..misbehaving import silent_port, socket_timeouts

NOTEBOOK = "14-tls-and-credentials.ipynb"


@contextlib.contextmanager
def _other_ca_in_default_store() -> Iterator[None]:
    """While the learner's code runs, OpenSSL's default store (what `load_default_certs()`
    and `create_default_context()` without `cafile` load) holds the other CA, so that an
    answer trusting that store as well as `cafile` accepts the `unknown-ca` server."""
    saved = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = tlslab.other_ca_file()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["SSL_CERT_FILE"]
        else:
            os.environ["SSL_CERT_FILE"] = saved


def _call(
    where: str, function: Callable[..., Any], *args: Any, advice: str = "", **kwargs: Any
) -> Any:
    """`call`, with a message that says `where` instead of the arguments (which hold ports
    and temporary paths: a message must read the same every time)."""
    try:
        return call(function, *args, **kwargs)
    except Incorrect as wrong:
        text = str(wrong)
        if " raised " not in text:
            raise
        raised = without_ports(text.split(" raised ", 1)[1])
        raised = re.sub(r"port=\d+", "port=PORT", raised)  # urllib3 writes ports so
        raised = raised.replace(str(Path(tls.ca_file()).parent), "LAB")  # a temporary folder
        raise Incorrect(f"{where} your code raised {raised}{advice}") from None


# --- 14.1 diagnose(url, cafile) ------------------------------------------------------------

ANSWERS = ("unknown CA", "hostname mismatch", "expired", "fine")
CATCH_IT = (
    ": catch the client's exception (`requests.exceptions.SSLError`, `httpx.ConnectError`, "
    "...) and return what its `ssl.SSLCertVerificationError` says"
)
READ_THE_REASON = (
    "read which check failed from the `ssl.SSLCertVerificationError` inside the client's "
    "exception (its `verify_code` or `verify_message`), instead of giving one answer to every "
    "`SSLError`"
)


def _diagnosis_cases() -> list[tuple[str, str, str, str]]:
    """(what the server is, url, CA file to trust, expected answer)."""
    lab = tlslab.start()
    by_name = {case: url.replace("127.0.0.1", "localhost") for case, url in lab.urls.items()}
    lab_ca, other_ca = tls.ca_file(), tlslab.other_ca_file()
    return [
        ("a valid certificate from the CA you were given", lab["valid"], lab_ca, "fine"),
        ("a certificate for www.example.org, asked by IP", lab["wrong-host"], lab_ca,
         "hostname mismatch"),
        ("a certificate for www.example.org, asked as localhost", by_name["wrong-host"], lab_ca,
         "hostname mismatch"),
        ("a certificate that expired yesterday", lab["expired"], lab_ca, "expired"),
        ("a certificate from a CA you were not given", lab["unknown-ca"], lab_ca, "unknown CA"),
        ("a self-signed certificate", lab["self-signed"], lab_ca, "unknown CA"),
        ("a certificate from the CA you were given (another CA this time)", lab["unknown-ca"],
         other_ca, "fine"),
        ("a valid certificate, but from a CA other than the one you were given", lab["valid"],
         other_ca, "unknown CA"),
    ]  # fmt: skip


def _diagnosis_advice(server: str, got: Any, expected: str, answers: list[str]) -> str:
    if got not in ANSWERS:
        extra = " (a self-signed certificate is its own unknown CA)" if "self" in server else ""
        return f"return one of {', '.join(map(repr, ANSWERS))}{extra}"
    verifies = answers[1:4] == ["hostname mismatch", "hostname mismatch", "expired"]
    if got == "fine" and "not given" in server and verifies:
        return (
            "your function trusts more than `cafile`: this CA is in the default trust store, "
            "and your client trusted it. Trust the CA file alone: `verify=cafile` in requests, "
            "or `ssl.create_default_context(cafile=cafile)`, not `create_default_context()` "
            "followed by `load_verify_locations(cafile)`"
        )
    if got == "fine":
        return (
            "your function accepted it: never turn verification off (`verify=False`, "
            "`CERT_NONE`, `check_hostname=False`); connect with verification on, trusting "
            "`cafile`, and let the failure tell you what is wrong"
        )
    if expected == "fine":
        return (
            "trust exactly the CA file you were given: `verify=cafile` in requests, or "
            "`ssl.create_default_context(cafile=cafile)`, not the default store or the lab's CA"
        )
    if expected == "hostname mismatch" and "IP" in server and got == "unknown CA":
        return (
            "for an IP address OpenSSL says 'IP address mismatch' (`verify_code` 64), for a name "
            "'Hostname mismatch' (62): both are a hostname mismatch"
        )
    return (
        f"{READ_THE_REASON}: 20 (unable to get local issuer certificate) and 18 (self-signed) "
        "are an unknown CA, 62/64 a hostname mismatch, 10 an expired certificate"
    )


SILENT_LIFETIME = 3.0  # then the silent server closes: a client without a timeout gets a reset


def _require_timeout(diagnose: Callable[..., Any]) -> None:
    """Call `diagnose` on a server that accepts the connection and never answers; Incorrect
    if the learner's socket waits there with no timeout. The timeout is read from the socket
    while it waits, so a correct answer costs no waiting."""
    seen: list[float | None] = []
    with silent_port(SILENT_LIFETIME) as port:
        url = f"https://127.0.0.1:{port}/"
        worker = threading.Thread(
            target=lambda: _ignore_errors(diagnose, url, tls.ca_file()),
            name="httplab-check-timeout",
            daemon=True,
        )
        worker.start()
        deadline = time.monotonic() + SILENT_LIFETIME
        while not seen and worker.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
            seen = socket_timeouts(peer_port=port)
        time.sleep(0.2)  # look again once the socket is set up (ssl sets its timeout last)
        seen = socket_timeouts(peer_port=port) or seen
    worker.join(SILENT_LIFETIME)  # the listener is closed: a client still waiting is reset
    if None in seen or worker.is_alive():
        raise Incorrect(
            "a server that accepts the connection and never answers kept your function "
            "waiting with no timeout: it would wait forever. Give the request a timeout: "
            "`requests.get(url, verify=cafile, timeout=5)`"
        )


def _ignore_errors(function: Callable[..., Any], *args: Any) -> None:
    with contextlib.suppress(Exception):  # the silent server makes every client fail
        function(*args)


def _check_diagnose(diagnose: Callable[..., Any]) -> str:
    cases = _diagnosis_cases()
    answers = []
    for server, url, cafile, expected in cases:
        with _other_ca_in_default_store():
            got = _call(f"for {server}", diagnose, url, cafile, advice=CATCH_IT)
        answers.append(got)
        if got != expected:
            advice = _diagnosis_advice(server, got, expected, answers)
            raise Incorrect(f"for {server} you answered {got!r}, expected {expected!r}: {advice}")
    _require_timeout(diagnose)
    return (
        f"{len(cases)} servers diagnosed: unknown CA, self-signed, hostname mismatch by IP and "
        "by name, expired, fine only with the right CA, and a timeout where no server answers"
    )


q1 = Exercise(
    "14.1",
    "Diagnose a TLS failure",
    _check_diagnose,
    answer="diagnose",
    hints=[
        "Make the request with verification ON, trusting only `cafile`: "
        "`requests.get(url, verify=cafile, timeout=5)`. No exception: 'fine'.",
        "Catch `requests.exceptions.SSLError` and find the `ssl.SSLCertVerificationError` "
        "inside it: follow `__context__` (or `__cause__`) until you meet one.",
        "Its `verify_code` says which check failed: 10 expired; 62 or 64 hostname "
        "mismatch; 18, 19, 20 or 21 unknown CA.",
    ],
    solution=NOTEBOOK,
)


# --- 14.2 mtls_context(cafile, certfile, keyfile) ------------------------------------------


TRUSTS_MORE = (
    "your context trusts more CAs than the one you were given (the system's store, or "
    "certifi's bundle): trust exactly that CA. `ssl.create_default_context(cafile=cafile)` loads "
    "no other CA; `create_default_context()` or `load_default_certs()` followed by "
    "`load_verify_locations` adds it to the whole store"
)


def _require_client_side(context: Any) -> None:
    if not isinstance(context, ssl.SSLContext):
        raise Incorrect(f"return an `ssl.SSLContext`, not {type(context).__name__}")
    if type(context).__module__.startswith("truststore"):
        raise Incorrect(
            "truststore trusts the operating system's store; here trust exactly the CA you "
            "were given: `ssl.create_default_context(cafile=cafile)`"
        )
    if context.protocol == ssl.PROTOCOL_TLS_SERVER:
        raise Incorrect(
            "your context is for a server (`ssl.Purpose.CLIENT_AUTH` means 'to authenticate "
            "clients'): a client context is `ssl.create_default_context(cafile=cafile)`, whose "
            "purpose is `SERVER_AUTH`"
        )
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise Incorrect(
            "your context does not verify the server (`verify_mode` must be `CERT_REQUIRED` and "
            "`check_hostname` True): never turn verification off; "
            "`ssl.create_default_context(cafile=cafile)` has both"
        )
    if context.minimum_version < ssl.TLSVersion.TLSv1_2:
        raise Incorrect(
            "your context accepts TLS versions older than 1.2: leave `minimum_version` as a "
            "new SSLContext has it (TLS 1.2 since Python 3.10), or set "
            "`context.minimum_version = ssl.TLSVersion.TLSv1_2`"
        )


def _require_one_ca(context: ssl.SSLContext) -> None:
    with open(tls.ca_file()) as pem:
        wanted = ssl.PEM_cert_to_DER_cert(pem.read())
    trusted = context.get_ca_certs(binary_form=True)
    if wanted not in trusted:
        raise Incorrect(
            "your context does not trust the CA file you were given: "
            "`ssl.create_default_context(cafile=cafile)` or `context.load_verify_locations(cafile)`"
        )
    if len(trusted) > 1:
        raise Incorrect(TRUSTS_MORE)


def _build_context(mtls_context: Callable[..., Any], *files: str) -> Any:
    """The learner's context, built while the default store holds the other CA."""
    advice = (
        ". Load the files given, in this order: the client certificate, then its key, "
        "`context.load_cert_chain(certfile, keyfile)`; `cafile` goes to "
        "`ssl.create_default_context(cafile=cafile)`"
    )
    with _other_ca_in_default_store():
        return _call("building the context,", mtls_context, *files, advice=advice)


def _refused(context: ssl.SSLContext, url: str) -> bool:
    """Whether a client with this context fails to connect to `url` (its handshake fails)."""
    try:
        with httpx.Client(verify=context, timeout=5) as client:
            client.get(url)
    except httpx.ConnectError:
        return True
    return False


def _check_mtls_context(mtls_context: Callable[..., Any]) -> str:
    servers_by_case = tlslab.start()
    chain, key = tlslab.client_cert_files()
    context = _build_context(mtls_context, tls.ca_file(), chain, key)
    _require_client_side(context)
    _require_one_ca(context)
    if not _refused(context, servers_by_case["unknown-ca"]):
        raise Incorrect(TRUSTS_MORE)
    try:
        with httpx.Client(verify=context, timeout=5) as client:
            seen = client.get(servers_by_case["mtls"]).json()
    except httpx.HTTPError as exc:
        raise Incorrect(
            f"the mtls server refused your client ({type(exc).__name__}): it requires a client "
            "certificate: `context.load_cert_chain(certfile, keyfile)`"
        ) from None
    if seen.get("client_cert") != tlslab.CLIENT_NAME:
        raise Incorrect(
            f"the server saw the client certificate {seen.get('client_cert')!r}: load the one "
            "you were given, `context.load_cert_chain(certfile, keyfile)`"
        )
    if not _refused(context, servers_by_case["wrong-host"]):
        raise Incorrect(
            "your context accepted a certificate issued for another host name: keep "
            "`check_hostname = True` (`ssl.create_default_context` sets it)"
        )
    return (
        "one CA trusted, TLS 1.2 at least, host names checked, and the mtls server saw your "
        f"client certificate ({tlslab.CLIENT_NAME})"
    )


q2 = Exercise(
    "14.2",
    "A client for mutual TLS that trusts one CA",
    _check_mtls_context,
    answer="mtls_context",
    hints=[
        "`ssl.create_default_context(cafile=cafile)` makes a client context that trusts "
        "that CA file and nothing else, checks host names and refuses TLS below 1.2.",
        "Add your certificate with `context.load_cert_chain(certfile, keyfile)`.",
        "Return the context; do not create it with `ssl.Purpose.CLIENT_AUTH` (that one is "
        "for servers) and do not call `load_default_certs()`.",
    ],
    solution=NOTEBOOK,
)


# --- 14.3 SafeSession ----------------------------------------------------------------------

OTHER_ORIGIN = "check-14-other-origin"
SECRETS = {"Authorization": "Bearer check-token", "X-Api-Key": "check-key"}
GIVEN_COOKIE = {"given": "check-cookie"}


def _other_origin() -> str:
    """A second course API on another port: another origin, for the redirect checks."""
    from ..courseapi import create_app

    server = servers.get(OTHER_ORIGIN) or servers.serve_aiohttp(create_app, name=OTHER_ORIGIN)
    return server.url


def _what_arrived(session_class: Callable[..., Any], api: str, destination: str) -> set[str]:
    """Send credentials through a redirect to `destination`; the ones that arrived there."""
    probe = new_client_id("probe")
    landing = f"{destination}/api/credentials/landing?probe={probe}"
    url = f"{api}/api/credentials/redirect?to={quote(landing, safe='')}"
    session = call(session_class)
    if not isinstance(session, requests.Session):
        raise Incorrect(
            f"`SafeSession` must subclass `requests.Session`; got {type(session).__name__}"
        )
    with session:
        login = {"username": "alice", "password": "wonderland"}
        session.post(f"{api}/api/login", json=login, timeout=5).raise_for_status()
        session.headers["X-Api-Key"] = SECRETS["X-Api-Key"]
        auth = {"Authorization": SECRETS["Authorization"]}
        options = {"headers": auth, "cookies": GIVEN_COOKIE, "timeout": 5}
        _call("following a redirect,", session.get, url, advice=JUST_DROP, **options)
        if session.headers.get("X-Api-Key") != SECRETS["X-Api-Key"]:
            raise Incorrect(
                "your `rebuild_auth` removed X-Api-Key from the session's own headers "
                "(`self.headers`), which changes the later requests, not this one: remove "
                "credentials from `prepared_request.headers`, the request about to be sent"
            )
    seen = requests.get(f"{destination}/api/credentials/seen/{probe}", timeout=5).json()
    if not seen["arrived"]:
        raise Incorrect(
            "the landing page saw no request: your session must still follow redirects "
            "(only drop credentials on the way)"
        )
    record = seen["arrived"][-1]
    arrived = set(record["headers"]) - {"Cookie"}
    arrived |= {f"Cookie {name}" for name in record["cookies"]}
    return arrived


EVERYTHING = {"Authorization", "X-Api-Key", "Cookie given", "Cookie session"}
JUST_DROP = (
    ": `rebuild_auth` only removes headers from `prepared_request.headers` and returns; "
    "requests then follows the redirect"
)
CREDENTIALS = ("Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key")


def _kept_on_upgrade(safe_session: Callable[..., Any]) -> list[str]:
    """Call the learner's rebuild_auth for a redirect from http://127.0.0.1/ to
    https://127.0.0.1/ (another origin: scheme and default port change, which no loopback
    server can show without privileged ports), as requests would; the credentials it kept."""
    before = requests.Request(
        "GET",
        "http://127.0.0.1/start",
        headers={**SECRETS, "Cookie": "given=check-cookie", "Proxy-Authorization": "Basic eDp5"},
    ).prepare()
    after = before.copy()
    after.url = "https://127.0.0.1/next"
    response = requests.Response()
    response.request, response.url, response.status_code = before, before.url, 302
    response.headers["Location"] = after.url
    with call(safe_session) as session:
        session.trust_env = False  # no credentials from the learner's ~/.netrc here
        _call("in `rebuild_auth`,", session.rebuild_auth, after, response, advice=JUST_DROP)
    return [name for name in CREDENTIALS if name in after.headers]


def _check_safe_session(safe_session: Callable[..., Any]) -> str:
    lab = _lab.start()
    same = _what_arrived(safe_session, lab.api, lab.api)
    if missing := sorted(EVERYTHING - same):
        raise Incorrect(
            f"on a redirect within the same origin, {', '.join(missing)} did not arrive: keep "
            "credentials when scheme, host and port stay the same"
        )
    leaks = {
        place: _what_arrived(safe_session, lab.api, destination)
        for place, destination in (
            ("another port", _other_origin()),
            ("another host (localhost)", lab.api.replace("127.0.0.1", "localhost")),
        )
    }
    if leaks["another port"] and not leaks["another host (localhost)"]:
        leaked = ", ".join(sorted(leaks["another port"]))
        raise Incorrect(
            f"on a redirect to another port of the same host, {leaked} "
            "still arrived: an origin is scheme, host AND port; compare all three"
        )
    for place, leaked in leaks.items():
        if cookies := sorted(name for name in leaked if name.startswith("Cookie")):
            if leaked == set(cookies):
                raise Incorrect(
                    f"on a redirect to {place}, {', '.join(cookies)} still arrived: drop the "
                    "Cookie header too (requests rebuilds it from the jar just before "
                    "`rebuild_auth`)"
                )
        if leaked:
            raise Incorrect(
                f"on a redirect to {place}, your session still sent {', '.join(sorted(leaked))}: "
                "override `rebuild_auth(prepared_request, response)` and, when the origin "
                "changes, remove Authorization, Cookie, Proxy-Authorization and X-Api-Key "
                "from `prepared_request.headers`"
            )
    if kept := _kept_on_upgrade(safe_session):
        raise Incorrect(
            "on a redirect from `http://127.0.0.1/` to `https://127.0.0.1/` your session kept "
            f"{', '.join(kept)}: the scheme changed (and the default port, 80 to 443), so it is "
            "another origin. Compare `(scheme, host, port)`, the scheme included (requests' own "
            "`should_strip_auth` lets this upgrade through)"
        )
    return (
        "credentials kept on the same origin, and none sent to another port, another host "
        "or another scheme"
    )


q3 = Exercise(
    "14.3",
    "A session that keeps credentials on their origin",
    _check_safe_session,
    answer="SafeSession",
    hints=[
        "requests calls `self.rebuild_auth(prepared_request, response)` for every redirect, "
        "after it has rebuilt the Cookie header; `response.request.url` is where you were, "
        "`prepared_request.url` where you are going.",
        "An origin is `(scheme, host, port)`: `urlsplit(url)` gives `.scheme`, "
        "`.hostname` and `.port` (None for the default port: use 443 or 80 then).",
        "When the origins differ, `prepared_request.headers.pop(name, None)` for each of "
        "Authorization, Cookie, Proxy-Authorization, X-Api-Key; otherwise call "
        "`super().rebuild_auth(prepared_request, response)`.",
    ],
    solution=NOTEBOOK,
)
