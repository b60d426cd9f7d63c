"""Scoring time and peak memory for a school year of the pilot from SQLite (analytics)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from bench.common import Row, not_available

SECTION = "score"
TARGET = "<= 30 s and <= 2 GB"


def available() -> bool:
    return importlib.util.find_spec("analytics.scorecard") is not None


def run(quick: bool, progress: Callable[[str], None]) -> list[Row]:
    if not available():
        return [
            not_available(SECTION, "a school year of the pilot", TARGET, "analytics not on main")
        ]
    raise NotImplementedError
