"""Current state of an entrance: latest moisture, dirt and footfall per zone, and whether the floor
is wet now and since when. Computed from the latest readings and a short lookback, never from a
long history, and cached per entrance by the caller for a few seconds.

Wet is the KPIs' wet state (`analytics.kpis.wet_state`), so the live view and the scorecard agree
on when an episode began: the judged zone's (inner, as for the KPIs) moisture rises above the
contract's wet threshold (moisture %), and the floor is dry again only at or below the threshold
minus the hysteresis (2 points); readings in between keep the state they follow.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from analytics.kpis import wet_state
from api.schemas import EntranceState, LatestValue, ZoneState
from floorwatch.localtime import local_date
from floorwatch.readings import Kind
from floorwatch.registry import Registry
from floorwatch.registry.schema import Entrance, School, Zone
from floorwatch.store import Store

LOOKBACK_MS = 6 * 3_600_000  # wet episodes longer than this report "since before"
HOUR_MS = 3_600_000
DEFAULT_WET_THRESHOLD = 20.0
STALE_INTERVALS = 3


def wet_threshold_for(registry: Registry, entrance_id: str, school: School, now: datetime) -> float:
    """The wet threshold (moisture %) of the contract at the entrance today (the local day), else
    of a contract covering its municipality, else the default 20 %."""
    installation = registry.installation_on(entrance_id, local_date(now))
    if installation is not None and installation.contract in registry.contracts:
        return registry.contracts[installation.contract].wet_threshold
    for contract in registry.contracts.values():
        if school.municipality in contract.municipalities:
            return contract.wet_threshold
    return DEFAULT_WET_THRESHOLD


def _ms(moment: pd.Timestamp) -> int:
    return int(moment.value // 1_000_000)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def wet_since(moisture: pd.DataFrame, threshold: float) -> tuple[bool | None, int | None, bool]:
    """From moisture readings of the judged zone (READING_COLUMNS, sorted by time): (wet now,
    start of the current wet episode in ms, whether it started before the first reading given).
    Several sensors in the zone: the wettest reading at each time counts."""
    if moisture.empty:
        return None, None, False
    wettest = moisture.groupby("time", sort=True)["value"].max()
    wet = wet_state(wettest.to_numpy(dtype=float), threshold)
    if not wet[-1]:
        return False, None, False
    dry = np.flatnonzero(~wet)
    first = int(dry[-1]) + 1 if len(dry) else 0
    return True, _ms(wettest.index[first]), not len(dry)


def entrance_state(
    store: Store,
    registry: Registry,
    entrance: Entrance,
    school: School,
    now: datetime,
) -> EntranceState:
    """Read the latest values and the lookback from the store and build the state."""
    sensors = {s.id: s for s in entrance.sensors}
    measured = [s.id for s in entrance.sensors]
    latest = store.latest_readings(measured) if measured else pd.DataFrame()
    now_ms = int(now.timestamp() * 1000)
    threshold = wet_threshold_for(registry, entrance.id, school, now)
    installation = registry.installation_on(entrance.id, local_date(now))

    newest: dict[tuple[str, str], LatestValue] = {}
    as_of_ms: int | None = None
    if not latest.empty:
        for ts, sensor_id, kind, value in latest.itertuples(index=False):
            sensor = sensors.get(sensor_id)
            if sensor is None or kind not in (Kind.MOISTURE, Kind.DIRT, Kind.FOOTFALL):
                continue
            ms = _ms(ts)
            stale = now_ms - ms > STALE_INTERVALS * sensor.report_interval * 1000
            slot = (str(sensor.zone), str(kind))
            if slot not in newest or _ms(pd.Timestamp(newest[slot].time)) < ms:
                newest[slot] = LatestValue(
                    sensor_id=sensor_id, time=_time(ms), value=float(value), stale=stale
                )
            as_of_ms = ms if as_of_ms is None else max(as_of_ms, ms)

    moisture_zones = {str(s.zone) for s in entrance.sensors if s.kind == Kind.MOISTURE}
    judged = next(
        (str(z) for z in (Zone.INNER, Zone.ENTRY, Zone.OUTSIDE) if str(z) in moisture_zones), None
    )
    wet: bool | None = None
    since_ms: int | None = None
    before = False
    passages: dict[str, float] = {}
    if as_of_ms is not None:
        judged_ids = [
            s.id for s in entrance.sensors if s.kind == Kind.MOISTURE and s.zone == judged
        ]
        footfall_ids = [s.id for s in entrance.sensors if s.kind == Kind.FOOTFALL]
        lookback = store.read_readings(
            _time(as_of_ms - LOOKBACK_MS),
            _time(as_of_ms + 1),
            sensor_ids=judged_ids + footfall_ids,
            kinds=[Kind.MOISTURE.value, Kind.FOOTFALL.value],
        )
        if not lookback.empty:
            moisture = lookback[
                (lookback["kind"] == Kind.MOISTURE.value) & lookback["sensor_id"].isin(judged_ids)
            ]
            wet, since_ms, before = wet_since(moisture, threshold)
            counts = lookback[lookback["kind"] == Kind.FOOTFALL.value]
            for sensor_id, rows in counts.groupby("sensor_id"):
                zone = str(sensors[str(sensor_id)].zone)
                last = _ms(rows["time"].iloc[-1])
                recent = rows[rows["time"] > _time(last - HOUR_MS)]
                passages[zone] = passages.get(zone, 0.0) + float(recent["value"].sum())

    zones = []
    for zone in (Zone.OUTSIDE, Zone.ENTRY, Zone.INNER):
        name = str(zone)
        if not any(str(s.zone) == name for s in entrance.sensors):
            continue
        zones.append(
            ZoneState(
                zone=name,
                moisture=newest.get((name, Kind.MOISTURE.value)),
                dirt=newest.get((name, Kind.DIRT.value)),
                footfall=newest.get((name, Kind.FOOTFALL.value)),
                passages_last_hour=passages.get(name),
            )
        )
    return EntranceState(
        entrance=entrance.id,
        school=school.id,
        wet_threshold=threshold,
        judged_zone=judged,
        wet=wet,
        wet_since=_time(since_ms) if since_ms is not None else None,
        wet_since_before=before,
        as_of=_time(as_of_ms) if as_of_ms is not None else None,
        supplier=installation.supplier if installation else None,
        zones=zones,
    )
