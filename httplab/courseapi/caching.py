"""HTTP caching and conditional requests: one resource per Cache-Control policy, a resource
that varies on Accept-Language, and notes whose ETag changes on every write (If-Match, 412, 428).

Preconditions follow RFC 9110 §13.2.2: If-Match (strong comparison) first, then If-None-Match
(weak comparison), then If-Modified-Since (GET and HEAD only, ignored when If-None-Match is
present). A 304 carries the headers a 200 would (ETag, Cache-Control, Expires, Vary,
Last-Modified) and no body.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

from aiohttp import web

from .errors import ApiError
from .inputs import query_float, query_int, read_json_object
from .lru import LRUDict
from .stats import client_id

MAX_NOTES = 10_000
YEAR = 365 * 24 * 3600
PAYLOAD = "cacheable-bytes-"  # repeated to make a body of the asked size

# name → Cache-Control template (None: the policy sends no Cache-Control)
POLICIES: dict[str, str | None] = {
    "max-age": "max-age={max_age}",
    "no-cache": "no-cache",
    "no-store": "no-store",
    "private": "private, max-age={max_age}",
    "public": "public, max-age={max_age}",
    "immutable": "public, max-age={max_age}, immutable",
    "must-revalidate": "max-age={max_age}, must-revalidate",
    "stale-while-revalidate": "max-age={max_age}, stale-while-revalidate={swr}",
    "expires": None,  # Expires: Date + max_age instead of Cache-Control
    "heuristic": None,  # only Last-Modified: caches may guess a lifetime from it
}

GREETINGS = {"en": "Hello", "fr": "Bonjour", "de": "Hallo", "es": "Hola"}
LANGUAGE = re.compile(r"\s*([A-Za-z]{1,8})")
KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
ENTITY_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')

routes = web.RouteTableDef()


@dataclass
class Note:
    """One note: a JSON object and a version that goes up on every write."""

    version: int
    data: dict[str, Any]

    @property
    def etag(self) -> str:
        digest = hashlib.sha256(json.dumps(self.data, sort_keys=True).encode()).hexdigest()
        return f'"v{self.version}-{digest[:10]}"'


class CacheLab:
    """The notes of every client, and when the app started (Last-Modified is 10 days before)."""

    notes: LRUDict[tuple[str, str], Note]

    def __init__(self) -> None:
        self.started = int(time.time())
        self.reset()

    def reset(self) -> None:
        """Forget every note."""
        self.notes = LRUDict(MAX_NOTES)


CACHE = web.AppKey("caching", CacheLab)


def parse_entity_tags(value: str) -> list[tuple[bool, str]] | None:
    """`W/"a", "b"` → [(True, '"a"'), (False, '"b"')]; None for `*`; [] if malformed."""
    if value.strip() == "*":
        return None
    tags, position = [], 0
    while position < len(value):
        match = ENTITY_TAG.match(value, position)
        if match is None:
            return []
        tags.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return tags


def strong_match(header: str, etag: str) -> bool:
    """If-Match: strong comparison, so a weak tag (W/...) never matches (RFC 9110 §8.8.3.2)."""
    tags = parse_entity_tags(header)
    if tags is None:
        return True
    weak, opaque = _split(etag)
    return not weak and any(not w and tag == opaque for w, tag in tags)


def weak_match(header: str, etag: str) -> bool:
    """If-None-Match: weak comparison, W/ ignored on both sides (RFC 9110 §13.1.2)."""
    tags = parse_entity_tags(header)
    if tags is None:
        return True
    return any(tag == _split(etag)[1] for _, tag in tags)


def _split(etag: str) -> tuple[bool, str]:
    return (True, etag[2:]) if etag.startswith("W/") else (False, etag)


def _http_date(header: str) -> int | None:
    try:
        return int(parsedate_to_datetime(header).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def preconditions(
    request: web.Request, etag: str | None, last_modified: int | None = None
) -> int | None:
    """The status the preconditions ask for (304 or 412), or None to go on (RFC 9110 §13.2.2).

    `etag` None means the resource does not exist.
    """
    if_match = request.headers.get("If-Match")
    if if_match is not None and (etag is None or not strong_match(if_match, etag)):
        return 412
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if etag is not None and weak_match(if_none_match, etag):
            return 304 if request.method in ("GET", "HEAD") else 412
        return None
    since = request.headers.get("If-Modified-Since")
    if since and last_modified is not None and request.method in ("GET", "HEAD"):
        moment = _http_date(since)
        if moment is not None and last_modified <= moment:
            return 304
    return None


def answer(request: web.Request, body: dict[str, Any], headers: dict[str, str]) -> web.Response:
    """200 with the JSON body, or 304 with the same headers and no body if a validator matches."""
    last_modified = headers.get("Last-Modified")
    status = preconditions(
        request, headers.get("ETag"), _http_date(last_modified) if last_modified else None
    )
    if status == 304:
        return web.Response(status=304, headers=headers)
    if status == 412:
        raise ApiError(412, "If-Match does not match the current ETag (strong comparison)")
    return web.json_response(body, headers=headers)


def _flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise ApiError(400, f"query parameter '{name}' must be true or false, got {raw!r}")
    return raw in ("true", "1")


def _etag(body: dict[str, Any], weak: bool) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return f'W/"{digest}"' if weak else f'"{digest}"'


@routes.get("/api/cache/policy/{name}")
async def policy(request: web.Request) -> web.Response:
    """A resource served with the named caching policy, an ETag and a Last-Modified."""
    name = request.match_info["name"]
    if name not in POLICIES:
        raise ApiError(404, f"there is no policy {name!r}; policies: {', '.join(POLICIES)}")
    max_age = query_int(request, "max_age", 60, minimum=0, maximum=YEAR)
    swr = query_int(request, "swr", 60, minimum=0, maximum=YEAR)
    size = query_int(request, "size", 64, minimum=0, maximum=1024 * 1024)
    default_modified = request.app[CACHE].started - 10 * 24 * 3600
    modified_at = query_int(request, "modified_at", default_modified, minimum=0, maximum=2**32)
    weak = _flag(request, "weak")
    delay = query_float(request, "delay", 0.0, 0.0, 5.0)
    template = POLICIES[name]
    cache_control = template.format(max_age=max_age, swr=swr) if template else None
    payload = (PAYLOAD * (size // len(PAYLOAD) + 1))[:size]
    body = {"policy": name, "cache_control": cache_control, "payload": payload}
    headers = {
        "ETag": _etag(body, weak),
        "Last-Modified": formatdate(modified_at, usegmt=True),
    }
    if cache_control:
        headers["Cache-Control"] = cache_control
    if name == "expires":  # Date and Expires from the same instant: Expires - Date = max_age
        now = int(time.time())
        headers["Date"] = formatdate(now, usegmt=True)
        headers["Expires"] = formatdate(now + max_age, usegmt=True)
    await asyncio.sleep(delay)  # a slow origin, for 200 and 304 alike
    return answer(request, body, headers)


@routes.get("/api/cache/greeting")
async def greeting(request: web.Request) -> web.Response:
    """A greeting in the first language of Accept-Language that the lab knows (else English)."""
    language = "en"
    for part in request.headers.get("Accept-Language", "").split(","):
        match = LANGUAGE.match(part)
        if match and match.group(1).lower() in GREETINGS:
            language = match.group(1).lower()
            break
    body = {"language": language, "greeting": GREETINGS[language]}
    headers = {
        "Cache-Control": "max-age=60",
        "Vary": "Accept-Language",
        "Content-Language": language,
        "ETag": _etag(body, weak=False),
    }
    return answer(request, body, headers)


def _note_key(request: web.Request) -> tuple[str, str]:
    key = request.match_info["key"]
    if not KEY.fullmatch(key):
        raise ApiError(400, "a note key is 1 to 64 letters, digits, '_', '.' or '-'")
    return client_id(request), key


def _note_parts(request: web.Request, note: Note) -> tuple[dict[str, Any], dict[str, str]]:
    body = {"key": request.match_info["key"], "version": note.version, "data": note.data}
    return body, {"ETag": note.etag, "Cache-Control": "no-cache"}


def _note_response(request: web.Request, note: Note, status: int = 200) -> web.Response:
    body, headers = _note_parts(request, note)
    return web.json_response(body, status=status, headers=headers)


def _check_write(request: web.Request, note: Note | None, guarded: bool) -> None:
    """Apply If-Match / If-None-Match to a write; a guarded note demands one of them (428)."""
    has_condition = "If-Match" in request.headers or "If-None-Match" in request.headers
    if guarded and not has_condition:
        raise ApiError(
            428,
            "this resource requires a conditional write: send If-Match with the ETag you "
            "read (or If-None-Match: * to create it)",
        )
    if preconditions(request, note.etag if note else None) == 412:
        if note is not None and "If-None-Match" in request.headers:
            detail = "the note already exists (If-None-Match: *)"
        elif "W/" in request.headers.get("If-Match", ""):
            detail = "If-Match uses the strong comparison: a weak tag (W/...) never matches"
        else:
            detail = (
                "the note changed since you read it: If-Match does not match its current "
                "ETag; GET it again, reapply your change, and retry"
            )
        raise ApiError(412, detail)


def merge_patch(target: Any, patch: Any) -> Any:
    """JSON Merge Patch (RFC 7396): objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


