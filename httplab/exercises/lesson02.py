"""Exercises of lesson 02: methods, read from the server and tested by experiment.

q1 asks a URL which methods it allows (OPTIONS), q2 measures a download without making it
(HEAD), q3 classifies any request as safe and/or idempotent by experiment. The checks read
the course API's request log (the URLs they give carry ``?client=<id>``) to see which
methods the learner really sent.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import requests

from .. import lab as _lab
from ..checks import Exercise, Incorrect, call
from ..methods import serve_counter

COUNTER = "check02-counter"  # the counter service of q3 (its own name: the lesson keeps its own)


def _log(client: str) -> list[dict[str, Any]]:
    return _lab.start().stats(client)["log"]


def _methods_sent(client: str, path: str, since: int = 0) -> list[str]:
    """The methods the course API saw from `client` on `path`, after the first `since` entries."""
    return [entry["method"] for entry in _log(client)[since:] if entry["path"] == path]


# --- q1: OPTIONS and Allow ---------------------------------------------------------------------


def _allow(url: str) -> set[str]:
    response = requests.options(url, timeout=5)
    return {method.strip() for method in response.headers["Allow"].split(",")}


def _check_allowed_methods(allowed_methods) -> str:
    lab = _lab.start()
    client = _lab.new_client_id("ex02")
    counter = serve_counter(COUNTER)
    probes = [
        (f"{lab.api}/api/users?client={client}", "/api/users"),
        (f"{lab.api}/api/users/3?client={client}", "/api/users/3"),
        (f"{lab.api}/api/users/3/orders?client={client}", "/api/users/3/orders"),
        (f"{lab.httpbin}/anything", "/anything on httpbin"),
        (f"{counter}/counter", "/counter on the counter service"),
    ]
    for url, shown in probes:
        try:
            answer = call(allowed_methods, url)
        except Incorrect as wrong:
            if url.startswith(lab.api):  # a wrong method often ends in a KeyError: say which
                _require_options(client, urlsplit(url).path, required=False)
            message = str(wrong)
            if "raised HTTPError: 405" in message:
                message += (
                    ". A 405 carries `Allow` too: do not call `raise_for_status()`, read the "
                    "header whatever the status"
                )
            raise Incorrect(message) from None
        if not isinstance(answer, set | frozenset):
            raise Incorrect(
                f"for {shown} you returned {type(answer).__name__} {answer!r}: return a set of "
                "method names, e.g. `{'GET', 'HEAD'}`"
            )
        if url.startswith(lab.api):
            _require_options(client, urlsplit(url).path)
        truth = _allow(url)
        if answer != truth:
            shown_answer = sorted(answer, key=str)  # key=str: the set may mix types
            raise Incorrect(f"for {shown} you returned {shown_answer}{_allow_advice(answer)}")
    return (
        f"right methods for all {len(probes)} URLs, including a 405 that still lists what is "
        "allowed"
    )


def _require_options(client: str, path: str, *, required: bool = True) -> None:
    """Incorrect unless every request the course API saw for `path` was an OPTIONS."""
    sent = _methods_sent(client, path)
    if not sent and required:
        raise Incorrect(
            f"the course API received no request for {path}: request the URL you are "
            "given, query string included"
        )
    other = [method for method in sent if method != "OPTIONS"]
    if other:
        raise Incorrect(
            f"the server saw {other[0]} {path}: ask with `requests.options`, the method "
            "that asks without touching the resource"
        )


def _allow_advice(answer: set[Any]) -> str:
    if any(not isinstance(m, str) for m in answer):
        return ": every item of the set is a method name, a str such as 'GET'"
    if answer and all(isinstance(m, str) and len(m) == 1 for m in answer):
        return (
            ": that is a set of the header's characters; split the header into names first "
            "(`header.split(',')`), then make the set"
        )
    if any(isinstance(m, str) and m != m.strip() for m in answer):
        return ": strip the spaces around each name (the header is `GET, HEAD, ...`)"
    if any(isinstance(m, str) and "," in m for m in answer):
        return ": split the `Allow` header at each `,`"
    if any(isinstance(m, str) and m != m.upper() for m in answer):
        return (
            ": method names are case-sensitive (RFC 9110, section 9.1), so keep them as the "
            "server sends them, in upper case"
        )
    return ": the methods are the comma-separated names in the `Allow` header of the response"


q1 = Exercise(
    "02.1",
    "Which methods does a URL allow?",
    _check_allowed_methods,
    answer="allowed_methods",
    hints=[
        "`requests.options(url, timeout=5)` asks the server what the URL supports.",
        "The answer is in the `Allow` header: 'DELETE, GET, HEAD, ...'. Split it at ',' and "
        "strip each name.",
        "A 405 Method Not Allowed carries `Allow` too, so do not call raise_for_status(): "
        "read the header whatever the status.",
    ],
    solution="02-methods.ipynb",
)


# --- q2: HEAD -----------------------------------------------------------------------------------

SIZES = (123_456, 0, 2_000_000)


def _check_content_length(content_length) -> str:
    lab = _lab.start()
    client = _lab.new_client_id("ex02")
    for size in SIZES:
        url = f"{lab.api}/api/download?size={size}&seed=2&client={client}"
        since = len(_log(client))
        answer = call(content_length, url)
        sent = _methods_sent(client, "/api/download", since)
        if "GET" in sent:
            raise Incorrect(
                f"for size={size} the server saw GET /api/download and started sending the "
                "body: ask with `requests.head`, which gets the same headers and no body"
            )
        if "HEAD" not in sent:
            seen = ", ".join(sent) or "no request"
            raise Incorrect(
                f"for size={size} the server saw {seen}: send one HEAD request (`requests.head`)"
            )
        if not isinstance(answer, int) or isinstance(answer, bool):
            raise Incorrect(
                f"for size={size} you returned {type(answer).__name__} {answer!r}: return the "
                "`Content-Length` as an `int`"
            )
        if answer != size:
            raise Incorrect(
                f"for size={size} you returned {answer}: return the size in bytes, as the "
                "`Content-Length` header says it"
            )
    url = f"{lab.api}/api/users/5?client={client}"
    truth = len(requests.get(url, timeout=5).content)
    answer = call(content_length, url)
    if answer != truth:
        raise Incorrect(f"for /api/users/5 the body has {truth} bytes, you returned {answer!r}")
    return (
        "right sizes from HEAD alone (0 bytes, 2 MB, a JSON user) without downloading a single "
        "body byte"
    )


q2 = Exercise(
    "02.2",
    "How big is it? Ask without downloading",
    _check_content_length,
    answer="content_length",
    hints=[
        "HEAD asks for the headers a GET would get, without the body: `requests.head(url, "
        "timeout=5)`.",
        "The size is the `Content-Length` header, a string: convert it with int().",
    ],
    solution="02-methods.ipynb",
)


# --- q3: safe and idempotent, by experiment ---------------------------------------------------


def _fresh_user(api: str, tag: str) -> int:
    email = f"{tag}-{uuid.uuid4().hex[:8]}@example.com"
    response = requests.post(f"{api}/api/users", json={"name": tag, "email": email}, timeout=5)
    response.raise_for_status()
    return response.json()["id"]


def _cases(client: str) -> list[tuple[str, str, str, Any, bool, bool, str]]:
    """(method, url, state_url, body, safe, idempotent, what to call it) with fresh resources."""
    api = _lab.start().api
    counter = serve_counter(COUNTER)  # a fresh counter at 0
    one, two = _fresh_user(api, "classify"), _fresh_user(api, "classify")
    key = f"classify-{uuid.uuid4().hex[:8]}"
    email = f"replaced-{uuid.uuid4().hex[:8]}@example.com"

    def ours(path: str) -> str:
        return f"{api}{path}?client={client}"

    user, orders = f"/api/users/{one}", f"/api/users/{one}/orders"
    return [
        ("GET", ours(user), ours(user), None, True, True, f"GET {user}"),
        ("POST", ours(orders), ours(orders), {"item": "pencil", "quantity": 2}, False, False,
         f"POST {orders}"),
        ("PUT", ours(user), ours(user), {"name": "Put Twice", "email": email}, False, True,
         f"PUT {user}"),
        ("DELETE", ours(f"/api/users/{two}"), ours(f"/api/users/{two}"), None, False, True,
         f"DELETE /api/users/{two}"),
        ("HEAD", ours(user), ours(user), None, True, True, f"HEAD {user}"),
        ("OPTIONS", ours(user), ours(user), None, True, True, f"OPTIONS {user}"),
        ("PATCH", ours(user), ours(user), {"name": "Patched"}, False, True, f"PATCH {user}"),
        ("POST", ours(f"/items/{key}"), ours(f"/items/{key}"), {"value": "red"}, False, True,
         f"POST /items/{key} (the chapter's key-value store)"),
        ("GET", f"{counter}/counter/hit", f"{counter}/counter", None, False, False,
         "GET /counter/hit on the counter service"),
        ("PATCH", f"{counter}/counter", f"{counter}/counter", {"add": 5}, False, False,
         "PATCH /counter on the counter service"),
    ]  # fmt: skip


BAD_BODY = (400, 415, 422)  # what the course API answers to a body it cannot use


def _times(count: int) -> str:
    return {0: "never", 1: "once"}.get(count, f"{count} times")


def _check_classify(classify) -> str:
    client = _lab.new_client_id("ex02")
    cases = _cases(client)
    for method, url, state_url, body, safe, idempotent, shown in cases:
        since = len(_log(client))
        answer = call(classify, method, url, state_url, body)
        if (
            not isinstance(answer, tuple)
            or len(answer) != 2
            or not all(isinstance(flag, bool) for flag in answer)
        ):
            raise Incorrect(
                f"for {shown} you returned {answer!r}: return a tuple of two bools "
                "`(safe, idempotent)`"
            )
        if "client=" in url:
            path = urlsplit(url).path
            count = _methods_sent(client, path, since).count(method)
            if count < 2:
                raise Incorrect(
                    f"for {shown} the server saw your {method} {_times(count)}: an experiment "
                    "sends the request twice (and reads the state before, between and after)"
                )
            refused = [
                entry["status"]
                for entry in _log(client)[since:]
                if (entry["method"], entry["path"]) == (method, path)
                and entry["status"] in BAD_BODY
            ]
            if body is not None and refused:
                raise Incorrect(
                    f"for {shown} the server answered {refused[0]} to your {method}: it did not "
                    "get the body; send it as JSON, `requests.request(method, url, json=body, "
                    "timeout=5)`"
                )
        where = urlsplit(state_url).path
        said_safe, said_idempotent = answer
        if said_safe and not safe:
            raise Incorrect(
                f"{shown}: you said safe, but the state at {where} changed after the first "
                "request: a safe request leaves the state as it was. Read the state as the "
                "status code and body of a GET of `state_url`, before and after"
            )
        if safe and not said_safe:
            raise Incorrect(
                f"{shown}: you said not safe, but the state at {where} did not change; compare "
                "the status code and body of a GET of `state_url` (not headers such as `Date`)"
            )
        if said_idempotent and not idempotent:
            raise Incorrect(
                f"{shown}: you said idempotent, but the state at {where} after the second "
                "request differs from the state after the first"
            )
        if idempotent and not said_idempotent:
            raise Incorrect(
                f"{shown}: you said not idempotent, but the second request left the state at "
                f"{where} exactly as the first did (what matters is the state, not the "
                "response: a 404 after a 204 is fine)"
            )
    return (
        f"all {len(cases)} requests classified by experiment, including an idempotent POST, an "
        "unsafe GET and a PATCH that is not idempotent"
    )


q3 = Exercise(
    "02.3",
    "Safe? Idempotent? Find out by experiment",
    _check_classify,
    answer="classify",
    hints=[
        "Write a helper `state()` that GETs state_url and returns (status_code, body text): "
        "that is the state you compare.",
        "Read the state, send the request, read it again, send the same request again, read "
        "it a third time: `requests.request(method, url, json=body, timeout=5)`.",
        "Safe: the state after one request equals the state before. Idempotent: the state "
        "after two requests equals the state after one.",
    ],
    solution="02-methods.ipynb",
)
