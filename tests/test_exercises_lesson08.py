"""Lesson 08's checks fail on known-wrong answers and pass on correct answers written
differently from the solution (tests/test_exercise_answers.py runs the solutions and stubs).

The wrong rate limiters are one reference token bucket with one fault switched on; the wrong
notes apps are the solution's own source with one small edit, so each test shows that the
check notices exactly that mistake.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from functools import partial

import nbformat
import pytest
import requests
from aiohttp import web
from exercise_testing import assert_incorrect
from nbcode import ROOT, load

from httplab.checks import Outcome
from httplab.exercises.lesson08 import q1, q2, q3

NOTEBOOK = "08-aiohttp-server.ipynb"


# --- exercise 1: follow the Link headers -----------------------------------------------------


def first_page_only(url, timeout):
    return requests.get(url, timeout=timeout).json()["data"]


def page_numbers(url, timeout):
    records, page = [], 1
    while True:
        response = requests.get(url, params={"page": page}, timeout=timeout)
        response.raise_for_status()
        data = response.json()["data"]
        if not data:
            return records
        records += data
        page += 1


def follows_first(url, timeout):
    records = []
    while url:
        response = requests.get(url, timeout=timeout)
        records += response.json().get("data", [])
        links = response.links
        url = next(iter(links.values()))["url"] if links else None
    return records


def fetches_twice(url, timeout):
    records = []
    while url:
        requests.get(url, timeout=timeout)
        response = requests.get(url, timeout=timeout)
        records += response.json()["data"]
        url = response.links.get("next", {}).get("url")
    return records


def returns_a_tuple(url, timeout):
    records = []
    while url:
        response = requests.get(url, timeout=timeout)
        records += response.json()["data"]
        url = response.links.get("next", {}).get("url")
    return tuple(records)


def keyerror_on_last_page(url, timeout):
    records = []
    while url:
        response = requests.get(url, timeout=timeout)
        records += response.json()["data"]
        url = response.links["next"]["url"]
    return records


def no_timeout(url, timeout):
    records = []
    with requests.Session() as http:
        while url:
            response = http.get(url)  # no timeout: the mistake under test
            response.raise_for_status()
            records += response.json()["data"]
            url = response.links.get("next", {}).get("url")
    return records


def swallows_errors(url, timeout):
    records = []
    while url:
        try:
            response = requests.get(url, timeout=timeout)
        except requests.RequestException:
            break  # keep what we have
        records += response.json()["data"]
        url = response.links.get("next", {}).get("url")
    return records


def stops_at_an_empty_page_of_its_own(url, timeout):
    records = requests.get(url, timeout=timeout).json()["data"]
    page = 1
    while True:
        response = requests.get(url, params={"page": page}, timeout=timeout)
        if response.status_code != 200:
            return records
        records += response.json()["data"]
        page += 1


def recursive(url, timeout):
    """Correct too: recursion on the next link, and a (connect, read) timeout pair."""
    response = requests.get(url, timeout=(timeout, timeout))
    response.raise_for_status()
    following = response.links.get("next")
    rest = recursive(following["url"], timeout) if following else []
    return response.json()["data"] + rest


def test_a_recursive_walker_passes():
    result = q1.check(recursive)
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (first_page_only, "with 23 records in 5 pages you returned 5"),
        (page_numbers, "you asked for /records?page=1, a URL the server never gave you"),
        (follows_first, 'follow only rel="next" (not rel="first")'),
        (fetches_twice, "you made 10 requests for 5 pages: one request per page is enough"),
        (returns_a_tuple, "return a list of the records, not tuple"),
        (keyerror_on_last_page, "('/records', 5) raised KeyError: 'next'"),
        (no_timeout, "your function waited until the check gave up on it: pass `timeout="),
        (swallows_errors, "your function returned [{'id': 1, 'word': 'bravo'}, {'id': 2, 'wor"),
        (
            stops_at_an_empty_page_of_its_own,
            "you asked for /records?page=1, a URL the server never gave you",
        ),
    ],
)
def test_wrong_page_walkers_are_incorrect(wrong, message):
    assert_incorrect(q1.check(wrong), message)


# --- exercise 2: a rate-limit middleware -----------------------------------------------------


def limiter(
    capacity,
    per_second,
    *,
    start_full=True,
    refill=True,
    cap=True,
    retry_after="exact",
    json_body=True,
    per_client=True,
    forget=True,
    decorate=True,
    clock=time.monotonic,
):
    """A token-bucket middleware; each keyword switches one fault on."""
    buckets = OrderedDict()

    async def middleware(request, handler):
        now = clock()
        while forget and buckets:
            _, updated = next(iter(buckets.values()))
            if now - updated < capacity / per_second:
                break
            buckets.popitem(last=False)
        client = request.headers.get("X-Client-Id") if per_client else "everybody"
        tokens, updated = buckets.pop(client, (capacity if start_full else 0, now))
        if refill:
            tokens += (now - updated) * per_second
        if cap:
            tokens = min(capacity, tokens)
        if tokens >= 1:
            buckets[client] = (tokens - 1, now)
            return await handler(request)
        buckets[client] = (tokens, now)
        headers = {}
        if retry_after == "exact":
            headers["Retry-After"] = str(math.ceil((1 - tokens) / per_second))
        elif retry_after is not None:
            headers["Retry-After"] = retry_after
        if json_body:
            return web.json_response({"error": "Too Many Requests"}, status=429, headers=headers)
        return web.Response(text="slow down", status=429, headers=headers)

    return web.middleware(middleware) if decorate else middleware


def gcra(capacity, per_second):
    """Correct too: the generic cell rate algorithm, one number per client (when its bucket
    will be full again), and a sweep of the clients whose bucket is full."""
    interval, burst = 1 / per_second, capacity / per_second
    full_at = {}

    @web.middleware
    async def middleware(request, handler):
        now = time.monotonic()
        for client in [client for client, when in full_at.items() if when <= now]:
            del full_at[client]
        client = request.headers.get("X-Client-Id") or request.remote
        after = max(full_at.get(client, now), now) + interval
        if after - now > burst + 1e-9:
            wait = math.ceil(after - burst - now - 1e-9)
            body = {"error": "Too Many Requests"}
            return web.json_response(body, status=429, headers={"Retry-After": str(wait)})
        full_at[client] = after
        return await handler(request)

    return middleware


def test_a_gcra_limiter_passes():
    result = q2.check(gcra)
    assert result.outcome is Outcome.CORRECT, result.message


def test_the_reference_limiter_passes():
    """The faults below are the only difference from a limiter the check accepts."""
    result = q2.check(limiter)
    assert result.outcome is Outcome.CORRECT, result.message


def chapters_window(capacity, per_second):
    """The chapter's sliding window as a middleware: its Retry-After is the window's end."""
    seen = {}

    @web.middleware
    async def middleware(request, handler):
        now = time.monotonic()
        client = request.headers.get("X-Client-Id")
        recent = [t for t in seen.get(client, []) if now - t < capacity / per_second]
        seen[client] = recent
        if len(recent) >= capacity:
            wait = recent[0] + capacity / per_second - now
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            return web.json_response({"error": "Too Many Requests"}, status=429, headers=headers)
        recent.append(now)
        return await handler(request)

    return middleware


def raises_inside(capacity, per_second):
    @web.middleware
    async def middleware(request, handler):
        return await handler(request["client"])

    return middleware


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (partial(limiter, start_full=False), "a new client's bucket starts full"),
        (partial(limiter, retry_after=None), "add a Retry-After header"),
        (partial(limiter, retry_after="60"), "Retry-After should be 1 (seconds, rounded up)"),
        (partial(limiter, retry_after="1"), "Retry-After should be 4 (seconds, rounded up)"),
        (partial(limiter, retry_after="0.5"), 'whole number of seconds, such as "1"'),
        (partial(limiter, json_body=False), "the 429 must have a JSON object as its body"),
        (partial(limiter, per_client=False), "keep one bucket per client"),
        (partial(limiter, refill=False), "on each request add `(now - updated) * per_second`"),
        (partial(limiter, refill=False, forget=False), "on each request add `(now - updated)"),
        (
            partial(limiter, clock=lambda: int(time.time())),
            "a float in seconds (whole seconds give nothing back for a second)",
        ),
        (partial(limiter, cap=False), "cap the tokens at the capacity"),
        (partial(limiter, forget=False), "forget a client once its bucket is full again"),
        (chapters_window, "Retry-After should be 1 (seconds, rounded up); yours says 3"),
        (partial(limiter, decorate=False), "decorate your middleware with `@web.middleware`"),
        (raises_inside, "answered 500 (your code raised KeyError: 'client')"),
    ],
)
def test_wrong_limiters_are_incorrect(wrong, message):
    assert_incorrect(q2.check(wrong), message)


# --- exercise 3: a notes resource ------------------------------------------------------------


def notes_app_with(*edits: tuple[str, str]):
    """The solution's make_notes_app with each (old, new) text replaced exactly once."""
    solution = load("solutions", NOTEBOOK, "make_notes_app")
    notebook = nbformat.read(ROOT / "solutions" / NOTEBOOK, as_version=4)
    (source,) = [c.source for c in notebook.cells if "def make_notes_app" in c.source]
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    namespace = dict(solution.__globals__)
    exec(compile(source, "mutant", "exec"), namespace)
    return namespace["make_notes_app"]


