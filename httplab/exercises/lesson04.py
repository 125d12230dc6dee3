"""Exercises of lesson 04: a bearer token, a multipart upload, a streamed download.

The checks read what really happened: the course API's request log, what a small server of
the checker's own received, the bytes on disk and the peak of Python's allocations while the
learner's code ran.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import tempfile
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from aiohttp import web

from .. import lab as _lab
from .. import servers
from ..checks import Exercise, Incorrect, NotAttempted, call, expect_http_error
from ..courseapi.download import body_checksum, body_chunks

MIB = 1024 * 1024
CHECKER = "lesson04-checker"
ANONYMOUS = "anonymous"  # what the course API calls a client that sends no X-Client-Id


# --- the checker's own server: records uploads, serves a corrupted download ----------------

_received: dict[str, dict[str, Any]] = {}
_received_lock = threading.Lock()


async def _record_upload(request: web.Request) -> web.Response:
    """Remember what arrived at /upload/{token}, whatever its method and body."""
    record: dict[str, Any] = {
        "method": request.method,
        "query": list(request.query.items()),
        "content_type": request.content_type if request.body_exists else None,
        "fields": {},
        "files": {},
    }
    if (
        request.method == "POST"
        and "boundary" not in request.headers.get("Content-Type", "")
        and (record["content_type"] == "multipart/form-data")
    ):
        record["unreadable"] = True  # a multipart body needs its boundary to be read
        await request.read()
    elif request.method == "POST" and record["content_type"] in (
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    ):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                record["files"][name] = {
                    "filename": value.filename,
                    "content_type": value.headers.get("Content-Type"),
                    "content": value.file.read(),
                }
            else:
                text = value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")
                record["fields"][name] = text
    else:
        await request.read()
    record["receipt"] = secrets.token_hex(8)
    with _received_lock:
        _received[request.match_info["token"]] = record
    answer = {
        "receipt": record["receipt"],
        "fields": sorted(record["fields"]),
        "files": sorted(record["files"]),
    }
    return web.json_response(answer, status=201 if request.method == "POST" else 405)


async def _corrupted_download(request: web.Request) -> web.StreamResponse:
    """Like the course API's /api/download, but one byte of the body is flipped."""
    size, seed = int(request.query["size"]), int(request.query["seed"])
    checksum = await asyncio.to_thread(body_checksum, size, seed)
    response = web.StreamResponse(headers={"X-Checksum-SHA256": checksum})
    response.content_type = "application/octet-stream"
    response.content_length = size
    await response.prepare(request)
    try:
        for index, chunk in enumerate(body_chunks(size, seed)):
            if index == 3:
                chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            await response.write(chunk)
        await response.write_eof()
    except ConnectionError:  # the learner's code hung up early: fine
        pass
    return response


def _checker_app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/upload/{token}", _record_upload)
    app.router.add_get("/download", _corrupted_download)
    return app


def _checker_url() -> str:
    server = servers.get(CHECKER)
    if server is None:
        server = servers.serve_aiohttp(_checker_app, name=CHECKER)
    return server.url


# --- exercise 1: Basic in, Bearer out -------------------------------------------------------


def _forget(api: str, client: str) -> None:
    requests.delete(f"{api}/api/stats/{client}", timeout=5).raise_for_status()


def _log(client: str) -> list[tuple[str, str, int]]:
    return [(e["method"], e["path"], e["status"]) for e in _lab.start().stats(client)["log"]]


def _diagnose_token_flow(log: list[tuple[str, str, int]]) -> None:
    """Raise Incorrect if the course API's log shows a mistake in the token flow."""
    if not log:
        raise Incorrect("the course API received no request from your function")
    token_calls = [entry for entry in log if entry[1] == "/api/token"]
    if not token_calls:
        raise Incorrect(
            "your function never asked for a token: POST /api/token with "
            "`auth=(username, password)` first"
        )
    method, _, status = token_calls[0]
    if method != "POST":
        raise Incorrect(f"a token is issued by POST /api/token, your function sent {method}")
    if status == 401:
        raise Incorrect(
            "POST /api/token answered 401: send the username and password as HTTP Basic "
            "credentials, `auth=(username, password)`"
        )
    private_calls = [entry for entry in log if entry[1] == "/api/private"]
    if not private_calls:
        raise Incorrect("your function never called GET /api/private with the token")
    if private_calls[0][0] != "GET":
        raise Incorrect(
            f"your function sent {private_calls[0][0]} /api/private: read it with GET, "
            "`requests.get(f'{base_url}/api/private', headers=..., timeout=5)`"
        )
    if private_calls[0][2] == 401:
        raise Incorrect(
            "GET /api/private answered 401: send the token in the header "
            "`Authorization: Bearer <token>`"
        )


