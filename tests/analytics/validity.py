"""Validation worlds: small simulated pilots whose truth is known, scored by the real scorer.

A world (`build_world`) is a few of the pilot's schools on weather stations made clearly
different (`STATIONS`: wetness 3, 1 and 0.3), every non-reference entrance with an installation
from 1 October 2026 of the supplier its school is given, a baseline month (September) and the
reporting month October. Sensors report every 10 minutes where raw KPIs are checked (at 15,
short dry spells between wet episodes go unseen and wet recovery reads long), every 15 in the
identical-supplier worlds (speed). It is simulated without faults, its readings are
written to a real SQLite store, its weather is written as SMHI files and imported the way
`floorwatch weather import` does, and it is scored with `analytics.scorecard.Scorer`. The
truth comes from `simulators.counterfactual.Counterfactual` (the same weather and footfall rerun
untreated and with each supplier's solution at every installed entrance).

The scorer's output is read only through tests/analytics/scorer_output.py. The functions at the
end compute each property of issue 12 as numbers (`*_report`), so the tests assert on them and
the numbers can be printed for a report (`python -m tests.analytics.validity`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from statistics import median
from typing import Any

from analytics.weather import import_weather
from floorwatch.registry import Registry
from floorwatch.registry.schema import Installation
from floorwatch.store import Store, open_store
from simulators import load_scenario, simulate
from simulators.counterfactual import AVOIDED_FOR_KPI, Counterfactual, InstallationTruth
from simulators.scenario import BASELINE, Profile, Station
from tests.analytics import scorer_output
from tests.analytics.scorer_output import CONTRACT_KPIS, OVERALL, Card, Comparison, Stated
from tests.analytics.simulated import load_readings

CONTRACT = "skane-entrance-2026"
SIM_START, SIM_DAYS = date(2026, 9, 1), 61  # September (baseline) and October
INSTALLED = date(2026, 10, 1)
PERIOD = "2026-10"
PERIOD_FROM, PERIOD_TO = date(2026, 10, 1), date(2026, 11, 1)

# Stations of the worlds' schools: very wet Trelleborg, middling Skurup, nearly dry Ystad.
WET, MID, DRY = 52230, 53300, 54290
STATIONS = {WET: Station(wetness=3.0), MID: Station(wetness=1.0), DRY: Station(wetness=0.3)}
# The pilot's schools on these stations: trb-vastervang and trb-pilevall (WET), sku-prastamosse
# (MID), yst-backa (DRY); all but trb-pilevall have a reference entrance.
_COMMON: dict[str, Any] = {
    "saturation_l": 3.0,
    "dirt_capacity_kg": 3.0,
    "drying_half_life_min": 25,
    "maintenance_interval_days": 7,
}
BASELINE_PROFILE = Profile(capture_efficiency=0.3, **_COMMON)
# Three suppliers that differ only in capture efficiency: a > b > c at every entrance.
RANKED = {
    "supplier-a": Profile(capture_efficiency=0.9, **_COMMON),
    "supplier-b": Profile(capture_efficiency=0.7, **_COMMON),
    "supplier-c": Profile(capture_efficiency=0.5, **_COMMON),
}
IDENTICAL = {
    "supplier-x": Profile(capture_efficiency=0.75, **_COMMON),
    "supplier-y": Profile(capture_efficiency=0.75, **_COMMON),
}


@dataclass(frozen=True)
class WorldSpec:
    """What a world is: its name, seed, suppliers' true profiles and who works at which school."""

    name: str
    seed: int
    profiles: dict[str, Profile]
    supplier_at: dict[str, str]  # school id -> supplier at its installed entrances
    interval_s: int = 600  # how often every sensor reports

    @property
    def suppliers(self) -> list[str]:
        return sorted(self.profiles)


def ranked(seed: int, best_at: str) -> WorldSpec:
    """supplier-a (best) at the wettest schools and supplier-c (worst) at the driest, or the
    other way round (`best_at` "wet" or "dry"); supplier-b in the middle."""
    wet, dry = ("supplier-a", "supplier-c") if best_at == "wet" else ("supplier-c", "supplier-a")
    at = {"trb-vastervang": wet, "trb-pilevall": wet, "sku-prastamosse": "supplier-b"}
    return WorldSpec(f"best-at-{best_at}-{seed}", seed, RANKED, {**at, "yst-backa": dry})


