"""Fetch many URLs concurrently with aiohttp: the full example of the chapter's async client.

    python code/async_http_client.py                    # starts the practice lab, fetches from it
    python code/async_http_client.py URL [URL ...]      # your own URLs
    python code/async_http_client.py --limit 5 --timeout 10 URL ...

Without URLs it starts the course's practice lab (a local httpbin, on 127.0.0.1) and
fetches the chapter's ten URLs from it, `/get?id=0` to `/get?id=9`; the chapter used
https://httpbin.org. At most `--limit` requests are in flight at once; each has a
`--timeout`. Results are printed in the order of the URLs, one line each; a failure
is reported on its own line and does not cost the other results. The exit status is 0
when every URL succeeded, 1 otherwise.

Needs aiohttp; the default URLs also need the course's lab kit (`pip install -e .` at the
root of the course).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass
class Result:
    """What happened to one URL: its JSON body (or text), or the error."""

    url: str
    status: int | None = None
    body: Any = None
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


async def fetch(session: aiohttp.ClientSession, semaphore: asyncio.Semaphore, url: str) -> Result:
    """GET one URL, at most `limit` at a time; never raises for a network or HTTP error."""
    async with semaphore:
        started = time.perf_counter()
        result = Result(url)
        try:
            async with session.get(url) as response:
                result.status = response.status
                response.raise_for_status()
                if response.content_type == "application/json":
                    result.body = await response.json()
                else:
                    result.body = await response.text()
        except (aiohttp.ClientError, TimeoutError) as error:
            result.error = error
        result.seconds = time.perf_counter() - started
        return result


async def fetch_all(urls: list[str], limit: int, seconds: float) -> list[Result]:
    """Fetch every URL with at most `limit` in flight and `seconds` for each request.

    The results are in the order of `urls`, whatever order the requests finish in.
    """
    semaphore = asyncio.Semaphore(limit)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session:
        tasks = [fetch(session, semaphore, url) for url in urls]
        return await asyncio.gather(*tasks)


def describe(result: Result) -> str:
    """One line for one URL."""
    if result.error is not None:
        error = result.error
        if isinstance(error, aiohttp.ClientResponseError):
            reason = f"HTTP {error.status} {error.message}"
        else:
            reason = f"{type(error).__name__}: {error}".rstrip(": ")
        return f"FAILED {result.url}: {reason}"
    line = f"{result.status} {result.url} ({result.seconds * 1000:.0f} ms)"
    body = result.body
    if isinstance(body, dict) and body.get("url") == result.url:
        return line  # httpbin's echo of the URL (what the chapter prints)
    shown = json.dumps(body) if not isinstance(body, str) else " ".join(body.split())
    return f"{line}: {shown if len(shown) <= 60 else shown[:57] + '...'}"


def default_urls() -> list[str]:
    """The chapter's ten URLs, on the practice lab's httpbin (started here)."""
    import httplab

    lab = httplab.start()
    return [f"{lab.httpbin}/get?id={i}" for i in range(10)]


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="async_http_client.py",
        description="Fetch URLs concurrently with aiohttp, at most --limit at a time, "
        "and print one line per URL in the order given.",
        epilog="Without URLs: starts the course's practice lab on 127.0.0.1 and fetches "
        "the chapter's ten URLs (/get?id=0..9) from its httpbin.",
    )
    parser.add_argument("urls", nargs="*", metavar="URL", help="URLs to GET (default: the lab)")
    parser.add_argument(
        "--limit", type=positive_int, default=10, help="most requests in flight (default: 10)"
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=10.0,
        help="seconds allowed for each request, waiting for a connection included (default: 10)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    urls = args.urls or default_urls()
    started = time.perf_counter()
    results = asyncio.run(fetch_all(urls, args.limit, args.timeout))
    elapsed = time.perf_counter() - started
    for result in results:
        print(describe(result))
    failed = sum(not result.ok for result in results)
    print(
        f"{len(results) - failed} of {len(results)} succeeded in {elapsed:.2f} s "
        f"(at most {args.limit} in flight)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
