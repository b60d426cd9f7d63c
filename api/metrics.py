"""Prometheus text exposition: the API's own request counters and the collectors' counters as
they last reported them (the `ingest` and `ingest_quarantine` points in the store)."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterable

import pandas as pd
from starlette.types import ASGIApp, Message, Receive, Scope, Send

INGEST_FIELDS = (
    "received",
    "stored",
    "quarantined",
    "duplicates",
    "spooled",
    "replayed",
    "acknowledged",
)


class RequestCounter:
    """Requests answered, by route template (not raw path: bounded label values) and status."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._counts[(method, route, status)] += 1
            self._seconds[route] = self._seconds.get(route, 0.0) + seconds

    def snapshot(self) -> tuple[dict[tuple[str, str, int], int], dict[str, float]]:
        with self._lock:
            return dict(self._counts), dict(self._seconds)


class CountRequests:
    """ASGI middleware counting every HTTP answer into a RequestCounter."""

    def __init__(self, app: ASGIApp, counter: RequestCounter):
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.counter.add(scope["method"], template, status, time.perf_counter() - started)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else "NaN"


def latest_per(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The newest row per group of tag columns (frames from read_points are sorted by time)."""
    if frame.empty or any(column not in frame.columns for column in by):
        return frame.iloc[0:0]
    return frame.groupby(by, sort=True).tail(1)


def render(requests: RequestCounter, ingest: pd.DataFrame, ingest_quarantine: pd.DataFrame) -> str:
    """The metrics page, Prometheus text format 0.0.4."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {_number(value)}" for labels, value in samples)

    counts, seconds = requests.snapshot()
    family(
        "floorwatch_api_requests_total",
        "counter",
        "HTTP requests answered by the API, by method, route and status.",
        (
            (f'{{method="{_label(m)}",route="{_label(r)}",status="{s}"}}', n)
            for (m, r, s), n in sorted(counts.items())
        ),
    )
    family(
        "floorwatch_api_request_seconds_total",
        "counter",
        "Time spent answering requests, by route.",
        ((f'{{route="{_label(r)}"}}', t) for r, t in sorted(seconds.items())),
    )

    latest = latest_per(ingest, ["collector"])
    # The collector reports totals since it started (they reset when it restarts): counters.
    for field in INGEST_FIELDS:
        family(
            f"floorwatch_collector_{field}_total",
            "counter",
            f"Collector total '{field}' since it started, as last reported to the store.",
            (
                (f'{{collector="{_label(str(row["collector"]))}"}}', float(row[field]))
                for _, row in latest.iterrows()
                if field in latest.columns and _is_number(row[field])
            ),
        )
    family(
        "floorwatch_collector_lag_seconds",
        "gauge",
        "Collector lag as last reported to the store.",
        (
            (f'{{collector="{_label(str(row["collector"]))}"}}', float(row["lag_s"]))
            for _, row in latest.iterrows()
            if "lag_s" in latest.columns and _is_number(row["lag_s"])
        ),
    )
    now = time.time()
    family(
        "floorwatch_collector_report_age_seconds",
        "gauge",
        "Seconds since the collector last reported its counters.",
        (
            (
                f'{{collector="{_label(str(row["collector"]))}"}}',
                now - row["time"].timestamp(),
            )
            for _, row in latest.iterrows()
        ),
    )
    rejects = latest_per(ingest_quarantine, ["collector", "reason"])
    family(
        "floorwatch_collector_quarantined_by_reason_total",
        "counter",
        "Quarantined input per reason since the collector started, as last reported.",
        (
            (
                f'{{collector="{_label(str(row["collector"]))}",'
                f'reason="{_label(str(row["reason"]))}"}}',
                float(row["count"]),
            )
            for _, row in rejects.iterrows()
            if "count" in rejects.columns and _is_number(row["count"])
        ),
    )
    return "\n".join(lines) + "\n"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(float(value))
