"""GET /api/download: a large, reproducible binary body with its SHA-256 in a header."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import random
from collections.abc import Iterator

from aiohttp import web

from .inputs import query_int

MAX_SIZE = 64 * 1024 * 1024
CHUNK_SIZE = 64 * 1024

routes = web.RouteTableDef()


def body_chunks(size: int, seed: int) -> Iterator[bytes]:
    """The body as 64 KiB chunks of pseudo-random bytes; the same (size, seed) gives the same bytes.

    Every chunk is drawn at full size (the last one is cut), so a smaller body is a prefix
    of a larger one with the same seed.
    """
    rng = random.Random(seed)
    for start in range(0, size, CHUNK_SIZE):
        yield rng.randbytes(CHUNK_SIZE)[: size - start]


@functools.lru_cache(maxsize=32)
def body_checksum(size: int, seed: int) -> str:
    """SHA-256 of the body, computed chunk by chunk (never the whole body in memory)."""
    digest = hashlib.sha256()
    for chunk in body_chunks(size, seed):
        digest.update(chunk)
    return digest.hexdigest()


@routes.get("/api/download")
async def download(request: web.Request) -> web.StreamResponse:
    """Stream `size` bytes (0..64 MiB, default 1 MiB) with Content-Length and X-Checksum-SHA256."""
    size = query_int(request, "size", 1024 * 1024, 0, MAX_SIZE)
    seed = query_int(request, "seed", 0, 0, 2**63 - 1)
    # The checksum goes in a header, so it is needed before the body: hash in a thread
    # (64 MiB take a moment) and remember the result for the next download of the same body.
    checksum = await asyncio.to_thread(body_checksum, size, seed)
    response = web.StreamResponse(headers={"X-Checksum-SHA256": checksum})
    response.content_type = "application/octet-stream"
    response.content_length = size
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    try:
        for chunk in body_chunks(size, seed):
            await response.write(chunk)
        await response.write_eof()
    except ConnectionError:  # the client hung up mid-download: nothing left to answer
        pass
    return response
