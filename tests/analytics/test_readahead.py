"""ReadAhead: the scorer's one-thread prefetch of entrance chunks from the store."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from analytics.months import ReadAhead
from floorwatch.errors import StoreUnavailable

T0 = datetime(2026, 10, 1, tzinfo=UTC)
KEYS = [("entrance-a", T0 + timedelta(days=i), T0 + timedelta(days=i + 1)) for i in range(5)]


class Recorder:
    def __init__(self, fail_on: str | None = None):
        self.calls: list[tuple[str, str]] = []  # (entrance, thread name)
        self.fail_on = fail_on

    def __call__(self, entrance_id: str, start: datetime, end: datetime) -> pd.DataFrame:
        self.calls.append((entrance_id, threading.current_thread().name))
        if entrance_id == self.fail_on:
            raise StoreUnavailable("store went away")
        return pd.DataFrame({"entrance": [entrance_id], "day": [start.day]})


def test_planned_chunks_are_read_once_in_the_background_in_order() -> None:
    read = Recorder()
    with ReadAhead(read, KEYS, depth=2) as ahead:
        days = [ahead.take(key)["day"].iloc[0] for key in KEYS]
    assert days == [key[1].day for key in KEYS]
    assert len(read.calls) == len(KEYS)
    assert all(name.startswith("read-ahead") for _, name in read.calls)


def test_an_unplanned_chunk_is_read_on_the_spot() -> None:
    read = Recorder()
    other = ("entrance-b", T0, T0 + timedelta(days=1))
    with ReadAhead(read, KEYS[:1]) as ahead:
        frame = ahead.take(other)
        ahead.take(KEYS[0])
    assert frame["entrance"].iloc[0] == "entrance-b"
    assert ("entrance-b", threading.current_thread().name) in read.calls


def test_a_store_error_surfaces_where_the_chunk_is_taken() -> None:
    read = Recorder(fail_on="entrance-bad")
    bad = ("entrance-bad", T0, T0 + timedelta(days=1))
    with ReadAhead(read, [KEYS[0], bad]) as ahead:
        ahead.take(KEYS[0])
        with pytest.raises(StoreUnavailable, match="went away"):
            ahead.take(bad)
