"""Every fault appears in the output when enabled, and never when disabled.

Each run is compared with the fault-free run of the same seed: faults draw from their own random
streams, so everything a fault does not touch is identical.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import date

import numpy as np
import pytest

from floorwatch.registry import Registry
from simulators import Scenario, simulate
from simulators.scenario import Faults
from tests.simulators.wire import decode

START = date(2026, 10, 7)
SEED = 21
ALL = Faults().names

# Rates high enough that a one-day run shows each fault for sure.
STRONG = Faults.model_validate(
    {
        "dropouts": {"rate": 0.03, "mean_length": 4},
        "stuck": {"sensor_share": 0.05, "duration_h": 6},
        "spikes": {"rate": 0.003},
        "drift": {"sensor_share": 0.1, "per_day": 10.0, "direction": "up"},
        "duplicates": {"rate": 0.003},
        "out_of_order": {"rate": 0.003, "max_delay_s": 1800},
        "malformed": {"rate": 0.003},
        "clock_skew": {"sensor_share": 0.05, "skew_s": 900},
        "dead_battery": {"sensor_share": 0.05, "after_days": 0.3},
    }
)


class Stream:
    """A decoded message stream: per (sensor, kind) the readings in arrival order."""

    def __init__(self, messages: list[tuple[str, bytes]], registry: Registry):
        self.messages = messages
        self.malformed = 0
        self.parsed: list[tuple[str, bytes]] = []
        self.series: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
        for topic, payload in messages:
            try:
                rows = decode(topic, payload.decode(), registry)
            except (ValueError, KeyError, TypeError, json.JSONDecodeError):
                self.malformed += 1
                continue
            self.parsed.append((topic, payload))
            for sensor, kind, at, value in rows:
                self.series[(sensor, kind)].append((at, value))

    def values(self, key: tuple[str, str]) -> dict[int, float]:
        return dict(self.series[key])


def _run(registry: Registry, scenario: Scenario, faults: Faults) -> Stream:
    sim = simulate(registry, scenario.model_copy(update={"faults": faults}), START, 1, SEED)
    return Stream(list(sim.messages()), registry)


def symptoms(run: Stream, clean: Stream) -> set[str]:
    """Which faults the stream shows, judged against the clean stream."""
    found: set[str] = set()
    if run.malformed:
        found.add("malformed")
    if len(set(run.parsed)) < len(run.parsed):
        found.add("duplicates")
    lost = 0
    for key, readings in run.series.items():
        base = clean.values(key)
        times = [t for t, _ in readings]
        if any(b < a for a, b in itertools.pairwise(times)):
            found.add("out_of_order")
        got = dict(readings)
        if not set(got) <= set(base):
            shifted = {t for t in base}
            for skew in (900_000, -900_000):
                if {t - skew for t in got} <= shifted:
                    found.add("clock_skew")
            continue
        missing = sorted(set(base) - set(got))
        if missing:
            if min(missing) > max(got, default=0) and len(missing) > 12:
                found.add("dead_battery")  # silent from some time on, for more than an hour
            else:
                lost += len(missing)
        common = sorted(set(got) & set(base))
        diff = np.array([got[t] - base[t] for t in common])
        if not len(diff) or key[1] not in ("moisture", "dirt"):
            continue
        values = np.array([got[t] for t in common])
        changed = np.abs(diff) > 1e-9
        if changed.sum() > 0.5 * len(diff) and abs(diff[-1]) > abs(diff[len(diff) // 4]) + 1:
            found.add("drift")
            continue
        runs = np.flatnonzero(np.diff(values) != 0)
        longest = np.max(np.diff(np.concatenate([[-1], runs, [len(values) - 1]])))
        if longest >= 60 and changed.any():
            found.add("stuck")
        isolated = [
            i
            for i in np.flatnonzero(np.abs(diff) > 30)
            if not changed[max(i - 1, 0)] or not changed[min(i + 1, len(diff) - 1)]
        ]
        if isolated:
            found.add("spikes")
    # A malformed message loses its readings (at most two per LoRaWAN uplink) too.
    if lost > 2 * run.malformed:
        found.add("dropouts")
    return found


@pytest.fixture(scope="module")
def clean(registry: Registry, scenario: Scenario) -> Stream:
    return _run(registry, scenario, STRONG.only())


def test_no_fault_symptoms_when_all_are_disabled(
    registry: Registry, scenario: Scenario, clean: Stream
) -> None:
    again = _run(registry, scenario, STRONG.only())
    assert symptoms(again, clean) == set()
    assert clean.malformed == 0
    assert len(set(clean.messages)) == len(clean.messages)


@pytest.mark.parametrize("fault", ALL)
def test_each_fault_appears_alone(
    fault: str, registry: Registry, scenario: Scenario, clean: Stream
) -> None:
    run = _run(registry, scenario, STRONG.only(fault))
    assert symptoms(run, clean) == {fault}


def test_all_faults_together(registry: Registry, scenario: Scenario) -> None:
    sim = simulate(
        registry, scenario.model_copy(update={"faults": STRONG.only(*ALL)}), START, 1, SEED
    )
    for _ in sim.messages():
        pass
    assert set(sim.fault_log.counts) == set(ALL)
