"""The API over a store filled by the simulator (through the collector's decoders)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from floorwatch.registry import Registry
from floorwatch.store import open_store
from tests.api.conftest import Api, make_keys, make_settings
from tests.api.pilot_data import Filled
from tests.api.simulated import fill_from_simulator, score_simulated

DAY_1 = {"start": "2026-09-29T22:00:00Z", "end": "2026-10-01T22:00:00Z"}  # both local days


@pytest.fixture(scope="module")
def sim_api(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Iterator[Api]:
    tmp: Path = tmp_path_factory.mktemp("api-sim")
    settings = make_settings(tmp, f"sqlite:///{tmp / 'floorwatch.db'}")
    store = open_store(settings.store)
    stored, rejected = fill_from_simulator(store, registry)
    assert stored > 50_000 and rejected > 0
    assert score_simulated(store, registry) > 0
    store.close()
    with TestClient(create_app(settings, registry=registry)) as client:
        yield Api(client, settings, Filled(0, 0, {}), make_keys(settings))


def _all_pages(api: Api, key: str, path: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        extra: dict[str, str] = {"cursor": cursor} if cursor else {}
        response = api.get(key, path, **params, **extra)
        assert response.status_code == 200, response.text
        rows.extend(response.json()["readings"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return rows


def test_every_entrance_has_a_state_and_readings(sim_api: Api, registry: Registry) -> None:
    states = sim_api.get("admin", "/api/v1/state").json()
    assert len(states) == len(registry.entrances)
    for state in states:
        assert state["as_of"] is not None, state["entrance"]
        assert state["wet"] in (True, False)
        inner = next(z for z in state["zones"] if z["zone"] == "inner")
        assert inner["moisture"] is not None
    # Ystad's people counters report cumulative totals over LoRaWAN: stored as passages.
    footfall = sim_api.get(
        "technician",
        "/api/v1/sensors/yst-ostra-main-entry-footfall/readings",
        **DAY_1,
        every="1d",
        kind="footfall",
    ).json()["readings"]
    assert footfall and all(r["value"] >= 0 for r in footfall)
    assert sum(r["value"] for r in footfall) > 100  # a school day's passages


def test_downsampled_sums_match_the_raw_readings(sim_api: Api) -> None:
    path = "/api/v1/entrances/sku-rydsgard-main/readings"
    raw = _all_pages(sim_api, "admin", path, **DAY_1, kind="footfall", limit=5000)
    hourly = _all_pages(sim_api, "admin", path, **DAY_1, kind="footfall", every="1h", limit=500)
    assert raw and hourly
    assert sum(r["value"] for r in hourly) == pytest.approx(sum(r["value"] for r in raw))
    assert sum(r["count"] for r in hourly) == len(raw)


def test_a_supplier_reads_simulated_readings_only_from_its_installation(sim_api: Api) -> None:
    path = "/api/v1/entrances/trb-vastervang-main/readings"
    everything = _all_pages(sim_api, "admin", path, **DAY_1, limit=10000)
    own = _all_pages(sim_api, "supplier_entre", path, **DAY_1, limit=10000)
    start = "2026-09-30T22:00:00Z"  # 1 October 00:00 in Stockholm
    assert own and all(r["time"] >= start for r in own)
    assert len(own) == sum(r["time"] >= start for r in everything) < len(everything)
    assert sim_api.get("supplier_torr", path, **DAY_1).status_code == 403
    assert sim_api.get("facility_yst", path, **DAY_1).status_code == 403
    states = sim_api.get("facility_yst", "/api/v1/state").json()
    assert {s["school"] for s in states} == {"yst-ostra"}


def test_simulated_faults_reach_the_quarantine(sim_api: Api) -> None:
    rows = sim_api.get("technician", "/api/v1/quarantine", limit=1000).json()
    assert rows and {r["reason"] for r in rows} <= {
        "malformed_json",
        "empty_payload",
        "out_of_range",
        "not_finite",
        "wrong_type",
        "missing_field",
        "bad_senml",
        "time_in_future",
        "time_too_old",
        "bad_time",
        "not_an_object",
    }
    assert sim_api.get("supplier_entre", "/api/v1/quarantine").status_code == 403


def test_scorecards_computed_by_analytics_per_role(sim_api: Api, registry: Registry) -> None:
    cards = sim_api.get("procurement", "/api/v1/scorecards", period="2026-10").json()
    assert len(cards) == len(registry.document.installations)
    full = sim_api.get("procurement", f"/api/v1/scorecards/{cards[0]['installation']}/2026-10")
    assert full.status_code == 200 and full.json()["document"]
    own = sim_api.get("supplier_torr", "/api/v1/scorecards", period="2026-10").json()
    assert own and {c["supplier"] for c in own} == {"torrgolv"}
    kpis = sim_api.get("supplier_torr", "/api/v1/kpis", period="2026-10").json()
    assert kpis and {k["supplier"] for k in kpis} == {"torrgolv"}
    assert {k["status"] for k in kpis} <= {"pass", "fail", "insufficient"}
    other = next(c for c in cards if c["supplier"] != "torrgolv")
    refused = sim_api.get("supplier_torr", f"/api/v1/scorecards/{other['installation']}/2026-10")
    assert refused.status_code == 403
    yst = sim_api.get("facility_yst", "/api/v1/scorecards").json()
    assert yst and {c["school"] for c in yst} == {"yst-ostra"}
    assert sim_api.get("technician", "/api/v1/scorecards").status_code == 403
    health = sim_api.get("technician", "/api/v1/sensor-health", period="2026-10").json()
    assert len(health) == len(registry.sensors)
    comparison = sim_api.get("procurement", "/api/v1/comparisons/skane-entrance-2026/2026-10")
    assert comparison.status_code == 200 and comparison.json()["document"]


def test_a_suppliers_report_view_from_analytics_results(sim_api: Api) -> None:
    assert sim_api.get("procurement", "/api/v1/reports/2026-10").status_code == 404  # no file
    view = sim_api.get("supplier_entre", "/api/v1/reports/2026-10")
    assert view.status_code == 200 and "inst-trb-vastervang-main" in view.text
    for other in ("torrgolv", "skrapzon", "TorrGolv", "Skrapzon", "inst-trb-pilevall-main"):
        assert other not in view.text