BROKEN_NOTES = {
    "500 on malformed JSON": (
        [("body = await read_json_object(request)", "body = await request.json()")],
        "POST /notes with malformed JSON answered 500 (your code raised JSONDecodeError",
    ),
    "isdigit() alone, as the old hint said": (
        [
            (
                'page = query_int(request, "page", 1, minimum=1)',
                'raw = request.query.get("page", "1")\n'
                "        if not raw.isdigit() or int(raw) < 1:\n"
                '            raise ApiError(400, "page must be an integer >= 1")\n'
                "        page = int(raw)",
            )
        ],
        "GET /notes?page=² (a superscript two) answered 500 (your code raised ValueError",
    ),
    "200 instead of 201": (
        [("status=201, ", "")],
        "answered 200; expected 201: creating a note answers 201 Created",
    ),
    "no Location": (
        [(', headers={"Location": f"/notes/{note[\'id\']}"}', "")],
        "answered 201 without a Location header",
    ),
    "wrong Location": (
        [("f\"/notes/{note['id']}\"", "f\"/note/{note['id']}\"")],
        "Location is '/note/1'; expected /notes/1",
    ),
    "no error middleware": (
        [("middlewares=[json_errors], ", "")],
        "put `json_errors` in the app's middlewares: it answers an ApiError as JSON",
    ),
    "title of any type": (
        [("if not isinstance(title, str) or not title.strip():", "if not title:")],
        "POST /notes with a title that is a number answered 201; expected 400 or 422",
    ),
    "page=0 accepted": (
        [('query_int(request, "page", 1, minimum=1)', 'query_int(request, "page", 1, minimum=0)')],
        "GET /notes?page=0 answered 200; expected 400",
    ),
    "per_page not capped": (
        [("maximum=50)", "maximum=100)")],
        "GET /notes?per_page=51 answered 200; expected 400",
    ),
    "pages off by one": (
        [("start = (page - 1) * per_page", "start = page * per_page")],
        "GET /notes returned ids [11, 12]; expected [1, 2, 3",
    ),
    "no body limit": (
        [("client_max_size=16 * 1024", "client_max_size=1024 * 1024")],
        "a 20 KB body answered 201; expected 413: cap request bodies with web.Application(",
    ),
    "DELETE answers 200": (
        [("return web.Response(status=204)", 'return web.json_response({"deleted": True})')],
        "DELETE /notes/<id> answered 200; expected 204: a deletion answers 204 No Content",
    ),
    "body default missing": (
        [('body.get("body", "")', 'body.get("body")'), ("if not isinstance(text, str):", "if 0:")],
        'a note sent without "body" must get the body ""',
    ),
    "PUT does not store the change": (
        [("note.update(await read_note(request))", "note = {**note, **await read_note(request)}")],
        "after a PUT, GET /notes/<id> still answers {'id': 1",
    ),
}


