"""Reading client input safely: query parameters, JSON bodies and field validation.

Every helper raises `ApiError` with a message that names the offending parameter or field,
so handlers never see malformed input.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from .errors import ApiError

# A check looks at one field value and returns a problem description, or None if it is fine.
Check = Callable[[Any], str | None]

_DIGITS = re.compile(r"[0-9]+")
_ID = re.compile(r"[0-9]{1,18}")


def json_type(value: Any) -> str:
    """Name the JSON type of a decoded value ("object", "array", "string", ...)."""
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    names = {dict: "object", list: "array", str: "string", int: "number", float: "number"}
    return names.get(type(value), type(value).__name__)


def parse_id(raw: str) -> int | None:
    """The integer in a path segment like "17", or None for "abc", "-1", "1.5", ..."""
    return int(raw) if _ID.fullmatch(raw) else None


def query_int(
    request: web.Request, name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    """Read an integer query parameter in [minimum, maximum]; anything else is a 400."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw) if _DIGITS.fullmatch(raw) else None
    except ValueError:  # more digits than Python converts by default
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise ApiError(400, f"query parameter '{name}' must be an integer {bounds}, got {raw!r}")
    return value


def query_float(
    request: web.Request,
    name: str,
    default: float,
    minimum: float,
    maximum: float,
    *,
    minimum_allowed: bool = True,
) -> float:
    """Read a finite number query parameter between minimum and maximum; else a 400."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    too_small = value < minimum if minimum_allowed else value <= minimum
    if not math.isfinite(value) or too_small or value > maximum:
        low = ">=" if minimum_allowed else ">"
        raise ApiError(
            400,
            f"query parameter '{name}' must be a number {low} {minimum} and <= {maximum}, "
            f"got {raw!r}",
        )
    return value


def _reject_constant(name: str) -> None:
    """Refuse NaN and Infinity, which Python's json accepts but JSON does not have."""
    raise ValueError(f"{name} is not valid JSON")


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """Read the body as a JSON object: 400 if it is empty, not JSON, or not an object.

    Bodies over the app's ``client_max_size`` (1 MiB) make aiohttp raise 413.
    """
    body = await request.read()
    if not body.strip():
        raise ApiError(400, "the request body is empty; send a JSON object")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"the JSON body must be an object, not {json_type(data)}")
    return data


def validate(
    body: Mapping[str, Any], checks: Mapping[str, Check], *, partial: bool = False
) -> dict[str, Any]:
    """Check the fields named in `checks` and return their values; 422 with `fields` if any fail.

    With ``partial=True`` (PATCH) absent fields are fine; otherwise they are required.
    Fields not named in `checks` are ignored.
    """
    values, problems = {}, {}
    for name, check in checks.items():
        if name not in body:
            if not partial:
                problems[name] = "required"
            continue
        problem = check(body[name])
        if problem:
            problems[name] = problem
        else:
            values[name] = body[name]
    if problems:
        raise ApiError(422, "some fields are missing or invalid", fields=problems)
    return values


def text(max_length: int) -> Check:
    """A check for a non-blank string of at most `max_length` characters."""

    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"must be a string, not {json_type(value)}"
        if not value.strip():
            return "must not be empty"
        if len(value) > max_length:
            return f"must be at most {max_length} characters"
        return None

    return check


def email(value: Any) -> str | None:
    """A check for an e-mail address (a string of at most 254 characters containing @)."""
    if not isinstance(value, str):
        return f"must be a string, not {json_type(value)}"
    if "@" not in value:
        return "must contain @"
    if len(value) > 254:
        return "must be at most 254 characters"
    return None


def positive_int(value: Any) -> str | None:
    """A check for a JSON integer >= 1 (true/false and 2.0 are rejected)."""
    if type(value) is not int:
        return f"must be an integer, not {json_type(value)}"
    if value < 1:
        return "must be >= 1"
    return None


def any_json(value: Any) -> str | None:
    """A check that accepts every JSON value, null included."""
    return None