def _check_private_username(private_username: Callable[..., Any]) -> str:
    api = _lab.start().api
    for username, password in (("alice", "wonderland"), ("admin", "letmein")):
        _forget(api, ANONYMOUS)
        try:
            answer = call(private_username, api, username, password)
        except Incorrect as wrong:
            log = _log(ANONYMOUS)
            if "raised KeyError" in str(wrong) and ("POST", "/api/token", 200) in log:
                raise Incorrect(
                    f"{_raised(wrong)}: the token endpoint answers "
                    '`{"access_token": "...", "token_type": "Bearer"}`; read the token with '
                    "`response.json()['access_token']`"
                ) from None
            _diagnose_token_flow(log)
            raise Incorrect(_raised(wrong)) from None
        _diagnose_token_flow(_log(ANONYMOUS))
        if answer != username:
            raise Incorrect(
                f"for {username!r} you returned {answer!r}: return the 'username' field of "
                "the JSON that /api/private sends"
            )

    _forget(api, ANONYMOUS)
    expect_http_error(
        private_username, api, "alice", "not-the-password",
        status=401, endpoint="POST /api/token", when="with a wrong password", response="token",
    )  # fmt: skip
    log = _log(ANONYMOUS)
    if ("POST", "/api/token", 401) not in log:
        raise Incorrect(
            "with a wrong password your function raised HTTPError, but not for the 401 of "
            "POST /api/token: ask for the token first, and raise when it is refused"
        )
    if any(path == "/api/private" for _, path, _ in log):
        raise Incorrect(
            "after the 401 of `POST /api/token` your function still called `/api/private` "
            "(with a token that does not exist): call `raise_for_status()` on the token "
            "response before reading the token, so that a refused login stops there"
        )
    return "a token from Basic credentials, used as a Bearer token; a wrong password raises"


q1 = Exercise(
    "04.1",
    "Basic in, Bearer out",
    _check_private_username,
    answer="private_username",
    hints=[
        "Two requests: `requests.post(f'{base_url}/api/token', auth=(username, password), "
        "timeout=5)`, then `requests.get(f'{base_url}/api/private', ...)`.",
        "The token is `response.json()['access_token']`; send it as "
        "`headers={'Authorization': f'Bearer {token}'}`.",
        "Call `raise_for_status()` on the token response before reading the token.",
    ],
    solution="04-requests.ipynb",
)


# --- exercise 2: a multipart upload ----------------------------------------------------------

TITLE = "Orders per city"
CSV = "city,orders\nZürich,12\nKraków,7\n"


