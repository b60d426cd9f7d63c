"""End to end against the InfluxDB store (real influxd, v1 HTTP API): the same API, the same
pilot data, the same answers as over SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from floorwatch.registry import Registry
from floorwatch.store import open_store
from tests.api.conftest import Api, make_keys, make_settings
from tests.api.pilot_data import DRY_ENTRANCE, PERIOD, WET_ENTRANCE, fill


def _canonical(rows: list[dict[str, object]]) -> list[str]:
    return sorted(json.dumps(row, sort_keys=True) for row in rows)


@pytest.fixture
def influx_api(tmp_path: Path, influx_url: str, registry: Registry) -> Iterator[Api]:
    settings = make_settings(tmp_path, influx_url)
    store = open_store(settings.store, sensor_tags=registry.sensor_tags)
    filled = fill(store, registry, datetime.now(UTC), settings.reports_dir)
    store.close()
    with TestClient(create_app(settings, registry=registry)) as client:
        yield Api(client, settings, filled, make_keys(settings))


def test_the_api_over_influxdb(influx_api: Api, api: Api) -> None:
    health = influx_api.get(None, "/health").json()
    assert health["store"]["ok"] is True and health["collector_lag_s"] == 1.5

    state = influx_api.get("facility_trb", f"/api/v1/entrances/{WET_ENTRANCE}/state").json()
    assert state["wet"] is True
    assert int(datetime.fromisoformat(state["wet_since"]).timestamp() * 1000) == (
        influx_api.filled.wet_from_ms
    )

    span = {"start": "2026-09-29T00:00:00Z", "end": "2026-10-03T00:00:00Z"}
    rows, cursor = [], None
    while True:
        params = {**span, "limit": 2000, **({"cursor": cursor} if cursor else {})}
        body = influx_api.get("admin", f"/api/v1/entrances/{WET_ENTRANCE}/readings", **params)
        rows.extend(body.json()["readings"])
        cursor = body.json()["next_cursor"]
        if cursor is None:
            break
    assert len(rows) == influx_api.filled.history_rows[WET_ENTRANCE]
    hourly = {**span, "every": "1h", "limit": 10000}
    path = f"/api/v1/entrances/{WET_ENTRANCE}/readings"
    assert (
        influx_api.get("admin", path, **hourly).json()["readings"]
        == (api.get("admin", path, **hourly).json()["readings"])
    )
    own = influx_api.get("supplier_entre", path, **span, limit=10000).json()["readings"]
    assert own and min(r["time"] for r in own) == "2026-09-30T22:00:00Z"

    for key, endpoint, params in (
        ("supplier_torr", "/api/v1/scorecards", {"period": PERIOD}),
        ("supplier_torr", "/api/v1/kpis", {"period": PERIOD}),
        ("procurement", "/api/v1/comparisons", {"period": PERIOD}),
        ("technician", "/api/v1/sensor-health", {"period": PERIOD}),
        ("facility_yst", "/api/v1/trends", {}),
    ):
        over_influx = influx_api.get(key, endpoint, **params)
        over_sqlite = api.get(key, endpoint, **params)
        assert over_influx.status_code == 200
        assert over_influx.json(), endpoint
        assert _canonical(over_influx.json()) == _canonical(over_sqlite.json()), endpoint
    card = influx_api.get("supplier_torr", f"/api/v1/scorecards/inst-{DRY_ENTRANCE}/{PERIOD}")
    assert card.json()["document"]["supplier"] == "torrgolv"
    assert (
        influx_api.get(
            "supplier_torr", f"/api/v1/scorecards/inst-{WET_ENTRANCE}/{PERIOD}"
        ).status_code
        == 403
    )
    quarantine = influx_api.get("technician", "/api/v1/quarantine").json()
    assert [q["reason"] for q in quarantine] == ["malformed_json", "out_of_range", "unknown_sensor"]
    metrics = influx_api.get("admin", "/metrics").text
    assert 'floorwatch_collector_stored_total{collector="floorwatch-collector"} 1190.0' in metrics