@pytest.mark.parametrize("fault", list(BROKEN_NOTES))
def test_wrong_notes_apps_are_incorrect(fault):
    edits, message = BROKEN_NOTES[fault]
    assert_incorrect(q3.check(notes_app_with(*edits)), message)


def test_the_edited_solution_passes_unedited():
    """notes_app_with() itself does not break the solution."""
    result = q3.check(notes_app_with())
    assert result.outcome is Outcome.CORRECT, result.message


def test_notes_kept_in_a_global_fail_on_the_second_app():
    shared = {}
    make_notes_app = notes_app_with(("notes: dict[int, dict] = {}", "notes = SHARED"))
    make_notes_app.__globals__["SHARED"] = shared
    first = q3.check(make_notes_app)
    assert first.outcome is Outcome.CORRECT, first.message  # one app alone looks fine
    assert_incorrect(q3.check(make_notes_app), "a new app must have no notes")


def test_an_app_that_is_not_an_application():
    assert_incorrect(q3.check(lambda: "app"), "must return a web.Application, not 'app'")


def notes_with_own_helpers():
    """Correct too: no given helper, a class of its own, `try: int()` for the parameters."""

    class Notes:
        def __init__(self):
            self.by_id, self.next_id = {}, 1

        def add(self, fields):
            note = {"id": self.next_id, **fields}
            self.by_id[note["id"]], self.next_id = note, self.next_id + 1
            return note

    notes = Notes()

    def fail(status, detail):
        return web.json_response({"error": detail}, status=status)

    @web.middleware
    async def errors(request, handler):
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return fail(exc.status, exc.reason)

    async def fields(request):
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest() from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest()
        title, text = body.get("title"), body.get("body", "")
        if not (isinstance(title, str) and title.strip() and isinstance(text, str)):
            raise web.HTTPUnprocessableEntity()
        return {"title": title, "body": text}

    def number(request, name, default, top):
        raw = request.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw, 10) if raw.strip() == raw and raw.isascii() else 0
        except ValueError:
            value = 0
        if not 1 <= value <= top:
            raise web.HTTPBadRequest()
        return value

    def lookup(request):
        note = notes.by_id.get(int(request.match_info["id"]))
        if note is None:
            raise web.HTTPNotFound()
        return note

    routes = web.RouteTableDef()

    @routes.get("/notes")
    async def listing(request):
        page, size = number(request, "page", 1, 10**6), number(request, "per_page", 10, 50)
        everything = sorted(notes.by_id.values(), key=lambda note: note["id"])
        data = everything[(page - 1) * size : page * size]
        return web.json_response(
            {"data": data, "page": page, "per_page": size, "total": len(everything)}
        )

    @routes.post("/notes")
    async def create(request):
        note = notes.add(await fields(request))
        return web.json_response(note, status=201, headers={"Location": f"/notes/{note['id']}"})

    @routes.get(r"/notes/{id:\d+}")
    async def read(request):
        return web.json_response(lookup(request))

    @routes.put(r"/notes/{id:\d+}")
    async def update(request):
        note = lookup(request)
        note.update(await fields(request))
        return web.json_response(note)

    @routes.delete(r"/notes/{id:\d+}")
    async def delete(request):
        notes.by_id.pop(lookup(request)["id"])
        return web.Response(status=204)

    app = web.Application(middlewares=[errors], client_max_size=16 * 1024)
    app.add_routes(routes)
    return app


def test_a_notes_app_with_its_own_helpers_passes():
    result = q3.check(notes_with_own_helpers)
    assert result.outcome is Outcome.CORRECT, result.message