def identical(seed: int) -> WorldSpec:
    """Two identical solutions: supplier-x at the wet school, supplier-y at the dry one (a
    smaller world for speed: two schools, three installations, sensors every 15 minutes)."""
    at = {"trb-vastervang": "supplier-x", "yst-backa": "supplier-y"}
    return WorldSpec(f"identical-{seed}", seed, IDENTICAL, at, interval_s=900)


def world_registry(pilot: Registry, spec: WorldSpec, without: Iterable[str] = ()) -> Registry:
    """The pilot's schools of the spec, its sensor interval and installations;
    entrances in `without` are left out with their installations (minus an installation)."""
    dropped = set(without)
    schools = []
    installations = []
    for school in pilot.document.schools:
        if school.id not in spec.supplier_at:
            continue
        entrances = []
        for entrance in school.entrances:
            if entrance.id in dropped:
                continue
            sensors = [
                s.model_copy(update={"report_interval": spec.interval_s}) for s in entrance.sensors
            ]
            entrances.append(entrance.model_copy(update={"sensors": sensors}))
            if not entrance.reference:
                installations.append(
                    Installation(
                        id=f"inst-{entrance.id}",
                        entrance=entrance.id,
                        supplier=spec.supplier_at[school.id],
                        contract=CONTRACT,
                        start=INSTALLED,
                    )
                )
        schools.append(school.model_copy(update={"entrances": entrances}))
    document = pilot.document.model_copy(
        update={"schools": schools, "installations": installations}
    )
    tag = f"sha256:validity-{spec.name}-without-{'-'.join(sorted(dropped))}"
    return Registry(document, tag, ["validity.yaml"])


@dataclass
class World:
    """A scored world and its truth."""

    spec: WorldSpec
    pilot: Registry  # the registry the world was derived from
    registry: Registry
    truth: Counterfactual  # daily counts only (keep_days_only)
    store: Store
    cards: list[Card]
    comparison: Comparison
    truths: dict[str, InstallationTruth]  # by installation id
    rescored: dict[str, list[Card]] = field(default_factory=dict)  # by entrance left out

    def score_without(self, entrance_id: str) -> list[Card]:
        """Scorecards from the same store with one installed entrance (and its installation)
        left out of the registry (computed once per entrance)."""
        if entrance_id not in self.rescored:
            registry = world_registry(self.pilot, self.spec, [entrance_id])
            self.rescored[entrance_id] = scorer_output.cards(
                scorer_output.score(self.store, registry, PERIOD)
            )
        return self.rescored[entrance_id]


def build_world(pilot: Registry, spec: WorldSpec, directory: Path) -> World:
    """Simulate, store, import the weather, score and compute the truth (module docstring)."""
    registry = world_registry(pilot, spec)
    scenario = (
        load_scenario()
        .without_faults()
        .model_copy(
            update={
                "profiles": {BASELINE: BASELINE_PROFILE, **spec.profiles},
                "stations": STATIONS,
            }
        )
    )
    sim = simulate(registry, scenario, SIM_START, SIM_DAYS, seed=spec.seed)
    directory.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{directory / 'world.db'}")
    load_readings(sim, store)
    sim.write_weather(directory / "smhi")
    import_weather(store, directory / "smhi")
    result = scorer_output.score(store, registry, PERIOD)
    truth = Counterfactual(sim, spec.suppliers)
    truths = {t.installation: t for t in truth.installations(CONTRACT, PERIOD_FROM, PERIOD_TO)}
    truth.keep_days_only()  # a session holds many worlds: keep their daily counts, not minutes
    return World(
        spec,
        pilot,
        registry,
        truth,
        store,
        scorer_output.cards(result),
        scorer_output.comparison(result, CONTRACT),
        truths,
    )