def _diagnose_upload(record: dict[str, Any] | None) -> None:
    """Raise Incorrect if what the checker's server received is not the expected upload."""
    if record is None:
        raise Incorrect("the checker's server received nothing at the URL it gave you")
    if record["method"] != "POST":
        raise Incorrect(f"the server received a {record['method']} request: an upload is a POST")
    content_type = record["content_type"]
    if record.get("unreadable"):
        raise Incorrect(
            "the body's Content-Type was `multipart/form-data` without a boundary, so the "
            "server could not find the parts: do not set Content-Type yourself; with `files=` "
            "requests writes it, boundary included"
        )
    if content_type == "application/json":
        raise Incorrect(
            "the body arrived as JSON (`json=...`): an upload is a multipart form; pass the "
            "file in `files=...` and the title in `data=...`"
        )
    if content_type == "application/x-www-form-urlencoded":
        raise Incorrect(
            "the body arrived as an urlencoded form (`data=...` alone): pass the file in "
            "`files=...`, which makes the body multipart/form-data"
        )
    if content_type != "multipart/form-data":
        raise Incorrect(
            f"the body's Content-Type was {content_type!r}: pass the file in `files=...`, "
            "requests then sends multipart/form-data"
        )
    versions = [value for name, value in record["query"] if name == "version"]
    if versions != ["2"]:
        raise Incorrect(
            f"the query parameter version was {versions or 'missing'}: "
            "add `params={'version': 2}`"
        )
    fields, files = record["fields"], record["files"]
    if "title" in files:
        raise Incorrect("title arrived as a file part: put it in `data={'title': title}`")
    if fields.get("title") != TITLE:
        raise Incorrect(
            f"the text field 'title' was {fields.get('title')!r}, expected {TITLE!r}: "
            "pass `data={'title': title}`"
        )
    if "report" in fields:
        raise Incorrect(
            "report arrived as a plain field without a filename: give `files=` a tuple "
            "`('report.csv', csv_text, 'text/csv')`"
        )
    report = files.get("report")
    if report is None:
        raise Incorrect(f"no file field named 'report' arrived (file fields: {sorted(files)})")
    if report["filename"] != "report.csv":
        raise Incorrect(
            f"the file part's filename was {report['filename']!r}: make it 'report.csv', the "
            "first item of the tuple in `files=`"
        )
    if report["content_type"] != "text/csv":
        raise Incorrect(
            f"the file part's Content-Type was {report['content_type']!r}: give 'text/csv' as "
            "the third item of the tuple in `files=`"
        )
    if report["content"] != CSV.encode():
        raise Incorrect("the file's content differs from csv_text: send csv_text unchanged")


def _check_upload_report(upload_report: Callable[..., Any]) -> str:
    token = secrets.token_hex(8)
    url = f"{_checker_url()}/upload/{token}"
    try:
        answer = call(upload_report, url, TITLE, CSV)
    except Incorrect as wrong:
        with _received_lock:
            _diagnose_upload(_received.get(token))
        raise Incorrect(_raised(wrong)) from None
    with _received_lock:
        record = _received.pop(token, None)
    _diagnose_upload(record)
    receipt = record["receipt"] if record else None
    if not isinstance(answer, dict) or answer.get("receipt") != receipt:
        raise Incorrect(
            f"the upload arrived, but you returned {answer!r}: return `response.json()`, the "
            "server's answer (it holds a receipt number)"
        )
    return "a multipart form with a text field and a CSV file, and the query parameter"


q2 = Exercise(
    "04.2",
    "Upload a report",
    _check_upload_report,
    answer="upload_report",
    hints=[
        "One `requests.post(url, params=..., data=..., files=..., timeout=10)`.",
        "`files={'report': ('report.csv', csv_text, 'text/csv')}`: filename, content, type.",
        "Text fields go in `data={'title': title}`; with `files=` they travel in the same "
        "multipart body. Return `response.json()` after `raise_for_status()`.",
    ],
    solution="04-requests.ipynb",
)


# --- exercise 3: a streamed download with a checksum ----------------------------------------

DOWNLOAD_SIZE = 6 * MIB + 12345


def _peak_while(run: Callable[[], Any]) -> tuple[Any, int]:
    """Run and return (its result, the peak of Python's allocations meanwhile, in bytes)."""
    was_tracing = tracemalloc.is_tracing()
    if was_tracing:
        tracemalloc.reset_peak()
    else:
        tracemalloc.start()
    try:
        result = run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()


