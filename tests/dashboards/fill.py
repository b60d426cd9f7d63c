"""Fill a real InfluxDB with what the dashboards read, per the measurement contracts in BRIEF.

Readings go through `open_store(url, sensor_tags=registry.sensor_tags).write_readings(...)`, as
the collector writes them; derived results (`trend`, `kpi`, `scorecard`, `sensor_health`,
`ingest`, `ingest_quarantine`) as Points, as analytics and the collector write them. Times are
relative to now, because the dashboards' queries are (now-24h, now-6M, ...).

Two situations the alerts must see are planted: the inner floor of WET_ENTRANCE has been wet for
the last WET_FOR_MIN minutes, and SILENT_SENSOR stopped reporting SILENT_FOR_MIN minutes ago.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboards import alerts
from floorwatch.readings import Point, Reading
from floorwatch.registry import Registry
from floorwatch.results import KpiRecord, kpi_point
from floorwatch.store import open_store

STOCKHOLM = ZoneInfo("Europe/Stockholm")
WET_ENTRANCE = "yst-ostra-main"
WET_FOR_MIN = 45
SILENT_SENSOR = "trb-vastervang-main-entry-dirt"
SILENT_FOR_MIN = 60
HOURS = 26  # readings for a bit more than the live dashboard's 24 h
COLLECTORS = ("floorwatch-collector-1", "floorwatch-collector-2")
REASONS = ("malformed_json", "unknown_sensor", "out_of_range")
KPIS = (
    "dry_time_share",
    "clean_time_share",
    "wet_recovery_p90",
    "slip_exposure",
    "dirt_capture",
    "data_availability",
)


@dataclass(frozen=True)
class Filled:
    now_ms: int
    periods: list[str]


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def month_start(day: date) -> datetime:
    """00:00 Europe/Stockholm on the 1st of the month: a KPI period's time."""
    return datetime(day.year, day.month, 1, tzinfo=STOCKHOLM)


def last_months(now: datetime, count: int) -> list[datetime]:
    starts = [month_start(now.astimezone(STOCKHOLM).date())]
    while len(starts) < count:
        before = starts[-1].date() - timedelta(days=1)
        starts.append(month_start(before))
    return sorted(starts)


def _reading_value(kind: str, zone: str, entrance: str, minutes_ago: float) -> float:
    wave = 0.5 + 0.5 * math.sin(minutes_ago / 90.0)
    if kind == "moisture":
        if entrance == WET_ENTRANCE and zone == "inner" and minutes_ago <= WET_FOR_MIN:
            return 35.0 + 10.0 * wave  # wet, above the threshold the whole time
        return {"outside": 60.0, "entry": 25.0}.get(zone, 4.0) * wave
    if kind == "dirt":
        return {"outside": 50.0, "entry": 30.0}.get(zone, 8.0) * (0.6 + 0.4 * wave)
    return float(round(20 * wave))  # footfall: passages per report


def fill(url: str, registry: Registry, now: datetime | None = None) -> Filled:
    """Planted readings (a wet floor, a silent sensor) and results; times relative to now."""
    now = now or datetime.now(UTC)
    store = open_store(url, sensor_tags=registry.sensor_tags)
    try:
        store.write_readings(planted_readings(registry, now))
        store.write_points(results(registry, now, quarantine=True))
    finally:
        store.close()
    return Filled(now_ms=ms(now), periods=[m.strftime("%Y-%m") for m in last_months(now, 3)])


def planted_readings(registry: Registry, now: datetime) -> list[Reading]:
    """Every sensor every report interval for HOURS hours, and hourly weather per station."""
    interval = timedelta(seconds=alerts.REPORT_INTERVAL_S)
    readings: list[Reading] = []
    steps = int(timedelta(hours=HOURS) / interval)
    for sensor_id, place in registry.sensors.items():
        kind = str(place.sensor.kind)
        zone = str(place.sensor.zone)
        for step in range(steps):
            at = now - step * interval - timedelta(seconds=30)
            minutes_ago = (now - at).total_seconds() / 60
            if sensor_id == SILENT_SENSOR and minutes_ago < SILENT_FOR_MIN:
                continue
            value = _reading_value(kind, zone, place.entrance.id, minutes_ago)
            readings.append(Reading(sensor_id, kind, ms(at), value))
    for school in registry.schools.values():
        station = f"smhi-{school.weather_station}"
        for hour in range(HOURS):
            at = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hour)
            readings.append(Reading(station, "precipitation", ms(at), 0.2 * (hour % 5)))
            readings.append(Reading(station, "air_temperature", ms(at), 1.0 - hour / 10))
    return readings