# --- the truth of what a scorecard states ---------------------------------------------------
def true_value(world: World, card: Card, kpi: str, stated: Stated) -> float | None:
    """The true value of what `stated` estimates for this installation and KPI (its basis and
    days)."""
    truth = world.truths[card.installation]
    if stated.days is not None:
        truth = world.truth.installation(card.installation, PERIOD_FROM, PERIOD_TO, stated.days)
    if stated.basis == "level":
        return truth.treated[kpi]
    if stated.basis == "untreated_level":
        return truth.untreated[kpi]
    if stated.basis == "change":
        return truth.effect.change[kpi]
    if stated.basis == "avoided":
        return truth.effect.avoided[stated.quantity or AVOIDED_FOR_KPI[kpi]]
    # pooled: this installation's solution at every compared installation's entrance
    levels = [t.by_supplier[card.supplier].level[kpi] for t in world.truths.values()]
    known = [v for v in levels if v is not None]
    return sum(known) / len(known) if known else None


def true_supplier_effects(world: World) -> dict[str, dict[str, tuple[float, float]]]:
    """Per supplier and KPI (those with an avoided quantity) its true effect as (mean over all
    installed entrances, mean over its own), as the share of the untreated quantity avoided."""
    per = world.truth.suppliers_truth(CONTRACT, PERIOD_FROM, PERIOD_TO)
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for supplier, t in per.items():
        out[supplier] = {}
        for kpi, quantity in AVOIDED_FOR_KPI.items():
            every, own = t.all_entrances.avoided[quantity], t.own_entrances.avoided[quantity]
            if every is not None and own is not None:
                out[supplier][kpi] = (every, own)
    return out


# --- the properties, as numbers ---------------------------------------------------------------
RAW_TOLERANCE = {  # absolute, plus a share of the true value
    "dry_time_share": (0.02, 0.0),
    "clean_time_share": (0.02, 0.0),
    "wet_recovery_p90": (5.0, 0.15),
    "slip_exposure": (3.0, 0.15),
    "dirt_capture": (0.05, 0.0),
}


@dataclass
class Tally:
    """How many cases passed a check, and the misses (for messages and reports)."""

    name: str
    cases: int = 0
    hits: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, ok: bool, what: str) -> None:
        self.cases += 1
        self.hits += ok
        if not ok:
            self.misses.append(what)

    @property
    def share(self) -> float:
        return self.hits / self.cases if self.cases else float("nan")

    def __str__(self) -> str:
        shown = "; ".join(self.misses[:6]) + (" ..." if len(self.misses) > 6 else "")
        return f"{self.name}: {self.hits}/{self.cases} ({self.share:.1%}) misses: {shown}"


def raw_report(worlds: Iterable[World], scale: float = 1.0) -> dict[str, Tally]:
    """Per KPI: raw measured level within RAW_TOLERANCE (times `scale`) of the true level (where
    the truth is a number; `no_events_report` covers the rest)."""
    tallies = {kpi: Tally(f"raw {kpi}") for kpi in CONTRACT_KPIS}
    for world in worlds:
        for card in world.cards:
            for kpi in CONTRACT_KPIS:
                raw = card.kpis[kpi].raw.value
                true = world.truths[card.installation].treated[kpi]
                if true is None:
                    continue
                absolute, relative = (scale * x for x in RAW_TOLERANCE[kpi])
                ok = raw is not None and abs(raw - true) <= absolute + relative * abs(true)
                tallies[kpi].add(ok, f"{world.spec.name} {card.installation} {raw} vs {true:.4f}")
    return tallies


def no_events_report(worlds: Iterable[World]) -> Tally:
    """Where truly no wet episode touched occupied time, the card states no wet recovery length
    (neither raw nor judged), rather than 0 min or a shifted value."""
    tally = Tally("no wet episodes: no number")
    for world in worlds:
        for card in world.cards:
            if world.truths[card.installation].treated["wet_recovery_p90"] is not None:
                continue
            item = card.kpis["wet_recovery_p90"]
            judged = item.judged.value if item.judged is not None else None
            tally.add(
                item.raw.value is None and judged is None,
                f"{world.spec.name} {card.installation}: raw {item.raw.value}, judged {judged}",
            )
    return tally


