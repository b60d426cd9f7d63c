"""TtlCache: fresh from memory, expired entries served stale while one refresh runs, misses
computed once per key however many ask at the same time."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from api.cache import TtlCache


class Source:
    """Counts computations; each takes `delay_s` (a store read) and returns the count."""

    def __init__(self, delay_s: float = 0.0, fail: bool = False):
        self.calls = 0
        self.delay_s = delay_s
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self) -> int:
        time.sleep(self.delay_s)
        with self.lock:
            self.calls += 1
            if self.fail:
                raise RuntimeError("store went away")
            return self.calls


def test_fresh_entries_come_from_memory() -> None:
    cache: TtlCache[int] = TtlCache(ttl_s=60)
    source = Source()
    assert [cache.get("k", source) for _ in range(5)] == [1, 1, 1, 1, 1]
    assert source.calls == 1


def test_an_expired_entry_is_served_stale_while_one_refresh_runs() -> None:
    async def scenario() -> None:
        cache: TtlCache[int] = TtlCache(ttl_s=0.05, stale_s=10)
        source = Source(delay_s=1.0)
        assert await cache.aget("k", source) == 1
        await asyncio.sleep(0.1)  # expired, within the stale window
        started = time.monotonic()
        answers = await asyncio.gather(*(cache.aget("k", source) for _ in range(20)))
        assert answers == [1] * 20  # the old value, at once: nobody waited for the store
        assert time.monotonic() - started < 0.5
        deadline = time.monotonic() + 10
        while source.calls < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)  # let the refresh store its value
        assert source.calls == 2  # one refresh for twenty stale answers
        assert await cache.aget("k", source) == 2

    asyncio.run(scenario())


def test_beyond_the_stale_window_the_request_waits_for_a_new_value() -> None:
    async def scenario() -> None:
        cache: TtlCache[int] = TtlCache(ttl_s=0.05, stale_s=0.05)
        source = Source()
        assert await cache.aget("k", source) == 1
        await asyncio.sleep(0.15)
        assert await cache.aget("k", source) == 2

    asyncio.run(scenario())


def test_a_failed_refresh_keeps_the_stale_value_then_surfaces() -> None:
    async def scenario() -> None:
        cache: TtlCache[int] = TtlCache(ttl_s=0.05, stale_s=2.0)
        source = Source()
        assert await cache.aget("k", source) == 1
        source.fail = True
        await asyncio.sleep(0.1)
        assert await cache.aget("k", source) == 1  # stale; the refresh fails in the background
        await asyncio.sleep(0.1)
        assert await cache.aget("k", source) == 1
        await asyncio.sleep(2.0)  # too old now
        with pytest.raises(RuntimeError, match="went away"):
            await cache.aget("k", source)

    asyncio.run(scenario())


def test_a_miss_is_computed_once_for_every_thread_asking() -> None:
    cache: TtlCache[int] = TtlCache(ttl_s=60)
    source = Source(delay_s=0.1)
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.get("k", source))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [1] * 8 and source.calls == 1
