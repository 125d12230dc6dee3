"""Exercises of lesson 15: a webhook signature check with a replay window, a JWT-checking
aiohttp middleware, and the address check of an SSRF-safe fetcher.

The checks call the learner's code directly with hand-made inputs: signed and forged webhook
deliveries; tokens signed with a key made for the check (and forged ones); URLs resolved by a
fake resolver. Nothing leaves this machine: while the SSRF check runs, DNS lookups and
connections to anything but loopback are refused.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import inspect
import ipaddress
import json
import socket
import time
import types
import unittest.mock
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jwt
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from ..checks import Exercise, Incorrect, NotAttempted, call

SOLUTIONS = "15-securing-an-api.ipynb"

# --- 15.1 verify_webhook(header, body, secret, now, seen) ---------------------------------

TOLERANCE = 300  # seconds a delivery's timestamp may be away from now
SECRET = b"whsec_course_0123456789"
NOW = 1_750_000_000  # the check's clock: a fixed moment, passed as `now`
# Not the bytes json.dumps would write: two spaces, and a key order of the sender's choosing.
BODY = b'{"type": "invoice.paid",  "amount": 4200, "currency": "eur"}'
CANONICAL = json.dumps(json.loads(BODY)).encode()


def sign(body: bytes, secret: bytes, timestamp: int) -> str:
    """The signature header of a delivery: `t=<timestamp>,v1=<hex HMAC-SHA256>`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _names(code: types.CodeType) -> set[str]:
    """Every global and attribute name a function's code uses, nested functions included."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names(constant)
    return names


def _uses_compare_digest(function: Callable[..., Any], run: Callable[[], Any]) -> bool:
    """Does `function` name compare_digest, or call hmac's or secrets' while `run()` runs?"""
    code = getattr(function, "__code__", None)
    if code is not None and "compare_digest" in _names(code):
        return True
    calls = []
    original = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        calls.append(1)
        return original(a, b)

    with (
        unittest.mock.patch("hmac.compare_digest", counting),
        unittest.mock.patch("secrets.compare_digest", counting),
    ):
        run()
    return bool(calls)


def _verdict(
    verify: Callable[..., Any], header: str, body: bytes, now: int, seen: set, malformed: bool
) -> bool:
    try:
        answer = call(verify, header, body, SECRET, now, seen)
    except Incorrect as wrong:
        if not malformed:
            raise
        if "non-ASCII" in str(wrong):
            raise Incorrect(
                f"{wrong}: `hmac.compare_digest` refuses text with non-ASCII characters, and a "
                "header may hold anything; turn `v1` into bytes with `bytes.fromhex(v1)` (a "
                "`ValueError` when it is not hex, so `False`) and compare it with `.digest()`"
            ) from None
        raise Incorrect(
            f"{wrong}; for a header you cannot parse, return False instead of raising"
        ) from None
    if not isinstance(answer, bool):
        raise Incorrect(f"return True or False, not {type(answer).__name__} {answer!r}")
    return answer


def _check_verify_webhook(verify_webhook: Callable[..., Any]) -> str:
    def verdict(header: str, body: bytes = BODY, seen: set | None = None, malformed: bool = False):
        seen = set() if seen is None else seen
        return _verdict(verify_webhook, header, body, NOW, seen, malformed)

    valid = sign(BODY, SECRET, NOW - 5)
    if not verdict(valid):
        if verdict(sign(BODY, SECRET, NOW)):
            raise Incorrect(
                "refused a delivery signed 5 s before `now`: deliveries take time and clocks "
                f"differ, so accept anything within {TOLERANCE} s either way"
            )
        if verdict(sign(BODY, SECRET, int(time.time()))):
            raise Incorrect(
                "a delivery signed 5 s before `now` was refused, yet one signed by the real "
                "clock passed: compare the timestamp with the `now` argument, not time.time()"
            )
        if verdict(sign(CANONICAL, SECRET, NOW - 5), body=BODY):
            raise Incorrect(
                "a correct signature was refused, and a signature of the re-serialised JSON "
                "passed: compute the HMAC over the raw body bytes exactly as received; "
                "json.loads + json.dumps changes spaces and order, and so the signature"
            )
        body_only = hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()
        if verdict(f"t={NOW - 5},v1={body_only}"):
            raise Incorrect(
                "a correct signature was refused, and a signature of the body alone passed: "
                "the signed bytes are the timestamp, a dot, then the body "
                '(f"{t}.".encode() + body), so the timestamp cannot be changed'
            )
        raise Incorrect(
            "a correct signature was refused: the v1 value is the hex HMAC-SHA256, keyed with "
            'the secret, of f"{t}.".encode() + body'
        )
    if not _uses_compare_digest(verify_webhook, lambda: verdict(valid)):
        raise Incorrect(
            "compare the signatures with hmac.compare_digest, not ==: == stops at the first "
            "byte that differs, and how long it takes tells an attacker how much of a guess "
            "is right"
        )
    forged = [
        ("a body changed after signing", sign(BODY, SECRET, NOW - 5), BODY.replace(b"42", b"99")),
        ("a signature made with another secret", sign(BODY, b"guess", NOW - 5), BODY),
        ("a header whose timestamp was changed", valid.replace(f"t={NOW - 5}", f"t={NOW}"), BODY),
    ]
    for what, header, body in forged:
        if verdict(header, body=body):
            raise Incorrect(f"accepted {what}: compute the HMAC and compare it with v1")
    if verdict(sign(BODY, SECRET, NOW - 2 * TOLERANCE)):
        raise Incorrect(
            f"accepted a delivery signed {2 * TOLERANCE} s ago: refuse a timestamp more than "
            f"{TOLERANCE} s away from `now`, or a recorded delivery can be replayed later"
        )
    if verdict(sign(BODY, SECRET, NOW + 2 * TOLERANCE)):
        raise Incorrect(
            f"accepted a delivery dated {2 * TOLERANCE} s in the future: compare "
            f"abs(now - t) with {TOLERANCE}, in both directions"
        )
    if not verdict(sign(BODY, SECRET, NOW + 30)):
        raise Incorrect(
            "refused a delivery dated 30 s ahead of `now`: clocks differ a little, so accept "
            f"anything within {TOLERANCE} s either way"
        )
    for edge in (NOW - TOLERANCE, NOW + TOLERANCE):
        if not verdict(sign(BODY, SECRET, edge)):
            raise Incorrect(
                f"refused a delivery exactly {TOLERANCE} s away from `now`: refuse only a "
                f"timestamp *more* than {TOLERANCE} s away: `abs(now - t) > {TOLERANCE}`"
            )
    seen: set = set()
    if not verdict(valid, seen=seen):
        raise Incorrect("a correct delivery was refused when `seen` is empty")
    if verdict(valid, seen=seen):
        raise Incorrect(
            "accepted the same delivery twice: add each accepted signature to `seen`, and "
            "refuse one that is already there (a replay inside the window)"
        )
    if not verdict(sign(BODY, SECRET, NOW - 4), seen=seen):
        raise Incorrect(
            "after one delivery, the next (new) delivery was refused: keep in `seen` only "
            "the signatures you accepted"
        )
    seen = set()
    other = BODY.replace(b"invoice.paid", b"invoice.sent")
    if not verdict(valid, seen=seen) or not verdict(
        sign(other, SECRET, NOW - 5), body=other, seen=seen
    ):
        raise Incorrect(
            "refused a second, different delivery signed in the same second as the first: "
            "remember each accepted signature (`v1`) in `seen`, not its timestamp"
        )
    seen = set()
    tampered = BODY.replace(b"42", b"99")
    if not verdict(valid, body=tampered, seen=seen) and not verdict(valid, seen=seen):
        raise Incorrect(
            "a genuine delivery was refused after a forged copy of its signature (with a "
            "changed body) came first: add a signature to `seen` only once every check passed"
        )
    for garbage in ("", "t=abc,v1=00", f"v1={valid.split('v1=')[1]}", "nonsense",
                    f"t={NOW},v1=\u00e9t\u00e9"):  # fmt: skip
        if verdict(garbage, malformed=True):
            raise Incorrect(
                f"accepted the malformed header {garbage!r}: a header without both `t` (a "
                "number) and `v1` gives `False`; parse it inside "
                "`try`/`except (KeyError, ValueError)` and return `False` there, never `True`"
            )
    return (
        "signature over the raw bytes compared in constant time, a 5-minute window both "
        "ways, and each delivery accepted once"
    )


q1 = Exercise(
    "15.1",
    "verify_webhook: signature, timestamp, replays",
    _check_verify_webhook,
    answer="verify_webhook",
    hints=[
        'Split the header on "," and each part on "=" once: t is the timestamp, v1 the '
        "signature. Anything that does not parse: return False.",
        'expected = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).digest(); '
        "compare it with bytes.fromhex(v1) using hmac.compare_digest (bytes.fromhex raises "
        "ValueError on a v1 that is not hex: that header does not parse).",
        "Return False when abs(now - t) > 300 or v1 is already in `seen`; "
        "otherwise add v1 to `seen` and return True.",
    ],
    solution=SOLUTIONS,
)


# --- 15.2 jwt_middleware(public_key, audience, issuer) ------------------------------------

AUDIENCE = "https://api.course.test"
CLAIMS = web.RequestKey("claims", dict)  # where the middleware puts the verified claims
ISSUER = "https://auth.course.test"
LEEWAY = 30


@cache
def _keys() -> tuple[Any, str, Any]:
    """The check's signing key, its public PEM, and a key of somebody else."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, pem.decode("ascii"), other


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned(header: dict, claims: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _tokens(now: int) -> dict[str, str]:
    key, pem, other = _keys()
    good = {"iss": ISSUER, "aud": AUDIENCE, "sub": "reporting", "iat": now, "exp": now + 300}
    admin = good | {"sub": "admin"}
    confused = _unsigned({"alg": "HS256", "typ": "JWT"}, admin)
    mac = hmac.new(pem.encode(), confused.encode(), hashlib.sha256).digest()

    def signed(claims: dict, with_key: Any = key) -> str:
        return jwt.encode(claims, with_key, algorithm="RS256")

    return {
        "good": signed(good),
        "skewed": signed(good | {"exp": now - 10}),
        "expired": signed(good | {"exp": now - 120}),
        "no_exp": signed({k: v for k, v in good.items() if k != "exp"}),
        "not_yet": signed(good | {"nbf": now + 120}),
        "audience": signed(good | {"aud": "https://other-api.test"}),
        "issuer": signed(good | {"iss": "https://evil.test"}),
        "other_key": signed(admin, other),
        "rs512": jwt.encode(admin, key, algorithm="RS512"),
        "none": _unsigned({"alg": "none", "typ": "JWT"}, admin) + ".",
        "confused": f"{confused}.{_b64(mac)}",
    }


# What each forged or broken token is, and the fix a learner needs when it gets through.
REFUSE = {
    "none": (
        "an unsigned token (alg none) claiming to be admin",
        "never decode without verifying, and pin algorithms=['RS256']",
    ),
    "confused": (
        "a token signed with HS256 using the public key as the secret",
        "pin algorithms=['RS256']; never take the algorithm from the token's header",
    ),
    "other_key": (
        "a token signed with somebody else's key",
        "verify the signature with `public_key`",
    ),
    "rs512": (
        "a token whose header says RS512",
        "pin `algorithms=['RS256']`; never take the algorithm from the token's header",
    ),
    "expired": (
        "a token that expired 2 minutes ago",
        f"keep exp checked, with leeway={LEEWAY} at most",
    ),
    "no_exp": (
        "a token without an exp claim",
        "require it: options={'require': ['exp']}",
    ),
    "not_yet": ("a token not valid for 2 more minutes (nbf)", "keep nbf checked"),
    "audience": ("a token issued for another API (aud)", "pass audience=audience to jwt.decode"),
    "issuer": ("a token from another issuer (iss)", "pass issuer=issuer to jwt.decode"),
}


@contextlib.contextmanager
def _algorithms_used() -> Iterator[list[Any]]:
    """Record the `algorithms` argument of every signature check PyJWT makes meanwhile
    (`PyJWS._verify_signature`, which every decode of the pinned PyJWT 2.15 goes through)."""
    used: list[Any] = []
    real = jwt.api_jws.PyJWS._verify_signature

    def spy(self: Any, signing_input: Any, header: Any, signature: Any, key: Any = "",
            algorithms: Any = None, options: Any = None) -> Any:  # fmt: skip
        used.append(algorithms)
        return real(self, signing_input, header, signature, key, algorithms, options)

    with unittest.mock.patch.object(jwt.api_jws.PyJWS, "_verify_signature", spy):
        yield used


def _pinned(algorithms: Any) -> bool:
    return algorithms == "RS256" or (
        isinstance(algorithms, (list, tuple, set, frozenset)) and set(algorithms) == {"RS256"}
    )


async def _respond(
    middleware: Any, header: str | None, what: str, raises: Exception | None = None
) -> tuple[int, Any, Any]:
    """(status, WWW-Authenticate, claims the handler saw) for one request carrying `header`;
    the handler raises `raises` if given."""
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["claims"] = request.get(CLAIMS)
        if raises is not None:
            raise raises
        return web.json_response({"ok": True})

    headers = {} if header is None else {"Authorization": header}
    request = make_mocked_request("GET", "/reports", headers=headers)
    error: Exception | None = None
    with _algorithms_used() as used:
        try:
            response = middleware(request, handler)
            if not inspect.isawaitable(response):
                raise Incorrect(
                    "jwt_middleware must return the middleware: an `async def` decorated with "
                    "`@web.middleware`, taking `(request, handler)`"
                )
            response = await response
        except web.HTTPException as raised:  # raising web.HTTPUnauthorized is fine too
            response = raised
        except (Incorrect, NotAttempted):
            raise
        except NotImplementedError:
            raise NotAttempted from None
        except Exception as exc:
            error = exc
    loose = [algorithms for algorithms in used if not _pinned(algorithms)]
    if loose:
        raise Incorrect(
            f"on {what}, your middleware verified with `algorithms={loose[0]!r}`: pin "
            "`algorithms=['RS256']`, the one algorithm the issuer signs with, written in your "
            "code and never read from the token's header (whoever makes the token writes it)"
        )
    if error is not None:
        raise Incorrect(
            f"your middleware raised {type(error).__name__} on {what}: catch "
            "jwt.InvalidTokenError (the base of PyJWT's token errors) and answer 401"
        )
    if not isinstance(response, web.StreamResponse):
        raise Incorrect(f"the middleware must return a response, not {type(response).__name__}")
    return response.status, response.headers.get("WWW-Authenticate"), seen.get("claims")


def _refused(status: int, challenge: Any, what: str) -> None:
    if status != 401:
        raise Incorrect(f"{what} got status {status}: answer 401 Unauthorized")
    if not str(challenge or "").startswith("Bearer"):
        raise Incorrect(
            f"{what} got 401 without `WWW-Authenticate: Bearer ...`: a 401 must say which "
            'scheme to use, e.g. Bearer error="invalid_token"'
        )


GOOD = "a valid token"


async def _check_jwt_middleware(jwt_middleware: Callable[..., Any]) -> str:
    _, pem, _ = _keys()
    middleware = call(jwt_middleware, pem, AUDIENCE, ISSUER)
    if not callable(middleware):
        raise Incorrect(
            "jwt_middleware must return the middleware (an `async def` decorated with "
            f"`@web.middleware`), not {type(middleware).__name__}"
        )
    if getattr(middleware, "__middleware_version__", None) != 1:
        raise Incorrect(
            "decorate the middleware with `@web.middleware`: without it aiohttp takes it for "
            "an old-style middleware factory, calls it with `(app, handler)` instead of "
            "`(request, handler)`, and every request of the app fails"
        )
    tokens = _tokens(int(time.time()))
    status, challenge, claims = await _respond(middleware, f"Bearer {tokens['good']}", GOOD)
    if status != 200:
        raise Incorrect(
            f"a valid token got status {status}: verify with jwt.decode(token, public_key, "
            "algorithms=['RS256'], audience=audience, issuer=issuer) and call the handler"
        )
    if not isinstance(claims, dict) or claims.get("sub") != "reporting":
        raise Incorrect(
            "the handler found no claims: store the dict jwt.decode returns in "
            "request[CLAIMS] (CLAIMS from httplab.exercises.lesson15) before calling the handler"
        )
    bearer_only = "take the token only from `Authorization: Bearer <token>`, refuse other schemes"
    for header, what in [(None, "a request without Authorization"),
                         (f"Basic {_b64(b'reporting:s3cret')}", "a Basic Authorization header"),
                         (f"Token {tokens['good']}", "a valid token sent as `Token <token>`"),
                         (tokens["good"], "a valid token with no `Bearer` before it"),
                         ("Bearer not.a.jwt", "the malformed token 'not.a.jwt'")]:  # fmt: skip
        status, challenge, _ = await _respond(middleware, header, what)
        if status == 200:
            raise Incorrect(f"accepted {what}: {bearer_only}")
        _refused(status, challenge, what)
    for name, (what, fix) in REFUSE.items():
        status, challenge, _ = await _respond(middleware, f"Bearer {tokens[name]}", what)
        if status == 200:
            raise Incorrect(f"accepted {what}: {fix}")
        _refused(status, challenge, what)
    missing = "a valid token, for a route whose handler raised `web.HTTPNotFound`"
    status, _, _ = await _respond(
        middleware, f"Bearer {tokens['good']}", missing, raises=web.HTTPNotFound()
    )
    if status != 404:
        raise Incorrect(
            f"{missing}, got status {status}: the handler's answers and errors are not token "
            "errors; put only the token check inside `try`/`except jwt.InvalidTokenError`, and "
            "call the handler outside it"
        )
    skewed = "a token that expired 10 s ago"
    status, _, _ = await _respond(middleware, f"Bearer {tokens['skewed']}", skewed)
    if status != 200:
        raise Incorrect(
            f"refused a token that expired 10 s ago: clocks differ, allow leeway={LEEWAY} s"
        )
    return (
        "signature checked with RS256 only, exp (required, 30 s leeway), nbf, aud and iss "
        "enforced, and every refusal a 401 with a Bearer challenge"
    )


q2 = Exercise(
    "15.2",
    "jwt_middleware: verify before trusting",
    _check_jwt_middleware,
    answer="jwt_middleware",
    hints=[
        "Inside jwt_middleware, define `@web.middleware async def check(request, handler)` "
        "and return it. Take the token from `Authorization: Bearer <token>`.",
        "jwt.decode(token, public_key, algorithms=['RS256'], audience=audience, "
        "issuer=issuer, leeway=30, options={'require': ['exp']}) verifies everything at once.",
        "Catch jwt.InvalidTokenError (the base of PyJWT's token errors) and answer "
        "web.json_response({...}, status=401, headers={'WWW-Authenticate': "
        "'Bearer error=\"invalid_token\"'}); on success set request[CLAIMS] = claims.",
    ],
    solution=SOLUTIONS,
)


# --- 15.3 safe_destination(url, resolve) --------------------------------------------------

PUBLIC = "93.184.215.14"  # a global address; the check never connects to it
PUBLIC6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"  # a global IPv6 address, never connected to

# name -> what the fake resolver answers (a list: a name can have several addresses)
ZONE = {
    "hooks.partner.test": [PUBLIC],
    "cdn.partner.test": [PUBLIC, PUBLIC6],
    "internal.test": ["10.0.0.1"],
    "rebind.test": [PUBLIC, "10.0.0.1"],
    "localhost": ["127.0.0.1", "::1"],
    "2130706433": ["127.0.0.1"],  # what getaddrinfo makes of a decimal IPv4 address
}

ALLOWED = [
    ("https://hooks.partner.test/in", (PUBLIC, 443)),
    ("http://hooks.partner.test:8080/in?x=1", (PUBLIC, 8080)),
    ("http://cdn.partner.test/files", (PUBLIC, 80)),
]

# (url, what it is, the fix when it is not refused)
REFUSED = [
    ("http://internal.test/admin", "internal.test resolves to 10.0.0.1",
     "resolve the name first, then check every address it resolves to, and accept only "
     "global ones (`is_global`)"),
    ("http://127.0.0.1:8080/", "127.0.0.1 is loopback", "refuse loopback addresses"),
    ("http://localhost/", "localhost resolves to loopback", "refuse loopback addresses"),
    ("http://[::1]/", "::1 is loopback (IPv6)", "refuse loopback addresses"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is the cloud metadata "
     "service (link-local)", "refuse link-local addresses"),
    ("http://hooks.partner.test@127.0.0.1/", "the host is 127.0.0.1: what comes before @ is "
     "a user name", "take the host from `urlsplit(url).hostname`, and refuse loopback"),
    ("http://2130706433/", "2130706433 is 127.0.0.1 written as one number",
     "check the resolved address, not the spelling of the host"),
    ("http://0.0.0.0/", "0.0.0.0 reaches this machine", "accept only global addresses"),
    ("http://100.100.100.200/", "100.100.100.200 is shared address space (a cloud's "
     "metadata service), neither private nor global",
     "accept only addresses whose is_global is true: an allow-list, not a list of bad ranges"),
    ("http://rebind.test/", "rebind.test resolves to a public AND a private address",
     "check every address the name resolves to, not only the first"),
    ("http://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1 is 10.0.0.1 in IPv6 clothing",
     "accept only global addresses"),
    ("file:///etc/passwd", "file: is not HTTP", "refuse every scheme but http and https"),
    ("gopher://hooks.partner.test/", "gopher: is not HTTP",
     "refuse every scheme but http and https"),
]  # fmt: skip


class _Resolver:
    """A fake resolver over ZONE (IP literals answer themselves), counting its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __repr__(self) -> str:
        return "resolve"

    def __call__(self, host: str, port: int | None = None) -> list[str]:
        self.calls.append(host)
        with contextlib.suppress(ValueError):
            return [str(ipaddress.ip_address(host.strip("[]")))]
        if host not in ZONE:
            raise socket.gaierror(socket.EAI_NONAME, f"Name or service not known: {host}")
        return list(ZONE[host])


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _is_address(host: Any) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@contextlib.contextmanager
def _loopback_only() -> Iterator[None]:
    """No DNS lookups and no connections beyond loopback while the learner's code runs."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host) and not _is_address(host):
            raise socket.gaierror(
                socket.EAI_NONAME, "the check allows no lookups: use the `resolve` you are given"
            )
        return real_getaddrinfo(host, *args, **kwargs)

    def guard(sock: socket.socket, address: Any) -> None:
        if sock.family != socket.AF_UNIX and not _is_loopback(address):
            raise PermissionError(
                "the check refuses connections: safe_destination must not connect"
            )

    def connect(self: socket.socket, address: Any) -> None:
        guard(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard(self, address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.getaddrinfo = real_getaddrinfo
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]


def _check_safe_destination(safe_destination: Callable[..., Any]) -> str:
    with _loopback_only():
        for url, expected in ALLOWED:
            resolver = _Resolver()
            answer = call(safe_destination, url, resolver)
            if not resolver.calls:
                raise Incorrect(
                    "resolve the name first, with the `resolve` function you are given; then "
                    "check the addresses, and return the address you checked"
                )
            if len(resolver.calls) > 1:
                raise Incorrect(
                    f"safe_destination({url!r}) resolved the name {len(resolver.calls)} times: "
                    "resolve once, and check and return that one answer (a second lookup can "
                    "answer differently: DNS rebinding)"
                )
            if isinstance(answer, tuple) and answer and answer[0] == "hooks.partner.test":
                raise Incorrect(
                    "return the address you checked, not the host name: whoever connects to "
                    "the name looks it up again, and may get another answer (DNS rebinding)"
                )
            if answer != expected and isinstance(answer, tuple) and len(answer) == 2:
                if (str(answer[0]), str(answer[1])) == (expected[0], str(expected[1])):
                    raise Incorrect(
                        f"safe_destination({url!r}) returned {answer!r}: return the address as "
                        f"a `str` and the port as an `int`, {expected!r}"
                    )
            if answer != expected:
                raise Incorrect(
                    f"safe_destination({url!r}) should return {expected!r}: the first address "
                    "`resolve` gave you, all of them checked, and the port (the URL's, else 80 "
                    f"or 443); you returned {answer!r}"
                )
        for url, what, fix in REFUSED:
            resolver = _Resolver()
            try:
                answer = safe_destination(url, resolver)
            except ValueError:
                continue
            except NotImplementedError:
                raise NotAttempted from None
            except Exception as exc:
                host = urlsplit(url).hostname
                if host and any(asked != host for asked in resolver.calls):
                    raise Incorrect(
                        f"safe_destination({url!r}) asked `resolve` for {resolver.calls[-1]!r}: "
                        f"pass it `urlsplit(url).hostname` ({host!r}); the netloc also holds "
                        "the port, a user name and the brackets of an IPv6 address"
                    ) from None
                raise Incorrect(
                    f"safe_destination({url!r}) raised {type(exc).__name__} ({what}): "
                    f"{fix}, and refuse by raising ValueError"
                ) from None
            raise Incorrect(f"accepted {url!r} ({what}; you returned {answer!r}): {fix}")
    return (
        "resolved once, every address checked against an allow-list (is_global), the checked "
        f"address returned, and all {len(REFUSED)} internal or non-HTTP URLs refused"
    )


q3 = Exercise(
    "15.3",
    "safe_destination: resolve, then refuse what is internal",
    _check_safe_destination,
    answer="safe_destination",
    hints=[
        "urllib.parse.urlsplit(url) gives .scheme, .hostname and .port; refuse any scheme "
        "but http and https with `raise ValueError(...)`.",
        "addresses = resolve(hostname, port); turn each into ipaddress.ip_address(...) and "
        "raise ValueError if any of them is not `.is_global`.",
        "Return (addresses[0], port), with port = parts.port or (443 if https else 80): the "
        "caller connects to that address, not to the name.",
    ],
    solution=SOLUTIONS,
)