def _sha256_of(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _expect_raise(download: Callable[..., Any], url: str, path: Path) -> Exception | list[Any]:
    """Call download where it should raise: the exception, or its result wrapped in a list."""
    try:
        return [download(url, path)]
    except NotImplementedError:
        raise NotAttempted from None
    except Exception as exc:
        return exc


def _raised(wrong: Incorrect) -> str:
    """The learner's exception from `call`, without the call's arguments (ports, paths)."""
    text = str(wrong)
    return f"your function raised {text.split(' raised ', 1)[1]}" if " raised " in text else text


def _call_download(download: Callable[..., Any], url: str, path: Path) -> Any:
    try:
        return call(download, url, path)
    except Incorrect as wrong:
        message = _raised(wrong)
        if "write() argument must be str" in message:
            message += ": open the file in binary mode, `open(path, 'wb')`; the chunks are bytes"
        raise Incorrect(message) from None


def _check_download(download: Callable[..., Any]) -> str:
    api = _lab.start().api
    seed = random.randrange(1, 2**31)
    url = f"{api}/api/download?size={DOWNLOAD_SIZE}&seed={seed}"
    expected = requests.head(url, timeout=10).headers["X-Checksum-SHA256"]

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "download.bin"
        # tracemalloc counts every thread, the lab's servers included: keep the lowest of
        # up to three peaks, so that a server's passing buffer is not blamed on the learner.
        peaks = []
        for _ in range(3):
            answer, peak = _peak_while(lambda: _call_download(download, url, path))
            peaks.append(peak)
            if peak < DOWNLOAD_SIZE / 2:
                break
        if not path.exists():
            raise Incorrect("your function returned, but wrote no file at `path`")
        written = path.stat().st_size
        if written != DOWNLOAD_SIZE:
            raise Incorrect(
                f"the file has {written} bytes, the body has {DOWNLOAD_SIZE}: write every chunk "
                "(`file.write(chunk)` inside the loop)"
            )
        if _sha256_of(path) != expected:
            raise Incorrect("the file's bytes differ from the body: write the chunks unchanged")
        if isinstance(answer, str) and answer != expected and answer.lower() == expected:
            raise Incorrect(
                "you returned the SHA-256 in upper case: return it as `digest.hexdigest()` "
                "gives it, in lower case, as the server sends it"
            )
        if answer != expected:
            raise Incorrect(
                f"you returned {answer!r}: return the SHA-256 as a hex string "
                "(`digest.hexdigest()`) after checking it against `X-Checksum-SHA256`"
            )
        if min(peaks) >= DOWNLOAD_SIZE / 2:
            raise Incorrect(
                "your function held at least half of the 6 MiB body in memory at once: pass "
                "`stream=True` and write the chunks of `response.iter_content(64 * 1024)` as "
                "they arrive (never `response.content` or `response.text`). Give a number: "
                "with `chunk_size=None`, `iter_content` returns the whole body as one chunk "
                "here (requests issue 5536)"
            )

        broken = Path(folder) / "corrupted.bin"
        corrupted_url = f"{_checker_url()}/download?size={MIB}&seed={seed}"
        outcome = _expect_raise(download, corrupted_url, broken)
        if isinstance(outcome, list):
            raise Incorrect(
                f"a corrupted body did not match its X-Checksum-SHA256, but your function "
                f"returned {outcome[0]!r}: compare the digests and `raise ValueError(...)`"
            )
        if not isinstance(outcome, ValueError):
            extra = " (assert statements vanish under python -O)" * isinstance(
                outcome, AssertionError
            )
            raise Incorrect(
                f"on a checksum mismatch raise ValueError, not {type(outcome).__name__}{extra}"
            )
        if broken.exists():
            raise Incorrect(
                "after a checksum mismatch the corrupted file is still there: delete it "
                "(`path.unlink()`) before raising"
            )

        failed = Path(folder) / "failed.bin"
        outcome = _expect_raise(download, f"{api}/api/download?size=-1", failed)
        if isinstance(outcome, list):
            raise Incorrect(
                f"the server answered 400 Bad Request, but your function returned "
                f"{outcome[0]!r}: call `response.raise_for_status()` before writing"
            )
        if not isinstance(outcome, requests.HTTPError):
            raise Incorrect(
                f"for a 400 response your function raised {type(outcome).__name__}: call "
                "`response.raise_for_status()`, which raises `requests.HTTPError`"
            )
        if failed.exists():
            raise Incorrect(
                "for a 400 response your function created the file anyway: call "
                "`raise_for_status()` before opening it"
            )
    return "streamed to disk in chunks, checksum verified; corrupted and failed downloads refused"


q3 = Exercise(
    "04.3",
    "Download with a checksum",
    _check_download,
    answer="download",
    hints=[
        "`with requests.get(url, stream=True, timeout=(3, 30)) as response:` then "
        "`response.raise_for_status()` before anything else.",
        "Open the file with `open(path, 'wb')`, and for each chunk of "
        "`response.iter_content(chunk_size=64 * 1024)` call `file.write(chunk)` and "
        "`digest.update(chunk)` on a `hashlib.sha256()`.",
        "After the loop compare `digest.hexdigest()` with "
        "`response.headers['X-Checksum-SHA256']`; on a mismatch `path.unlink()` (the file "
        "is closed by then) and `raise ValueError(...)`.",
    ],
    solution="04-requests.ipynb",
)
