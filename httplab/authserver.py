"""A minimal OAuth2 authorization server: the client credentials grant, issuing JWTs.

    >>> auth = authserver.create_app({"reporting": "s3cret"}, lifetime=60)
    >>> server = httplab.serve_aiohttp(auth, name="auth")
    >>> authserver.public_pem(auth)        # what a resource server verifies tokens with

``POST /token`` takes ``grant_type=client_credentials`` (a form body, RFC 6749 4.4) and
the client's id and secret, as HTTP Basic credentials or as ``client_id`` and
``client_secret`` form fields. It answers ``{"access_token": <JWT, RS256>, "token_type":
"Bearer", "expires_in": <lifetime>}`` with ``Cache-Control: no-store``; errors are the
RFC 6749 5.2 JSON (``invalid_client`` 401, ``unsupported_grant_type`` and
``invalid_request`` 400). The tokens carry ``iss`` (the server's URL), ``sub`` (the client
id), ``aud``, ``iat``, ``nbf``, ``exp`` and ``jti``. ``GET /.well-known/jwks.json`` publishes
the public key. Only a demo: real work uses an identity provider or Authlib's server.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

AUDIENCE = "https://api.course.test"
KEY = web.AppKey("key", rsa.RSAPrivateKey)
CLIENTS = web.AppKey("clients", dict)
LIFETIME = web.AppKey("lifetime", int)
ISSUED = web.AppKey("issued", list)  # the `sub` of every token issued, in order

routes = web.RouteTableDef()


def create_app(
    clients: dict[str, str], *, lifetime: int = 300, key: rsa.RSAPrivateKey | None = None
) -> web.Application:
    """An authorization server for these clients (id -> secret); tokens live `lifetime` s."""
    app = web.Application()
    app[KEY] = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    app[CLIENTS] = dict(clients)
    app[LIFETIME] = lifetime
    app[ISSUED] = []
    app.add_routes(routes)
    return app


def public_pem(app: web.Application) -> str:
    """The server's public key, PEM-encoded: what a resource server verifies tokens with."""
    return (
        app[KEY]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def issued(app: web.Application) -> int:
    """How many tokens the server has issued."""
    return len(app[ISSUED])


def _error(status: int, error: str, description: str) -> web.Response:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="token"'
    body = {"error": error, "error_description": description}
    return web.json_response(body, status=status, headers=headers)


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


@routes.post("/token")
async def token(request: web.Request) -> web.Response:
    if request.content_type != "application/x-www-form-urlencoded":
        return _error(
            400, "invalid_request", "send a form body (application/x-www-form-urlencoded)"
        )
    form = await request.post()
    if form.get("grant_type") != "client_credentials":
        return _error(400, "unsupported_grant_type", "this server knows client_credentials only")
    credentials = _basic(request.headers.get("Authorization", ""))
    if credentials is None:
        credentials = (str(form.get("client_id", "")), str(form.get("client_secret", "")))
    client_id, secret = credentials
    known = request.app[CLIENTS].get(client_id)
    if known is None or not secrets.compare_digest(secret.encode(), known.encode()):
        return _error(401, "invalid_client", "unknown client or wrong secret")
    now = int(time.time())
    lifetime = request.app[LIFETIME]
    claims = {
        "iss": f"{request.scheme}://{request.host}",
        "sub": client_id,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": secrets.token_hex(8),
    }
    request.app[ISSUED].append(client_id)
    access_token = jwt.encode(claims, request.app[KEY], algorithm="RS256")
    body = {"access_token": access_token, "token_type": "Bearer", "expires_in": lifetime}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


@routes.get("/.well-known/jwks.json")
async def jwks(request: web.Request) -> web.Response:
    public = request.app[KEY].public_key()
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    jwk.update({"use": "sig", "alg": "RS256"})
    return web.json_response({"keys": [jwk]})
