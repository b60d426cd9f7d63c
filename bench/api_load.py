"""Open-loop HTTP load at a fixed rate: ``python -m bench.api_load BASE TOKEN RATE SECONDS PATH...``

Request i is started at t0 + i / RATE (the paths in turn) whatever earlier answers do; its latency
counts from that scheduled moment, so queueing in front of a slow server shows in the figures.
Requests unanswered 15 s after the last send count as errors. Prints one JSON line: sent,
errors, achieved_rate, p50_ms, p95_ms, p99_ms, max_ms, statuses.

The client is plain HTTP/1.1 over asyncio streams with keep-alive connections (a new one only
when every open one is busy): it runs on the same two cores as the server, and a full HTTP
client library (httpx) spent more CPU per request than the server did.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

import numpy as np

MAX_CONNECTIONS = 200


# uvicorn closes a keep-alive connection idle for 5 s: one idle longer than this is not reused.
IDLE_REUSE_S = 3.0


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.last_used = time.monotonic()

    async def get(self, request: bytes) -> int:
        """Send one request, read the whole response; its status code."""
        self.writer.write(request)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed by the server")
        status = int(status_line.split()[1])
        length, chunked = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readline()
        else:
            await self.reader.readexactly(length)
        return status


async def load(base: str, token: str, rate: float, seconds: float, paths: list[str]) -> dict:
    total = int(rate * seconds)
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    requests = [
        (
            f"GET {url.path.rstrip('/')}{path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
        ).encode()
        for path in paths
    ]
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    idle: list[Connection] = []
    opened = 0
    slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def one(request: bytes, scheduled: float) -> None:
        nonlocal opened
        async with slots:
            connection = None
            while idle and connection is None:
                connection = idle.pop()
                if time.monotonic() - connection.last_used > IDLE_REUSE_S:
                    connection.writer.close()
                    connection = None
            try:
                if connection is None:
                    connection = Connection(*await asyncio.open_connection(host, port))
                    opened += 1
                status = await asyncio.wait_for(connection.get(request), timeout=10)
                statuses[str(status)] += 1
                connection.last_used = time.monotonic()
                idle.append(connection)
            except (
                OSError,
                ValueError,
                IndexError,
                TimeoutError,
                asyncio.IncompleteReadError,
            ) as exc:
                statuses[type(exc).__name__] += 1
                if connection is not None:
                    connection.writer.close()
        latencies.append(time.perf_counter() - scheduled)

    tasks = []
    start = time.perf_counter()
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(requests[i % len(requests)], scheduled)))
    sent_in = time.perf_counter() - start
    _, late = await asyncio.wait(tasks, timeout=15)
    for task in late:  # still unanswered 15 s after the last send: counted as errors
        task.cancel()
    statuses["unanswered"] += len(late)
    for connection in idle:
        connection.writer.close()
    ms = np.array(latencies + [float("inf")] * statuses["unanswered"]) * 1000
    return {
        "sent": total,
        "errors": total - statuses.get("200", 0),
        "achieved_rate": round(total / sent_in, 1),
        "p50_ms": round(float(np.percentile(ms, 50, method="higher")), 2),
        "p95_ms": round(float(np.percentile(ms, 95, method="higher")), 2),
        "p99_ms": round(float(np.percentile(ms, 99, method="higher")), 2),
        "max_ms": round(float(ms.max()), 2),
        "answered": len(latencies),
        "connections": opened,
        "statuses": dict(statuses),
    }


def main() -> None:
    base, token, rate, seconds, *paths = sys.argv[1:]
    stats = asyncio.run(load(base, token, float(rate), float(seconds), paths))
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