def coverage_report(worlds: Iterable[World]) -> Tally:
    """The judged value's stated 95 % interval contains the truth of what it estimates."""
    tally = Tally("95 % interval covers the truth")
    for world in worlds:
        for card in world.cards:
            for kpi, item in card.kpis.items():
                stated = item.judged
                if stated is None:
                    continue
                true = true_value(world, card, kpi, stated)
                what = f"{world.spec.name} {card.installation} {kpi} {stated.basis}"
                if true is None or stated.value is None:
                    tally.add(true is None and stated.value is None, f"{what} {stated} vs {true}")
                    continue
                inside = (
                    stated.low is not None
                    and stated.high is not None
                    and stated.low <= true <= stated.high
                )
                tally.add(inside, f"{what} [{stated.low}, {stated.high}] vs {true:.4f}")
    return tally


def order_report(worlds: Iterable[World], margin: float = 0.05) -> Tally:
    """Pairs of suppliers whose true effect on a KPI differs by `margin` or more (over all
    installed entrances and over their own): the comparison orders them as the truth does."""
    tally = Tally(f"order where true effects differ by >= {margin}")
    for world in worlds:
        effects = true_supplier_effects(world)
        for kpi in AVOIDED_FOR_KPI:
            order = world.comparison.order[kpi]
            for a in world.spec.suppliers:
                for b in world.spec.suppliers:
                    ea, eb = effects[a].get(kpi), effects[b].get(kpi)
                    if ea is None or eb is None:
                        continue
                    if min(ea[0] - eb[0], ea[1] - eb[1]) < margin:
                        continue  # a is not clearly better than b
                    ok = a in order and b in order and order.index(a) < order.index(b)
                    tally.add(ok, f"{world.spec.name} {kpi}: {a} > {b}, shown {order}")
    return tally


def claims_report(worlds: Iterable[World]) -> Tally:
    """Every difference the comparison claims (a better than b, per KPI or overall) has the sign
    of the true difference of their effects over all installed entrances (overall: the mean over
    the KPIs)."""
    tally = Tally("claimed differences with the true sign")
    for world in worlds:
        effects = true_supplier_effects(world)
        for kpi, better, worse in sorted(world.comparison.claims):
            kpis = list(AVOIDED_FOR_KPI) if kpi == OVERALL else [kpi]
            true = [effects[better][k][0] - effects[worse][k][0] for k in kpis]
            tally.add(sum(true) > 0, f"{world.spec.name} {kpi}: {better} > {worse}, true {true}")
    return tally


def identical_report(worlds: list[World]) -> tuple[Tally, float]:
    """Identical suppliers: seeds in which the comparison claims no difference, and the median
    over seeds of the gap between their mean scores."""
    tally = Tally("identical suppliers: no difference claimed")
    gaps = []
    for world in worlds:
        claims = sorted(world.comparison.claims)
        tally.add(not claims, f"{world.spec.name}: {claims}")
        scores = [world.comparison.mean_score.get(s) for s in world.spec.suppliers]
        if all(s is not None for s in scores):
            gaps.append(abs(float(scores[0] or 0.0) - float(scores[1] or 0.0)))
        else:
            gaps.append(math.inf)
    return tally, median(gaps) if gaps else math.inf


def removal_report(world: World, entrances: Iterable[str] | None = None) -> tuple[Tally, Tally]:
    """With one installed entrance (and its installation) left out of the registry, for each
    of `entrances` (default: every installed one) in turn: whether every other installation's
    payment (score, bonus/malus, payment) stays the same, and whether the values its KPIs are
    judged on stay the same."""
    payment = Tally("payment unchanged without another installation")
    judged = Tally("judged values unchanged without another installation")
    before = {c.installation: c for c in world.cards}
    for left_out in entrances if entrances is not None else [c.entrance for c in world.cards]:
        for card in world.score_without(left_out):
            old = before[card.installation]
            paid = (old.score, old.bonus_malus_sek, old.payment_sek)
            payment.add(
                paid == (card.score, card.bonus_malus_sek, card.payment_sek),
                f"without {left_out}, {card.installation}: score {old.score} -> {card.score}, "
                f"bonus/malus {old.bonus_malus_sek} -> {card.bonus_malus_sek}",
            )
            for kpi, item in card.kpis.items():
                was, now = old.kpis[kpi].judged, item.judged
                judged.add(
                    was == now,
                    f"without {left_out}, {card.installation} {kpi}: "
                    f"{was.value if was else None} -> {now.value if now else None}",
                )
    return payment, judged


