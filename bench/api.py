"""API latency (p50/p95/p99) at a fixed request rate on loopback against `floorwatch serve`."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from bench.common import Row, not_available

SECTION = "api"
TARGET = "p95 < 50 ms at 200 req/s"


def available() -> bool:
    return importlib.util.find_spec("api.app") is not None


def run(quick: bool, progress: Callable[[str], None]) -> list[Row]:
    if not available():
        return [not_available(SECTION, "current state, scorecard", TARGET, "API not on main")]
    raise NotImplementedError
