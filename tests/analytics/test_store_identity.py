"""Scoring from InfluxDB and from SQLite: the same data gives byte-identical scorecards.

Suppliers contest scores they cannot reproduce, so the store a municipality runs must not change
a single byte of them. The readings carry full-precision doubles (every bit must survive
InfluxDB's text answer) and many sensors report at the same instant (the order within one
timestamp must be the same from both stores).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.cli import results_json
from analytics.occupancy import day_bounds
from analytics.scorecard import Scorer
from floorwatch.readings import Reading
from floorwatch.registry import Registry
from floorwatch.store import Store, open_store
from tests.analytics.synthetic import pilot_readings, to_readings

RAIN = {52230: 2.0, 53300: 1.0, 54290: 0.5}
CAPTURE = {"entre-ren": 0.8, "torrgolv": 0.6, "skrapzon": 0.4}


@pytest.fixture(scope="module")
def readings(registry: Registry) -> list[Reading]:
    start, end = day_bounds(date(2026, 10, 1), date(2026, 10, 3))
    frame, _ = pilot_readings(registry, start, end, RAIN, CAPTURE)
    rng = np.random.default_rng(14)
    # values with all 53 bits of mantissa in use, still inside every kind's range
    return [
        Reading(r.sensor_id, r.kind, r.ts_ms, r.value * (1 - rng.random() * 1e-3))
        for r in to_readings(frame)
    ]


@pytest.fixture
def both(
    readings: list[Reading], registry: Registry, influx_url: str, tmp_path: Path
) -> Iterator[tuple[Store, Store]]:
    sqlite = open_store(f"sqlite:///{tmp_path / 'same.db'}")
    influx = open_store(influx_url, sensor_tags=registry.sensor_tags)
    for store in (sqlite, influx):
        store.write_readings(readings)
    yield sqlite, influx
    sqlite.close()
    influx.close()


def test_the_same_readings_come_back_in_the_same_order(
    both: tuple[Store, Store], registry: Registry
) -> None:
    sqlite, influx = both
    start, end = day_bounds(date(2026, 10, 1), date(2026, 10, 3))
    entrance = registry.entrances["yst-ostra-main"][0]
    given = sorted((s.id for s in entrance.sensors), reverse=True)  # the caller's order counts
    for sensor_ids, kinds in ((None, None), (given, None), (given, ["moisture", "dirt"])):
        expected = sqlite.read_readings(start, end, sensor_ids=sensor_ids, kinds=kinds)
        got = influx.read_readings(start, end, sensor_ids=sensor_ids, kinds=kinds)
        assert len(expected) > 1000
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert influx.read_readings(start, end, sensor_ids=["no-such-sensor"]).empty


def test_scorecards_from_influxdb_are_byte_identical_to_sqlites(
    both: tuple[Store, Store], registry: Registry
) -> None:
    sqlite, influx = both
    start, end = day_bounds(date(2026, 10, 1), date(2026, 10, 3))
    label = "2026-10-01..2026-10-03"
    from_sqlite = results_json(Scorer(sqlite, registry, resamples=200).score(label, start, end))
    from_influx = results_json(Scorer(influx, registry, resamples=200).score(label, start, end))
    assert '"status":"pass"' in from_sqlite or '"status":"fail"' in from_sqlite
    assert from_influx.encode() == from_sqlite.encode()
