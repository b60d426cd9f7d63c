"""Against the simulator's ground truth (simulators, merged): raw KPIs computed from simulated
sensor reports match the KPIs of the noise-free truth, with and without injected faults; the
weather adjustment recovers the true order of suppliers; the same inputs give the same bytes.

Tolerances (absolute unless said): dry and clean time share 0.02; wet recovery p90 5 minutes
+ 15 %; slip exposure 3 per 1,000 + 15 %; dirt capture 0.05. Sensors report every 10 minutes in
these tests (half the readings of the pilot's 5, for speed), which is the harder case.
Not caught, and so left out of the faults injected: slow drift (a sensor reading a few points
off after days looks like a real floor; only a second sensor could tell).
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from analytics.kpis import Kpi
from analytics.scorecard import PeriodResult, Scorer
from floorwatch.errors import WorkerDied
from floorwatch.localtime import day_bounds
from floorwatch.registry import Registry
from floorwatch.store import Store, open_store
from simulators import load_scenario, simulate
from simulators.scenario import Scenario, Station
from tests.analytics.simulated import load_readings, store_weather, truth_kpis
from tests.analytics.variants import fair_test_registry

TOLERANCE = {
    Kpi.DRY_TIME_SHARE: (0.02, 0.0),
    Kpi.CLEAN_TIME_SHARE: (0.02, 0.0),
    Kpi.WET_RECOVERY_P90: (5.0, 0.15),
    Kpi.SLIP_EXPOSURE: (3.0, 0.15),
    Kpi.DIRT_CAPTURE: (0.05, 0.0),
}
TRUE_ORDER = ["entre-ren", "torrgolv", "skrapzon"]  # by capture efficiency, all else equal


def wetter(scenario: Scenario, factor: float) -> Scenario:
    stations = {
        k: Station(wetness=min(5.0, v.wetness * factor), temperature_offset=v.temperature_offset)
        for k, v in scenario.stations.items()
    }
    return scenario.model_copy(update={"stations": stations})


def scored_world(
    registry: Registry, scenario: Scenario, start: date, days: int, path: Path
) -> tuple[Store, object]:
    sim = simulate(registry, scenario, start, days, seed=3)
    store = open_store(f"sqlite:///{path}")
    load_readings(sim, store)
    store_weather(sim, store)
    return store, sim


# --- (a) ground truth ------------------------------------------------------------------------
GROUND_FROM, GROUND_TO = date(2026, 10, 1), date(2026, 10, 9)


@pytest.fixture(scope="module", params=["no faults", "faults"])
def ground(
    request: pytest.FixtureRequest, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Registry, object, PeriodResult, datetime, datetime, Store, str]]:
    pilot = fair_test_registry(registry, keep_installations=True)
    scenario = wetter(load_scenario(), 2.5)
    if request.param == "faults":
        faults = scenario.faults.only("dropouts", "stuck", "spikes", "clock_skew")
        faults = faults.model_copy(
            update={
                "spikes": faults.spikes.model_copy(update={"rate": 0.005}),
                "dropouts": faults.dropouts.model_copy(update={"rate": 0.03}),
                "stuck": faults.stuck.model_copy(update={"sensor_share": 0.05}),
            }
        )
        scenario = scenario.model_copy(update={"faults": faults})
    else:
        scenario = scenario.without_faults()
    folder = tmp_path_factory.mktemp("ground")
    store, sim = scored_world(pilot, scenario, GROUND_FROM, 9, folder / "sim.db")
    start, end = day_bounds(GROUND_FROM, GROUND_TO)
    result = Scorer(store, pilot, resamples=50).score("ground", start, end)
    yield pilot, sim, result, start, end, store, f"sqlite:///{folder / 'sim.db'}"
    store.close()


def close(measured: float, truth: float, kpi: Kpi) -> bool:
    absolute, relative = TOLERANCE[kpi]
    if math.isnan(truth):
        return math.isnan(measured)
    return abs(measured - truth) <= absolute + relative * abs(truth)


def test_raw_kpis_match_the_ground_truth(ground) -> None:
    pilot, sim, result, start, end, *_ = ground
    contract = pilot.contracts["skane-entrance-2026"]
    misses = []
    wet_seen = 0
    for card in result.scorecards:
        doc = card.document
        truth = truth_kpis(
            sim, pilot, doc["entrance"], start, end, contract.wet_threshold,
            contract.dirt_threshold,
        )  # fmt: skip
        for kpi, value in truth.items():
            measured = doc["kpis"][str(kpi)]["raw"]
            measured = float("nan") if measured is None else measured
            if not close(measured, value, kpi):
                misses.append((doc["entrance"], str(kpi), round(measured, 3), round(value, 3)))
        wet_seen += truth[Kpi.DRY_TIME_SHARE] < 0.99
    assert not misses
    assert wet_seen >= 3  # the comparison covers floors that really got wet


# --- (b) fairness: the `fair` world of conftest.py -------------------------------------------
def test_the_comparison_on_own_counterfactuals_recovers_the_true_order(fair) -> None:
    # the best supplier works at the wettest school: raw levels reward the dry one instead
    _, _, result = fair
    comparison = result.comparisons["skane-entrance-2026"]
    capture = comparison["by_kpi"]["dirt_capture"]["ranking"]
    raw: dict[str, list[float]] = {}
    for card in result.scorecards:
        doc = card.document
        raw.setdefault(doc["supplier"], []).append(doc["kpis"]["dry_time_share"]["raw"])
    assert max(raw, key=lambda s: sum(raw[s]) / len(raw[s])) == "skrapzon"
    assert [r["supplier"] for r in capture] == TRUE_ORDER
    assert [r["supplier"] for r in comparison["ranking"]] == TRUE_ORDER
    # clearly different solutions: the differences are shown, not just the order
    assert comparison["ranking"][0]["better_than"] == ["skrapzon", "torrgolv"]


def test_payment_never_depends_on_another_installation(fair) -> None:
    placed, store, result = fair
    dropped = "inst-trb-pilevall-main"
    document = placed.document.model_copy(
        update={"installations": [i for i in placed.document.installations if i.id != dropped]}
    )
    fewer = Registry(document, placed.content_hash, list(placed.files))
    start, end = result.start, result.end
    again = Scorer(store, fewer, resamples=200).score(result.period, start, end)
    before = {c.document["installation"]: c.json for c in result.scorecards}
    after = {c.document["installation"]: c.json for c in again.scorecards}
    assert set(before) - set(after) == {dropped}
    assert all(after[i] == before[i] for i in after)


# --- (c) reproducibility --------------------------------------------------------------------
def test_the_same_inputs_give_byte_identical_scorecards(ground) -> None:
    pilot, _, result, start, end, store, _ = ground
    again = Scorer(store, pilot, resamples=50).score(result.period, start, end)
    assert [c.json for c in again.scorecards] == [c.json for c in result.scorecards]
    assert len(result.scorecards) == 12


@pytest.mark.parametrize("other_thread", [False, True], ids=["fork", "fork server"])
def test_worker_processes_give_the_same_bytes(ground, other_thread: bool) -> None:
    # With another thread running the workers come from a fork server instead of a fork.
    pilot, _, result, start, end, store, url = ground
    seen: list[int] = []
    stop = threading.Event()
    if other_thread:
        threading.Thread(target=stop.wait, daemon=True).start()
    try:
        scorer = Scorer(
            store,
            pilot,
            resamples=50,
            workers=2,
            worker_store=functools.partial(open_store, url),
            progress=lambda _what, done, _total: seen.append(done),
        )
        again = scorer.score(result.period, start, end)
    finally:
        stop.set()
    assert [c.json for c in again.scorecards] == [c.json for c in result.scorecards]
    assert seen == list(range(1, len(seen) + 1)) and len(seen) > 12  # one pass, in order


def _store_that_kills_its_worker() -> Store:
    os._exit(3)  # as an out-of-memory kill would


def test_a_dead_worker_process_is_one_clear_error(ground) -> None:
    pilot, _, result, start, end, store, _ = ground
    scorer = Scorer(store, pilot, workers=2, worker_store=_store_that_kills_its_worker)
    with pytest.raises(WorkerDied, match="scoring worker process died"):
        scorer.score(result.period, start, end)
