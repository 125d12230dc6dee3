"""CORS in a real browser: a page on one origin calls an API on another.

    >>> page = httplab.serve_aiohttp(corsdemo.create_page(), name="cors-page")
    >>> api_app = corsdemo.create_api(page_origin=page.url)
    >>> api = httplab.serve_aiohttp(api_app, name="cors-api")
    >>> corsdemo.page_url(page.url, api.url)   # open this in a browser

The API serves the same JSON at three prefixes, with three CORS policies:

* ``/closed/data``: no CORS headers at all (the browser hides every answer from the page);
* ``/listed/data``: aiohttp-cors, the page's origin listed, credentials allowed;
* ``/wildcard/data``: ``Access-Control-Allow-Origin: *`` with ``Allow-Credentials: true``.

Every request the API sees, preflights included, is recorded (see `log`). The page runs the
fetches of `CASES` when it loads (the API's URL is in its query), shows each outcome, and
sets ``window.corsResults``; given an httpbin too, it also fetches its ``/get`` with
credentials (httpbin reflects any Origin and allows credentials).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import aiohttp_cors
from aiohttp import web

LOG = web.AppKey("log", list)
POLICIES = ("closed", "listed", "wildcard")

# (name, URL path on the API, fetch() options); the page fills in the API's base URL.
CASES = [
    ("simple GET, no CORS", "/closed/data", {}),
    ("PUT with JSON, no CORS", "/closed/data", {"method": "PUT", "json": True}),
    ("simple GET, origin listed", "/listed/data", {}),
    ("PUT with JSON, origin listed", "/listed/data", {"method": "PUT", "json": True}),
    ("GET with cookies, origin listed", "/listed/data", {"credentials": "include"}),
    ("simple GET, wildcard", "/wildcard/data", {}),
    ("GET with cookies, wildcard", "/wildcard/data", {"credentials": "include"}),
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _record(request: web.Request, handler: Handler) -> web.StreamResponse:
    headers = request.headers
    request.app[LOG].append(
        {
            "method": request.method,
            "path": request.path,
            "origin": headers.get("Origin"),
            "request_method": headers.get("Access-Control-Request-Method"),
            "request_headers": headers.get("Access-Control-Request-Headers"),
        }
    )
    return await handler(request)


@web.middleware
async def _wildcard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The wide-open policy some tutorials copy: any origin, credentials "allowed"."""
    if not request.path.startswith("/wildcard/"):
        return await handler(request)
    if request.method == "OPTIONS":
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, PUT"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    else:
        response = await handler(request)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Credentials"] = "true"
    return response


async def _data(request: web.Request) -> web.Response:
    return web.json_response({"policy": request.match_info["policy"], "secret": "42"})


async def _options(request: web.Request) -> web.Response:
    return web.Response(status=204, headers={"Allow": "GET, OPTIONS, PUT"})


def create_api(page_origin: str) -> web.Application:
    """The API of the demo; only `page_origin` is listed by the /listed/ policy."""
    app = web.Application(middlewares=[_record, _wildcard])
    app[LOG] = []
    for policy in ("closed", "wildcard"):
        app.router.add_route("GET", f"/{{policy:{policy}}}/data", _data)
        app.router.add_route("PUT", f"/{{policy:{policy}}}/data", _data)
        app.router.add_route("OPTIONS", f"/{{policy:{policy}}}/data", _options)
    cors = aiohttp_cors.setup(app)
    listed = {
        page_origin: aiohttp_cors.ResourceOptions(
            allow_credentials=True, allow_headers=("Content-Type",), max_age=0
        )
    }
    resource = app.router.add_resource("/{policy:listed}/data")
    cors.add(resource.add_route("GET", _data), listed)
    cors.add(resource.add_route("PUT", _data), listed)
    return app


def log(app: web.Application) -> list[dict]:
    """What the API has seen so far: method, path, Origin and the preflight's questions."""
    return list(app[LOG])


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>CORS from another origin</title>
<style>body{font-family:sans-serif;margin:1em} td{padding:2px 8px}
.ok{color:#1b5e20} .blocked{color:#b71c1c}</style></head>
<body><p>This page's origin: <code id="origin"></code>; the API: <code id="api"></code></p>
<table id="results"><tr><th>fetch()</th><th>outcome</th></tr></table>
<script>
const API = new URLSearchParams(location.search).get("api");
const CASES = __CASES__;
document.getElementById("origin").textContent = location.origin;
document.getElementById("api").textContent = API;
async function run(url, options) {
  const init = {method: options.method || "GET", credentials: options.credentials || "same-origin"};
  if (options.json) {
    init.headers = {"Content-Type": "application/json"};
    init.body = JSON.stringify({note: "hello"});
  }
  try {
    const response = await fetch(url, init);
    const body = await response.json();
    return "read " + response.status + " " + JSON.stringify(body);
  } catch (error) {
    return "blocked: " + error;
  }
}
(async () => {
  const results = {};
  const cases = CASES.map(([name, path, options]) => [name, API + path, options]);
  const httpbin = new URLSearchParams(location.search).get("httpbin");
  if (httpbin) {
    cases.push(["GET with cookies, httpbin", httpbin + "/get", {credentials: "include"}]);
  }
  for (const [name, url, options] of cases) {
    results[name] = await run(url, options);
    const row = document.getElementById("results").insertRow();
    row.insertCell().textContent = name;
    const cell = row.insertCell();
    cell.textContent = results[name];
    cell.className = results[name].startsWith("read") ? "ok" : "blocked";
  }
  window.corsResults = results;
})();
</script></body></html>
"""


def create_page() -> web.Application:
    """A page that runs every fetch of `CASES` against the API named in its `?api=` query."""
    html = PAGE.replace("__CASES__", json.dumps(CASES))

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    return app


def page_url(page: str, api: str, httpbin: str | None = None) -> str:
    """The page's address, telling it which API to call (and which httpbin, if any)."""
    query = {"api": api} | ({"httpbin": httpbin} if httpbin else {})
    return f"{page}/?{urlencode(query)}"