async def _notes(request: web.Request, guarded: bool) -> web.Response:
    store = request.app[CACHE].notes
    key = _note_key(request)
    note = store.get(key)
    if request.method in ("GET", "HEAD"):
        if note is None:
            raise ApiError(404, f"there is no note {key[1]!r} (PUT one first)")
        return answer(request, *_note_parts(request, note))
    if request.method == "PATCH" and note is None:
        raise ApiError(404, f"there is no note {key[1]!r} to patch (PUT creates one)")
    if request.method == "DELETE" and note is None:
        raise ApiError(404, f"there is no note {key[1]!r}")
    body = None if request.method == "DELETE" else await read_json_object(request)
    _check_write(request, note, guarded)
    if request.method == "DELETE":
        del store[key]
        return web.Response(status=204)
    if request.method == "PATCH":
        assert note is not None
        store[key] = Note(note.version + 1, merge_patch(note.data, body))
        return _note_response(request, store[key])
    store[key] = Note(note.version + 1 if note else 1, body)
    return _note_response(request, store[key], status=200 if note else 201)


@routes.route("*", "/api/cache/notes/{key}")
async def notes(request: web.Request) -> web.Response:
    """A note: If-Match is honoured when sent, but a write without it wins (lost updates)."""
    return await _dispatch(request, guarded=False)


@routes.route("*", "/api/cache/guarded/{key}")
async def guarded_notes(request: web.Request) -> web.Response:
    """A note that refuses unconditional writes with 428 Precondition Required."""
    return await _dispatch(request, guarded=True)


NOTE_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "PUT")


async def _dispatch(request: web.Request, guarded: bool) -> web.Response:
    if request.method not in NOTE_METHODS:
        raise web.HTTPMethodNotAllowed(request.method, NOTE_METHODS)
    return await _notes(request, guarded)
