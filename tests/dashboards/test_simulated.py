"""Every dashboard panel on simulator data, decoded by the collector's decoders, in real InfluxDB.

The readings come from the simulator's MQTT messages through ingest's decoders (see
tests/dashboards/simulated.py); the derived measurements are written per the BRIEF contracts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from floorwatch.registry import Registry
from floorwatch.store import open_store
from floorwatch.store.influx import InfluxStore
from tests.dashboards.fill import results
from tests.dashboards.simulated import Simulated, fill_simulated
from tests.dashboards.test_queries import DASHBOARDS, panels, resolve_variables, run_panel
from tests.services import InfluxDB

QUARANTINE_REASONS = {  # BRIEF: stable snake_case reasons
    "payload_too_large", "malformed_json", "not_an_object", "wrong_type", "missing_field",
    "not_finite", "out_of_range", "unknown_sensor", "unknown_device", "unknown_kind",
    "kind_not_installed", "time_in_future", "time_too_old", "bad_time", "bad_topic",
    "empty_payload", "bad_senml", "unsupported_format",
}  # fmt: skip


@pytest.fixture(scope="module")
def simulated(influxdb: InfluxDB, registry: Registry) -> Iterator[tuple[InfluxStore, Simulated]]:
    url = influxdb.url(f"sim_{uuid.uuid4().hex[:12]}")
    now = datetime.now(UTC)
    facts = fill_simulated(url, registry, now)
    store = open_store(url)
    assert isinstance(store, InfluxStore)
    store.write_points(results(registry, now, quarantine=False))
    yield store, facts
    store.close()


def test_simulated_readings_arrive_through_the_decoders(
    simulated: tuple[InfluxStore, Simulated], registry: Registry
) -> None:
    store, facts = simulated
    assert facts.readings > 10_000
    # The scenario injects faults; whatever the decoders refused has a reason of the contract.
    assert set(facts.rejected) <= QUARANTINE_REASONS
    sensors = store.query('SHOW TAG VALUES FROM "reading" WITH KEY = "sensor_id"')
    seen = {row[1] for one in sensors for row in one["values"]}
    assert set(registry.sensors) <= seen


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_returns_data_on_simulated_readings(
    simulated: tuple[InfluxStore, Simulated], name: str
) -> None:
    store, facts = simulated
    model = DASHBOARDS[name]
    variables = resolve_variables(store, model, "all")
    for panel in panels(model):
        results_ = run_panel(store, model, panel, variables, facts.now_ms)
        for target, series in zip(panel["targets"], results_, strict=True):
            rows = sum(len(one["values"]) for one in series)
            assert rows > 0, f"{name}: panel {panel['title']!r} {target['refId']} has no data"
