"""Open-loop HTTP load at a fixed rate: ``python -m bench.api_load BASE TOKEN RATE SECONDS PATH...``

Request i is started at t0 + i / RATE (the paths in turn) whatever earlier answers do; its latency
counts from that scheduled moment, so queueing in front of a slow server shows in the figures.
Each request gives up after 10 s (counted as an error). Prints one JSON line: sent, errors,
achieved_rate, p50_ms, p95_ms, p99_ms, max_ms, statuses.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import httpx
import numpy as np


async def load(base: str, token: str, rate: float, seconds: float, paths: list[str]) -> dict:
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=10
    ) as client:

        async def one(path: str, scheduled: float) -> None:
            try:
                response = await client.get(path)
                statuses[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - scheduled)

        tasks = []
        start = time.perf_counter()
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(paths[i % len(paths)], scheduled)))
        sent_in = time.perf_counter() - start
        _, late = await asyncio.wait(tasks, timeout=15)
        for task in late:  # still unanswered 15 s after the last send: counted as errors
            task.cancel()
        statuses["unanswered"] += len(late)
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
        "statuses": dict(statuses),
    }


def main() -> None:
    base, token, rate, seconds, *paths = sys.argv[1:]
    stats = asyncio.run(load(base, token, float(rate), float(seconds), paths))
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