# The range a KPI's level can take; improvements (avoided shares) are at most 1.
LEVEL_RANGE = {
    "dry_time_share": (0.0, 1.0),
    "clean_time_share": (0.0, 1.0),
    "wet_recovery_p90": (0.0, math.inf),
    "slip_exposure": (0.0, 1000.0),
    "dirt_capture": (-math.inf, 1.0),
}


def range_report(worlds: Iterable[World]) -> Tally:
    """Every value a scorecard states (values and interval ends) lies in its KPI's range."""
    tally = Tally("scorecard values inside the KPI's range")
    for world in worlds:
        for card in world.cards:
            for kpi, item in card.kpis.items():
                for stated in item.stated:
                    if stated.basis in ("level", "pooled_level", "untreated_level"):
                        lo, hi = LEVEL_RANGE[kpi]
                    elif stated.basis == "avoided":
                        lo, hi = -math.inf, 1.0
                    else:  # a change of a share stays within -1..1
                        lo, hi = (
                            (-1.0, 1.0) if LEVEL_RANGE[kpi][1] == 1.0 else (-math.inf, math.inf)
                        )
                    for name, v in (
                        ("", stated.value),
                        ("low ", stated.low),
                        ("high ", stated.high),
                    ):
                        if v is not None:
                            tally.add(
                                lo <= v <= hi,
                                f"{world.spec.name} {card.installation} {kpi} {stated.basis} "
                                f"{name}{v:.4f}",
                            )
    return tally


__all__ = [
    "CONTRACT",
    "OVERALL",
    "World",
    "WorldSpec",
    "build_world",
    "claims_report",
    "coverage_report",
    "identical",
    "identical_report",
    "no_events_report",
    "order_report",
    "range_report",
    "ranked",
    "raw_report",
    "removal_report",
]


class Worlds:
    """Worlds built when first asked for, once per session (tests/analytics/conftest.py)."""

    def __init__(self, pilot: Registry, directory: Path):
        self.pilot = pilot
        self.directory = directory
        self._built: dict[str, World] = {}

    def get(self, spec: WorldSpec) -> World:
        if spec.name not in self._built:
            self._built[spec.name] = build_world(self.pilot, spec, self.directory / spec.name)
        return self._built[spec.name]

    def many(self, specs: Iterable[WorldSpec]) -> list[World]:
        return [self.get(spec) for spec in specs]

    def close(self) -> None:
        for world in self._built.values():
            world.store.close()


RANKED_SEEDS = (1, 2, 3)
IDENTICAL_SEEDS = tuple(range(1, 11))


def main() -> None:
    """Build every world of tests/analytics/test_validity.py and print each property's numbers
    (`python -m tests.analytics.validity`; a few minutes)."""
    import tempfile
    import time

    from floorwatch.registry import load_registry

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        worlds = Worlds(load_registry(), Path(tmp))
        wet = worlds.many(ranked(s, "wet") for s in RANKED_SEEDS)
        dry = worlds.many(ranked(s, "dry") for s in RANKED_SEEDS)
        twins = worlds.many(identical(s) for s in IDENTICAL_SEEDS)
        for tally in raw_report(wet + dry).values():
            print(tally)
        print(no_events_report(wet + dry))
        print("best at wettest:", order_report(wet))
        print("best at driest:", order_report(dry))
        print(claims_report(wet + dry))
        print(coverage_report(wet + dry))
        print(range_report(wet + dry))
        claimed, gap = identical_report(twins)
        print(claimed)
        print(f"identical suppliers: median score gap {gap:.3f}")
        for world in (wet[0], dry[0]):
            for tally in removal_report(world):
                print(world.spec.name, tally)
        worlds.close()
    print(f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
