"""Lesson 15's checks reject the classic mistakes of each defence: `==` on signatures, a
re-serialised body, no replay window; a JWT decoded without verifying or without its
audience; a host name checked before it is resolved. Each check also passes on a correct
answer written differently from the solution."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import socket
import time
from urllib.parse import urlparse, urlsplit

import jwt
import pytest
from aiohttp import web
from exercise_testing import assert_incorrect

from httplab.checks import Outcome
from httplab.exercises.lesson15 import CLAIMS, q1, q2, q3

# --- 15.1 verify_webhook -------------------------------------------------------------------


def parse(header):
    fields = {}
    for part in header.split(","):
        key, _, value = part.partition("=")
        fields[key.strip()] = value.strip()
    return int(fields["t"]), fields["v1"]


def webhook(*, reserialise=False, window=300, both_ways=True, edge_refused=False,
            replays=True, remember_time=False, body_only=False, clock=None,
            strict_parse=False, compare_text=False):  # fmt: skip
    """A verify_webhook with one mistake switched on (or none: then it is correct)."""

    def verify_webhook(header, body, secret, now, seen):
        if strict_parse:
            timestamp, signature = parse(header)
        else:
            try:
                timestamp, signature = parse(header)
                given = None if compare_text else bytes.fromhex(signature)
            except (KeyError, ValueError):
                return False
        if reserialise:
            body = json.dumps(json.loads(body)).encode()
        signed = body if body_only else f"{timestamp}.".encode() + body
        mac = hmac.new(secret, signed, hashlib.sha256)
        if compare_text or strict_parse:  # the hex strings, as text
            same = hmac.compare_digest(mac.hexdigest(), signature)
        else:
            same = hmac.compare_digest(mac.digest(), given)
        if not same:
            return False
        age = (clock() if clock else now) - timestamp
        distance = abs(age) if both_ways else age
        if distance > window or (edge_refused and distance == window):
            return False
        if replays:
            remembered = timestamp if remember_time else signature
            if remembered in seen:
                return False
            seen.add(remembered)
        return True

    return verify_webhook


def with_equals(header, body, secret, now, seen):
    try:
        timestamp, signature = parse(header)
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if expected != signature or abs(now - timestamp) > 300 or signature in seen:
        return False
    seen.add(signature)
    return True


def fails_open(header, body, secret, now, seen):
    try:
        timestamp, signature = parse(header)
        expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return False
    except (KeyError, ValueError):
        return True  # "if in doubt, let it through"
    if abs(now - timestamp) > 300 or signature in seen:
        return False
    seen.add(signature)
    return True


def remembers_too_early(header, body, secret, now, seen):
    try:
        timestamp, signature = parse(header)
    except (KeyError, ValueError):
        return False
    if signature in seen or abs(now - timestamp) > 300:
        return False
    seen.add(signature)  # before the signature is verified
    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def test_webhook_with_its_own_parser_passes():
    def verify_webhook(header, body, secret, now, seen):
        parts = dict(item.split("=", 1) for item in header.split(",") if item.count("=") == 1)
        if not parts.get("t", "").isdigit() or "v1" not in parts:
            return False
        mac = hmac.new(secret, digestmod="sha256")
        mac.update(parts["t"].encode() + b"." + body)
        fresh = -300 <= now - int(parts["t"]) <= 300
        key = (parts["t"], parts["v1"])
        ok = hmac.compare_digest(mac.hexdigest().encode(), parts["v1"].encode())
        if ok and fresh and key not in seen:
            seen.add(key)
            return True
        return False

    result = q1.check(verify_webhook)
    assert result.outcome is Outcome.CORRECT, result.message


def test_webhook_with_a_regex_and_raw_digests_passes():
    def verify_webhook(header, body, secret, now, seen):
        match = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", header)
        if match is None:
            return False
        timestamp, signature = int(match[1]), match[2]
        mac = hmac.new(secret, b"%d." % timestamp + body, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, bytes.fromhex(signature)):
            return False
        if abs(now - timestamp) > 300 or signature in seen:
            return False
        seen.add(signature)
        return True

    result = q1.check(verify_webhook)
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (with_equals, "compare the signatures with hmac.compare_digest, not =="),
        (webhook(reserialise=True), "compute the HMAC over the raw body bytes exactly as received"),
        (webhook(body_only=True), "the signed bytes are the timestamp, a dot, then the body"),
        (webhook(window=10**9), "accepted a delivery signed 600 s ago: refuse a timestamp"),
        (webhook(both_ways=False), "accepted a delivery dated 600 s in the future: compare abs("),
        (webhook(replays=False), "accepted the same delivery twice: add each accepted signature"),
        (webhook(clock=time.time), "with the `now` argument, not time.time()"),
        (webhook(strict_parse=True), "for a header you cannot parse, return False"),
        (remembers_too_early, "add a signature to `seen` only once every check passed"),
        (webhook(window=0), "refused a delivery signed 5 s before `now`"),
        (webhook(window=20), "refused a delivery dated 30 s ahead of `now`"),
        (webhook(edge_refused=True), "refuse only a timestamp *more* than 300 s away"),
        (webhook(remember_time=True), "remember each accepted signature (`v1`) in `seen`, not"),
        (fails_open, "parse it inside `try`/`except (KeyError, ValueError)` and return `False`"),
        (webhook(compare_text=True), "turn `v1` into bytes with `bytes.fromhex(v1)`"),
    ],
)  # fmt: skip
def test_webhook_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


# --- 15.2 jwt_middleware -------------------------------------------------------------------


def unauthorized():
    return web.json_response(
        {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"}
    )


def middleware(decode, *, catch=jwt.InvalidTokenError, status=401, challenge=True):
    """A jwt_middleware whose decoding step is `decode(token, key, audience, issuer)`."""

    def jwt_middleware(public_key, audience, issuer):
        @web.middleware
        async def check(request, handler):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return unauthorized()
            try:
                claims = decode(header.removeprefix("Bearer "), public_key, audience, issuer)
            except catch:
                headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if challenge else {}
                return web.json_response({"error": "invalid token"}, status=status, headers=headers)
            request[CLAIMS] = claims
            return await handler(request)

        return check

    return jwt_middleware


def full(token, key, audience, issuer, leeway=30, options=None):
    options = {"require": ["exp"]} | (options or {})
    return jwt.decode(
        token, key, algorithms=["RS256"], audience=audience, issuer=issuer, leeway=leeway,
        options=options,
    )  # fmt: skip


def test_a_middleware_that_raises_http_unauthorized_passes():
    def jwt_middleware(public_key, audience, issuer):
        @web.middleware
        async def check(request, handler):
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            try:
                if scheme != "Bearer":
                    raise jwt.InvalidTokenError("no bearer token")
                request[CLAIMS] = jwt.decode(
                    token, key=public_key, algorithms=("RS256",), audience=[audience],
                    issuer=issuer, leeway=30, options={"require": ["exp", "iat"]},
                )  # fmt: skip
            except jwt.PyJWTError as error:
                raise web.HTTPUnauthorized(
                    headers={"WWW-Authenticate": f'Bearer error="invalid_token", "{error}"'}
                ) from None
            return await handler(request)

        return check

    result = q2.check(jwt_middleware)
    assert result.outcome is Outcome.CORRECT, result.message


def from_header(token, key, audience, issuer):
    algorithm = jwt.get_unverified_header(token)["alg"]
    return jwt.decode(token, key, algorithms=[algorithm], audience=audience, issuer=issuer)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (middleware(lambda t, k, a, i: jwt.decode(t, options={"verify_signature": False})),
         "accepted an unsigned token (alg none) claiming to be admin: never decode without"),
        (middleware(from_header),
         "verified with `algorithms=['none']`: pin `algorithms=['RS256']`"),
        (middleware(from_header, catch=jwt.PyJWTError),
         "verified with `algorithms=['none']`: pin `algorithms=['RS256']`"),
        (middleware(lambda t, k, a, i: full(t, k, a, i) if jwt.get_unverified_header(t)["alg"]
                    == "RS256" else jwt.decode(t, k, algorithms=["RS256", "HS256"], audience=a,
                                               issuer=i, leeway=30), catch=jwt.PyJWTError),
         "verified with `algorithms=['RS256', 'HS256']`: pin `algorithms=['RS256']`"),
        (middleware(lambda t, k, a, i: full(t, k, a, i, options={"verify_aud": False})),
         "accepted a token issued for another API (aud): pass audience=audience"),
        (middleware(lambda t, k, a, i: jwt.decode(t, k, algorithms=["RS256"], audience=a)),
         "accepted a token without an exp claim: require it"),
        (middleware(lambda t, k, a, i: full(t, k, a, None)),
         "accepted a token from another issuer (iss): pass issuer=issuer"),
        (middleware(lambda t, k, a, i: full(t, k, a, i, leeway=3600)),
         "accepted a token that expired 2 minutes ago: keep exp checked"),
        (middleware(lambda t, k, a, i: full(t, k, a, i, leeway=0)),
         "refused a token that expired 10 s ago: clocks differ, allow leeway=30"),
        (middleware(full, catch=jwt.ExpiredSignatureError),
         "raised DecodeError on the malformed token 'not.a.jwt': catch jwt.InvalidTokenError"),
        (middleware(full, status=403), "got status 403: answer 401 Unauthorized"),
        (middleware(full, challenge=False), "got 401 without `WWW-Authenticate: Bearer ...`"),
        (middleware(lambda t, k, a, i: jwt.decode(t, k, algorithms=["RS256"])),
         "a valid token got status 401: verify with jwt.decode(token, public_key"),
    ],
)  # fmt: skip
def test_jwt_middleware_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


def bearer_token(token_of):
    """A jwt_middleware that finds the token with `token_of(Authorization header)`."""

    def jwt_middleware(public_key, audience, issuer):
        @web.middleware
        async def check(request, handler):
            try:
                token = token_of(request.headers.get("Authorization", ""))
                request[CLAIMS] = full(token, public_key, audience, issuer)
            except (jwt.InvalidTokenError, IndexError):
                return unauthorized()
            return await handler(request)

        return check

    return jwt_middleware


def without_the_decorator(public_key, audience, issuer):
    async def check(request, handler):  # an old-style middleware to aiohttp
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            if scheme != "Bearer":
                raise jwt.InvalidTokenError("not a bearer token")
            request[CLAIMS] = full(token, public_key, audience, issuer)
        except jwt.InvalidTokenError:
            return unauthorized()
        return await handler(request)

    return check


def handler_inside_try(public_key, audience, issuer):
    @web.middleware
    async def check(request, handler):
        try:
            scheme, token = request.headers["Authorization"].split(" ", 1)
            assert scheme == "Bearer"
            request[CLAIMS] = full(token, public_key, audience, issuer)
            return await handler(request)
        except Exception:  # the handler's own errors end up here too
            return unauthorized()

    return check


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (without_the_decorator, "decorate the middleware with `@web.middleware`"),
        (handler_inside_try, "put only the token check inside `try`/`except"),
        (bearer_token(lambda header: header.replace("Bearer ", "")),
         "accepted a valid token with no `Bearer` before it: take the token only from"),
        (bearer_token(lambda header: header.split()[-1]),
         "accepted a valid token sent as `Token <token>`: take the token only from"),
    ],
)  # fmt: skip
def test_jwt_middleware_shape_mistakes(wrong, message):
    assert_incorrect(q2.check(wrong), message)


def test_a_pyjwt_instance_and_a_case_insensitive_scheme_pass():
    def jwt_middleware(public_key, audience, issuer):
        decoder = jwt.PyJWT(options={"require": ["exp", "aud", "iss"]})

        @web.middleware
        async def check(request, handler):
            authorization = request.headers.get("Authorization", "")
            if not authorization.lower().startswith("bearer "):
                raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
            try:
                claims = decoder.decode(
                    authorization[7:].strip(), key=public_key, algorithms=["RS256"],
                    audience=audience, issuer=issuer, leeway=30,
                )  # fmt: skip
            except jwt.PyJWTError:
                challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
                raise web.HTTPUnauthorized(headers=challenge) from None
            request[CLAIMS] = claims
            return await handler(request)

        return check

    result = q2.check(jwt_middleware)
    assert result.outcome is Outcome.CORRECT, result.message


def test_jwt_middleware_must_store_the_claims():
    def jwt_middleware(public_key, audience, issuer):
        @web.middleware
        async def check(request, handler):
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                full(token, public_key, audience, issuer)
            except jwt.InvalidTokenError:
                return unauthorized()
            return await handler(request)

        return check

    assert_incorrect(
        q2.check(jwt_middleware), "store the dict jwt.decode returns in request[CLAIMS]"
    )


# --- 15.3 safe_destination -----------------------------------------------------------------

BLOCKED_NAMES = {"localhost", "127.0.0.1", "0.0.0.0", "169.254.169.254", "::1"}


def destination(*, name_check=False, first_only=False, rule="global", schemes=("http", "https"),
                return_name=False, lookups=1):  # fmt: skip
    """A safe_destination with one mistake switched on (or none)."""

    def safe_destination(url, resolve):
        parts = urlsplit(url)
        if schemes and parts.scheme not in schemes:
            raise ValueError("only http and https")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if name_check:
            if parts.hostname in BLOCKED_NAMES:
                raise ValueError("internal host")
            return parts.hostname, port
        for _ in range(lookups):
            addresses = resolve(parts.hostname, port)
        for address in addresses[:1] if first_only else addresses:
            ip = ipaddress.ip_address(address)
            bad = {"global": not ip.is_global, "private": ip.is_private,
                   "loopback": ip.is_loopback}[rule]  # fmt: skip
            if bad:
                raise ValueError(f"{address} is internal")
        return (parts.hostname if return_name else addresses[0]), port

    return safe_destination


def test_getaddrinfo_style_resolution_inside_passes():
    def safe_destination(url, resolve):
        split = urlsplit(url)
        if split.scheme.lower() not in {"http", "https"}:
            raise ValueError(f"scheme {split.scheme!r} refused")
        port = split.port if split.port else {"http": 80, "https": 443}[split.scheme]
        checked = [ipaddress.ip_address(a) for a in resolve(split.hostname, port)]
        if not checked or any(not a.is_global for a in checked):
            raise ValueError("destination is not on the public internet")
        return str(checked[0]), port

    result = q3.check(safe_destination)
    assert result.outcome is Outcome.CORRECT, result.message


def checked(host, port, addresses, *, pick=0, as_text=True):
    """Refuse unless every address is global; return addresses[pick] (as text or not), port."""
    ips = [ipaddress.ip_address(address) for address in addresses]
    if not all(ip.is_global for ip in ips):
        raise ValueError(f"{host} is internal")
    return (addresses[pick] if as_text else ips[pick]), port


def netloc_host(url, resolve):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("only http and https")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.netloc.split(":")[0]  # the netloc, not the hostname
    return checked(host, port, resolve(host, port))


def last_address(url, resolve):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("only http and https")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return checked(parts.hostname, port, resolve(parts.hostname, port), pick=-1)


def address_objects(url, resolve):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("only http and https")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return checked(parts.hostname, port, resolve(parts.hostname, port), as_text=False)


def test_urlparse_and_unwrapped_mapped_addresses_pass():
    def safe_destination(url, resolve):
        parsed = urlparse(url)
        defaults = {"http": 80, "https": 443}
        if parsed.scheme not in defaults or parsed.hostname is None:
            raise ValueError("not an http(s) URL")
        port = parsed.port if parsed.port is not None else defaults[parsed.scheme]
        found = list(resolve(parsed.hostname, port))
        for text in found:
            ip = ipaddress.ip_address(text)
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            if not ip.is_global:
                raise ValueError(f"{text} is not public")
        if not found:
            raise ValueError("no address")
        return found[0], port

    result = q3.check(safe_destination)
    assert result.outcome is Outcome.CORRECT, result.message


def connects_to_check(url, resolve):
    parts = urlsplit(url)
    (address,) = resolve(parts.hostname, parts.port or 80)[:1]
    socket.create_connection((address, parts.port or 80), timeout=0.1).close()
    return address, parts.port or 80


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (destination(name_check=True), "resolve the name first, with the `resolve` function"),
        (destination(first_only=True), "check every address the name resolves to, not only"),
        (destination(rule="private"), "accept only addresses whose is_global is true"),
        (destination(rule="loopback"), "accepted 'http://internal.test/admin' (internal.test "
         "resolves to 10.0.0.1"),
        (destination(schemes=()), "refuse every scheme but http and https"),
        (destination(return_name=True), "return the address you checked, not the host name"),
        (destination(lookups=2), "resolved the name 2 times: resolve once"),
        (connects_to_check, "raised PermissionError: the check refuses connections"),
        (netloc_host, "asked `resolve` for '[': pass it `urlsplit(url).hostname`"),
        (last_address, "should return ('93.184.215.14', 80): the first address `resolve` gave"),
        (address_objects, "return the address as a `str` and the port as an `int`"),
    ],
)  # fmt: skip
def test_safe_destination_wrong_answers(wrong, message):
    assert_incorrect(q3.check(wrong), message)


def test_a_plain_host_check_before_resolving_is_caught():
    def safe_destination(url, resolve):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError("scheme")
        if parts.hostname in BLOCKED_NAMES or parts.hostname.startswith(("10.", "192.168.")):
            raise ValueError("internal")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return resolve(parts.hostname, port)[0], port

    assert_incorrect(q3.check(safe_destination), "(internal.test resolves to 10.0.0.1")
