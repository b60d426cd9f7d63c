"""A store filled like the pilot: readings of real pilot sensors and derived Points written
exactly as the cross-component contracts say (kpi, scorecard, comparison, sensor_health, trend,
ingest, ingest_quarantine), plus quarantined input and a report file.

Two kinds of readings:
- history: every 5 minutes from 2026-09-29 to 2026-10-03 (UTC) at two entrances, across the
  1 October installation start (baseline before it), to test supplier time limits and paging;
- live: the last three hours up to now at the same entrances, for the current state: at
  WET_ENTRANCE the inner floor turned wet 40 minutes ago, at DRY_ENTRANCE it stays dry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from floorwatch.readings import Point, QuarantineRecord, Reading
from floorwatch.registry import Registry
from floorwatch.results import KpiRecord, ScorecardRecord, kpi_point, scorecard_point
from floorwatch.store import Store

LOCAL = ZoneInfo("Europe/Stockholm")
STEP_MS = 300_000
WET_ENTRANCE = "trb-vastervang-main"  # entre-ren from 2026-10-01
DRY_ENTRANCE = "yst-ostra-yard"  # torrgolv from 2026-10-01
OTHER_SCHOOL_ENTRANCE = "yst-ostra-main"  # entre-ren, same school as DRY_ENTRANCE
HISTORY_START = datetime(2026, 9, 29, tzinfo=UTC)
HISTORY_END = datetime(2026, 10, 3, tzinfo=UTC)
PERIOD = "2026-10"
CONTRACT = "skane-entrance-2026"
KPIS = (
    "dry_time_share",
    "clean_time_share",
    "wet_recovery_p90",
    "slip_exposure",
    "dirt_capture",
    "data_availability",
)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def local_midnight_ms(day: date) -> int:
    return ms(datetime.combine(day, time(0), tzinfo=LOCAL))


def history_value(kind: str, zone: str, step: int) -> float:
    """A deterministic value per kind: footfall 3 passages per report, moisture and dirt vary."""
    if kind == "footfall":
        return 3.0
    if kind == "moisture":
        return float(10 + step % 20) if zone != "outside" else 50.0
    return float(step % 40)


@dataclass(frozen=True)
class Filled:
    now_ms: int
    wet_from_ms: int  # first wet reading at WET_ENTRANCE (inner moisture)
    history_rows: dict[str, int]  # entrance -> readings written in the history span


def fill_readings(store: Store, registry: Registry, now: datetime) -> Filled:
    now_ms = ms(now) // STEP_MS * STEP_MS
    wet_from_ms = now_ms - 40 * 60_000
    readings: list[Reading] = []
    history_rows: dict[str, int] = {}
    for entrance_id in (WET_ENTRANCE, DRY_ENTRANCE):
        entrance, _ = registry.entrance(entrance_id)
        count = 0
        for sensor in entrance.sensors:
            kind, zone = str(sensor.kind), str(sensor.zone)
            for step, ts in enumerate(range(ms(HISTORY_START), ms(HISTORY_END), STEP_MS)):
                readings.append(Reading(sensor.id, kind, ts, history_value(kind, zone, step)))
                count += 1
            for ts in range(now_ms - 3 * 3_600_000, now_ms + 1, STEP_MS):
                value = history_value(kind, zone, 0)
                if kind == "moisture" and zone == "inner":
                    wet = entrance_id == WET_ENTRANCE and ts >= wet_from_ms
                    value = 35.0 if wet else 5.0
                readings.append(Reading(sensor.id, kind, ts, value))
        history_rows[entrance_id] = count
    store.write_readings(readings)
    return Filled(now_ms, wet_from_ms, history_rows)


def scorecard_document(registry: Registry, installation: str, supplier: str, score: float) -> str:
    return json.dumps(
        {
            "installation": installation,
            "supplier": supplier,
            "period": PERIOD,
            "registry_hash": registry.content_hash,
            "score": score,
            "kpis": {name: {"status": "pass"} for name in KPIS[:5]},
        }
    )


def fill_points(store: Store, registry: Registry, now: datetime) -> None:
    period_ms = local_midnight_ms(date(2026, 10, 1))
    points: list[Point] = []
    for rank, inst in enumerate(registry.document.installations):
        entrance, school = registry.entrance(inst.entrance)
        tags = {
            "contract": inst.contract,
            "supplier": inst.supplier,
            "installation": inst.id,
            "entrance": entrance.id,
            "school": school.id,
            "municipality": school.municipality,
            "period": PERIOD,
        }
        for kpi in KPIS:
            status = "insufficient" if kpi == "dirt_capture" and rank == 0 else "pass"
            record = KpiRecord(
                status=status,
                raw=0.9,
                raw_low=0.85,
                raw_high=0.95,
                judged=0.91,
                judged_low=0.86,
                judged_high=0.96,
                basis="improvement",
                judged_on="improvement",
                expected_untreated=0.7,
                improvement=0.91,
                improvement_low=0.86,
                improvement_high=0.96,
                target=0.9,
                weight=0.2,
                availability=0.97,
            )
            points.append(kpi_point(tags, kpi, period_ms, record))
        score = round(0.5 + rank / 30, 4)
        card = ScorecardRecord(
            document=scorecard_document(registry, inst.id, inst.supplier, score),
            score=score,
            bonus_malus_sek=100.0 * rank,
            payment_sek=18000.0 + 100.0 * rank,
            passed=4,
            failed=0,
            insufficient=1,
            not_judged=0,
        )
        points.append(scorecard_point(tags, period_ms, card))
    points.append(
        Point(
            "comparison",
            {"contract": CONTRACT, "period": PERIOD},
            period_ms,
            {
                "document": json.dumps(
                    {
                        "ranking": [
                            {"supplier": s.id, "effect": 0.9 - i / 10, "rank": i + 1}
                            for i, s in enumerate(registry.document.suppliers)
                        ],
                        "differences": [
                            {"a": "entre-ren", "b": "torrgolv", "outcome": "no difference shown"}
                        ],
                        "no_difference_shown": True,
                    }
                )
            },
        )
    )
    for entrance_id in (WET_ENTRANCE, DRY_ENTRANCE):
        entrance, school = registry.entrance(entrance_id)
        for period, period_start in (("2026-09", date(2026, 9, 1)), (PERIOD, date(2026, 10, 1))):
            for sensor in entrance.sensors:
                silent = sensor.id.endswith("outside-moisture")
                points.append(
                    Point(
                        "sensor_health",
                        {
                            "sensor_id": sensor.id,
                            "entrance": entrance.id,
                            "school": school.id,
                            "municipality": school.municipality,
                            "zone": str(sensor.zone),
                            "period": period,
                        },
                        local_midnight_ms(period_start),
                        {
                            "availability": 0.0 if silent else 0.99,
                            "suspect_minutes": 0.0,
                            "status": "silent" if silent else "ok",
                            "reasons": "no readings" if silent else "",
                        },
                    )
                )
        for week in range(2):
            monday = date(2026, 10, 5) + timedelta(days=7 * week)
            for metric in ("grit_load", "wet_minutes", "cleaning_interventions", "slip_exposure"):
                points.append(
                    Point(
                        "trend",
                        {
                            "entrance": entrance.id,
                            "school": school.id,
                            "municipality": school.municipality,
                            "metric": metric,
                        },
                        local_midnight_ms(monday),
                        {"value": float(10 * (week + 1))},
                    )
                )
    counted_ms = ms(now) - 5_000
    points.append(
        Point(
            "ingest",
            {"collector": "floorwatch-collector"},
            counted_ms,
            {
                "received": 1200.0,
                "stored": 1190.0,
                "quarantined": 7.0,
                "duplicates": 3.0,
                "spooled": 0.0,
                "replayed": 0.0,
                "acknowledged": 1200.0,
                "lag_s": 1.5,
            },
        )
    )
    for reason, count in (("out_of_range", 4.0), ("malformed_json", 3.0)):
        points.append(
            Point(
                "ingest_quarantine",
                {"collector": "floorwatch-collector", "reason": reason},
                counted_ms,
                {"count": count},
            )
        )
    store.write_points(points)


def fill_quarantine(store: Store, now: datetime) -> None:
    received = ms(now) - 60_000
    store.write_quarantine(
        [
            QuarantineRecord(received, "floorwatch/up/x", "unknown_sensor", "no sensor 'x'", "{}"),
            QuarantineRecord(
                received + 1, "floorwatch/up/y", "out_of_range", "moisture 140 > 100", '{"v":140}'
            ),
            QuarantineRecord(received + 2, "floorwatch/up/z", "malformed_json", "line 1", "{"),
        ]
    )


def write_report(reports_dir: Path) -> Path:
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / f"report-{PERIOD}.html"
    path.write_text(
        "<!doctype html><html><body><h1>Floorwatch report 2026-10</h1>"
        "<p>entre-ren, torrgolv, skrapzon</p></body></html>",
        encoding="utf-8",
    )
    return path


def fill(store: Store, registry: Registry, now: datetime, reports_dir: Path) -> Filled:
    filled = fill_readings(store, registry, now)
    fill_points(store, registry, now)
    fill_quarantine(store, now)
    write_report(reports_dir)
    return filled
