"""`/health` (open to all: broker, store, collector lag) and `/metrics` (Prometheus text)."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from api.access import OPERATIONS
from api.context import ApiContext
from api.deps import Caller, Context, OptionalKey
from api.errors import json_error_responses
from api.metrics import latest_per, render
from api.schemas import CheckOut, CollectorOut, HealthOut
from floorwatch.errors import FloorwatchError
from floorwatch.settings import MqttTarget

router = APIRouter(tags=["system"])
log = logging.getLogger(__name__)

RECENT = timedelta(hours=24)  # collectors that reported within this window are listed
BROKER_TIMEOUT_S = 0.5


def _broker(target: MqttTarget) -> CheckOut:
    try:
        with socket.create_connection((target.host, target.port), timeout=BROKER_TIMEOUT_S):
            pass
    except OSError as exc:
        log.warning("broker %s:%s unreachable: %s", target.host, target.port, exc)
        return CheckOut(ok=False, detail="unreachable")
    return CheckOut(ok=True, detail="accepts connections")


def _recent_points(context: ApiContext, measurement: str) -> pd.DataFrame:
    since = datetime.now(UTC) - RECENT
    return context.recent_cache.get(
        ("recent", measurement),
        lambda: context.store.read_points(measurement, start=since),
    )


def _health(context: ApiContext) -> tuple[HealthOut, int]:
    broker = _broker(context.settings.mqtt)
    collectors: list[CollectorOut] = []
    try:
        context.store.ping()
        store = CheckOut(ok=True, detail=f"{context.settings.store.backend} answers")
        ingest = latest_per(_recent_points(context, "ingest"), ["collector"])
    except FloorwatchError as exc:
        # /health needs no key: say what is wrong, not where the store lives (that goes to the log)
        log.warning("store unavailable: %s", exc)
        store = CheckOut(ok=False, detail="unavailable")
        ingest = pd.DataFrame()
    now = time.time()
    for _, row in ingest.iterrows():
        lag = row.get("lag_s")
        collectors.append(
            CollectorOut(
                collector=str(row["collector"]),
                last_report=row["time"].to_pydatetime(),
                report_age_s=round(now - row["time"].timestamp(), 3),
                lag_s=float(lag) if isinstance(lag, int | float) and lag == lag else None,
            )
        )
    lags = [c.lag_s for c in collectors if c.lag_s is not None]
    stale_after = max(60.0, 3 * context.settings.counters_interval_s)
    if not store.ok:
        status, code = "down", 503
    elif broker.ok is False or any(c.report_age_s > stale_after for c in collectors):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    health = HealthOut(
        status=status,  # type: ignore[arg-type]
        store=store,
        broker=broker,
        collectors=collectors,
        collector_lag_s=max(lags) if lags else None,
    )
    return health, code


@router.get(
    "/health",
    summary="Service health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "The store is unavailable"}},
)
def health(context: Context, key: OptionalKey) -> JSONResponse:
    """Store reachable, broker reachable, and each collector's lag from its latest counters.
    Needs no key; the collectors' client ids (their broker sessions) are named to callers
    with a key only. 200 when ok or degraded (broker down or a collector silent), 503 when
    the store is down."""
    body, code = context.health_cache.get("health", lambda: _health(context))
    if key is None:
        body = body.model_copy(
            update={
                "collectors": [c.model_copy(update={"collector": None}) for c in body.collectors]
            }
        )
    return JSONResponse(body.model_dump(mode="json"), status_code=code)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format 0.0.4"},
        **json_error_responses(401, 403, 503),
    },
)
def metrics(access: Caller, context: Context) -> PlainTextResponse:
    """API request counts and the collectors' counters as last stored (admin, technician)."""
    access.require(OPERATIONS)
    text = render(
        context.requests,
        _recent_points(context, "ingest"),
        _recent_points(context, "ingest_quarantine"),
    )
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