def results(
    registry: Registry, now: datetime, quarantine: bool = True, collectors: bool = True
) -> list[Point]:
    """What analytics writes and, with `collectors`, what the collectors write."""
    points = analytics_results(registry, now)
    if collectors:
        points += collector_counters(now, quarantine)
    return points


def analytics_results(registry: Registry, now: datetime) -> list[Point]:
    """trend, kpi, scorecard and sensor_health points per the BRIEF contracts."""
    points: list[Point] = []
    # --- weekly trends (Monday 00:00 local) for 20 weeks ----------------------------------
    today = now.astimezone(STOCKHOLM).date()
    monday = today - timedelta(days=today.weekday())
    for entrance_id, (_entrance, school) in registry.entrances.items():
        location = {
            "entrance": entrance_id,
            "school": school.id,
            "municipality": school.municipality,
        }
        for week in range(20):
            start = datetime.combine(
                monday - timedelta(weeks=week), datetime.min.time(), tzinfo=STOCKHOLM
            )
            for metric, value in (
                ("grit_load", 5000.0 + 100 * week),
                ("wet_minutes", 30.0 + week),
                ("cleaning_interventions", float(3 + week % 4)),
                ("slip_exposure", 12.0 + week % 7),
            ):
                points.append(
                    Point("trend", {**location, "metric": metric}, ms(start), {"value": value})
                )

    # --- monthly KPI results and scorecards per installation ------------------------------
    months = last_months(now, 3)
    periods = [m.strftime("%Y-%m") for m in months]
    for installation in registry.document.installations:
        _entrance, school = registry.entrances[installation.entrance]
        tags = {
            "contract": installation.contract,
            "supplier": installation.supplier,
            "installation": installation.id,
            "entrance": installation.entrance,
            "school": school.id,
            "municipality": school.municipality,
        }
        for index, (start, period) in enumerate(zip(months, periods, strict=True)):
            for number, kpi in enumerate(KPIS):
                raw = 0.8 + 0.02 * number + 0.01 * index
                status = ("pass", "fail", "insufficient")[(number + index) % 3]
                record = KpiRecord(
                    status=status,
                    raw=raw,
                    raw_low=raw - 0.05,
                    raw_high=raw + 0.05,
                    judged=raw,
                    judged_low=raw - 0.05,
                    judged_high=raw + 0.05,
                    judged_on="measured",
                    expected_untreated=raw - 0.1,
                    target=0.9,
                    level_target=0.9,
                    weight=0.2,
                    availability=0.97,
                )
                points.append(kpi_point({**tags, "period": period}, kpi, ms(start), record))
            points.append(
                Point(
                    "scorecard",
                    {**tags, "period": period},
                    ms(start),
                    {
                        "score": 0.7 + 0.05 * index,
                        "pass": float(2 + index),
                        "fail": 2.0,
                        "insufficient": float(2 - index),
                        "bonus_malus_sek": 300.0 * index - 200.0,
                        "payment_sek": 18_000.0 + 300.0 * index - 200.0,
                        "document": '{"note": "test scorecard"}',
                    },
                )
            )

    # --- sensor health per sensor for the last two months --------------------------------
    for sensor_id, place in registry.sensors.items():
        silent = sensor_id == SILENT_SENSOR
        for start, period in zip(months[-2:], periods[-2:], strict=True):
            points.append(
                Point(
                    "sensor_health",
                    {**place.tags(), "period": period},
                    ms(start),
                    {
                        "availability": 0.4 if silent else 0.99,
                        "suspect_minutes": 0.0,
                        "status": "silent" if silent else "ok",
                        "reasons": "no readings" if silent else "",
                    },
                )
            )

    return points


def collector_counters(now: datetime, quarantine: bool = True) -> list[Point]:
    """Two collectors' running totals every 10 s for the last hour: `ingest` and, with
    `quarantine`, `ingest_quarantine` per reason."""
    points: list[Point] = []
    for number, collector in enumerate(COLLECTORS):
        for tick in range(360):
            at = now - timedelta(seconds=10 * (360 - tick))
            received = float(tick * (100 + number))
            points.append(
                Point(
                    "ingest",
                    {"collector": collector},
                    ms(at),
                    {
                        "received": received,
                        "stored": received - tick,
                        "quarantined": float(tick),
                        "duplicates": float(tick // 10),
                        "spooled": 0.0,
                        "replayed": 0.0,
                        "acknowledged": received,
                        "lag_s": 0.5 + number,
                    },
                )
            )
            for reason_number, reason in enumerate(REASONS if quarantine else ()):
                points.append(
                    Point(
                        "ingest_quarantine",
                        {"collector": collector, "reason": reason},
                        ms(at),
                        {"count": float(tick // (reason_number + 1))},
                    )
                )
    return points
