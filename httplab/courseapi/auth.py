"""Authentication: a session cookie (login/logout/me), Basic → Bearer tokens, and roles."""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import ApiError
from .inputs import read_json_object, text, validate
from .lru import LRUDict

MAX_SESSIONS = 1000  # per kind (cookies, tokens); the oldest are forgotten first
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="course"'}
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="course"'}
INVALID_TOKEN = {"WWW-Authenticate": 'Bearer realm="course", error="invalid_token"'}

routes = web.RouteTableDef()


@dataclass(frozen=True)
class Account:
    password: str
    role: str


ACCOUNTS = {"alice": Account("wonderland", "user"), "admin": Account("letmein", "admin")}


class AuthStore:
    """Live session cookies and bearer tokens, each mapped to a username."""

    sessions: LRUDict[str, str]
    tokens: LRUDict[str, str]

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Log everybody out."""
        self.sessions = LRUDict(MAX_SESSIONS)
        self.tokens = LRUDict(MAX_SESSIONS)


AUTH = web.AppKey("auth", AuthStore)


def _password_ok(username: str, password: str) -> bool:
    """Compare in constant time, so response timing does not leak the password."""
    account = ACCOUNTS.get(username)
    given = password.encode("utf-8", "surrogatepass")  # JSON may carry lone surrogates
    return account is not None and hmac.compare_digest(account.password.encode(), given)


async def _login_fields(request: web.Request) -> Mapping[str, Any]:
    """The login body: form fields if the Content-Type says so, JSON otherwise."""
    if request.content_type not in FORM_TYPES:
        return await read_json_object(request)
    try:
        return await request.post()
    except (ValueError, LookupError) as exc:  # e.g. no multipart boundary, unknown charset
        raise ApiError(400, f"the form body could not be parsed: {exc}") from None


def _basic_credentials(request: web.Request) -> tuple[str, str] | None:
    """(username, password) from `Authorization: Basic base64(username:password)`, or None."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:  # not base64, or not UTF-8
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


def _bearer_user(request: web.Request) -> str:
    """The user of the `Authorization: Bearer <token>` header, or a 401 with a challenge."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        raise ApiError(401, "send Authorization: Bearer <token>", headers=BEARER_CHALLENGE)
    username = request.app[AUTH].tokens.get(token.strip())
    if username is None:
        raise ApiError(401, "the bearer token is invalid or expired", headers=INVALID_TOKEN)
    return username


@routes.post("/api/login")
async def login(request: web.Request) -> web.Response:
    """Check username/password (JSON or form) and set an HttpOnly session cookie."""
    checks = {"username": text(100), "password": text(100)}
    fields = validate(await _login_fields(request), checks)
    if not _password_ok(fields["username"], fields["password"]):
        raise ApiError(401, "wrong username or password")
    token = secrets.token_urlsafe(32)
    request.app[AUTH].sessions[token] = fields["username"]
    response = web.json_response({"username": fields["username"]})
    response.set_cookie("session", token, httponly=True, path="/", samesite="Lax")
    return response


@routes.post("/api/logout")
async def logout(request: web.Request) -> web.Response:
    """Forget the session and tell the browser to drop the cookie; 204."""
    request.app[AUTH].sessions.pop(request.cookies.get("session", ""), None)
    response = web.Response(status=204)
    response.del_cookie("session", path="/")
    return response


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    """Who the session cookie belongs to; 401 without a valid cookie."""
    username = request.app[AUTH].sessions.get(request.cookies.get("session", ""))
    if username is None:
        raise ApiError(401, "log in first: POST /api/login sets the session cookie")
    return web.json_response({"username": username, "role": ACCOUNTS[username].role})


@routes.post("/api/token")
async def issue_token(request: web.Request) -> web.Response:
    """Exchange HTTP Basic credentials for a bearer token."""
    credentials = _basic_credentials(request)
    if credentials is None:
        raise ApiError(401, "send Authorization: Basic <credentials>", headers=BASIC_CHALLENGE)
    username, password = credentials
    if not _password_ok(username, password):
        raise ApiError(401, "wrong username or password", headers=BASIC_CHALLENGE)
    token = secrets.token_urlsafe(32)
    request.app[AUTH].tokens[token] = username
    return web.json_response({"access_token": token, "token_type": "Bearer"})


@routes.get("/api/private")
async def private(request: web.Request) -> web.Response:
    """Only for a valid bearer token."""
    return web.json_response({"username": _bearer_user(request)})


@routes.get("/api/admin")
async def admin(request: web.Request) -> web.Response:
    """Only for the admin role: bearer token or session cookie; 401 if unknown, 403 if not admin."""
    if "Authorization" in request.headers:
        username = _bearer_user(request)
    else:
        username = request.app[AUTH].sessions.get(request.cookies.get("session", ""))
        if username is None:
            raise ApiError(401, "log in or send a bearer token", headers=BEARER_CHALLENGE)
    if ACCOUNTS[username].role != "admin":
        raise ApiError(403, f"{username} is authenticated but is not an admin")
    return web.json_response({"username": username, "role": "admin"})
