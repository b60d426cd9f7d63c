"""Every dashboard panel on simulator data, through ingest's decoders and analytics, in InfluxDB.

The readings come from the simulator's MQTT messages through the collector's decoders (see
tests/dashboards/simulated.py); analytics then scores the month of yesterday (local time) from
that store and writes its kpi, scorecard, comparison, sensor_health and trend points, as
`floorwatch score` does. Only the collectors' counters are written by the test (the Operations
dashboard on a real collector is tests/dashboards/test_operations_live.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from analytics.scorecard import Scorer, write_results
from floorwatch.registry import Registry
from floorwatch.store import open_store
from floorwatch.store.influx import InfluxStore
from tests.dashboards.fill import STOCKHOLM, collector_counters
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
    store = open_store(url, sensor_tags=registry.sensor_tags)
    assert isinstance(store, InfluxStore)
    # The month with the most simulated data: yesterday's (a day or more of readings). Weekly
    # trends belong to the month their week starts in, so early in a month (yesterday's week
    # began in the month before) that month is scored too, or the wear panels would be empty.
    yesterday = now.astimezone(STOCKHOLM) - timedelta(days=1)
    week_start = yesterday - timedelta(days=yesterday.weekday())
    periods = sorted({week_start.strftime("%Y-%m"), yesterday.strftime("%Y-%m")})
    scorer = Scorer(store, registry, resamples=50)
    assert sum(write_results(store, scorer.score(period), registry) for period in periods) > 0
    store.write_points(collector_counters(now, quarantine=False))
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


def _scores(store: InfluxStore) -> int:
    series = store.query('SELECT count("score") FROM "scorecard"')
    return int(series[0]["values"][0][1]) if series else 0


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_returns_data_on_simulated_readings_and_analytics_results(
    simulated: tuple[InfluxStore, Simulated], name: str
) -> None:
    store, facts = simulated
    model = DASHBOARDS[name]
    variables = resolve_variables(store, model, "all")
    empty = set()
    for panel in panels(model):
        for series in run_panel(store, model, panel, variables, facts.now_ms):
            if not sum(len(one["values"]) for one in series):
                empty.add(panel["title"])
    # A day or two of a month is below the contract's minimum data availability: every KPI is
    # "insufficient data" and a scorecard then has no score (neither paid nor penalised). The
    # score panel is rightly empty then, and only then.
    if _scores(store) == 0:
        empty.discard("Score per supplier and month")
    assert not empty, f"{name}: no data in {sorted(empty)}"
