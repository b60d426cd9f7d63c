"""Every dashboard panel's and alert rule's InfluxQL runs against a real influxd with data in it.

Grafana cannot run here, so the test does what Grafana's InfluxDB datasource does before it sends
a query: it fills in the template variables (multi-value/All as a regex, the way Grafana formats
them for `=~ /^$var$/`), `$timeFilter` (`time >= <from>ms and time <= <to>ms` for the dashboard's
or the panel's relative time range) and `$__interval`. Then it runs the query on the real InfluxDB
filled per the BRIEF measurement contracts (tests/dashboards/fill.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from dashboards import alerts
from dashboards.build import build_dashboards
from floorwatch.readings import MEASURED_KINDS
from floorwatch.registry import Registry
from floorwatch.store import open_store
from floorwatch.store.influx import InfluxStore
from tests.dashboards.fill import (
    SILENT_SENSOR,
    WET_ENTRANCE,
    WET_FOR_MIN,
    Filled,
    fill,
    month_start,
    ms,
)
from tests.services import InfluxDB

DASHBOARDS = build_dashboards("en")  # the queries are the same in every language (test_structure)
UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
MONTH_MS = 30 * UNITS_MS["d"]


@pytest.fixture(scope="module")
def filled(influxdb: InfluxDB, registry: Registry) -> Iterator[tuple[InfluxStore, Filled]]:
    url = influxdb.url(f"dash_{uuid.uuid4().hex[:12]}")
    facts = fill(url, registry)
    store = open_store(url)
    assert isinstance(store, InfluxStore)
    yield store, facts
    store.close()


def relative_ms(text: str) -> int:
    """'now-24h' / '24h' / 'now-6M' -> milliseconds back from now."""
    match = re.fullmatch(r"(?:now-)?(\d+)([smhdwMy])", text)
    assert match, text
    number, unit = int(match[1]), match[2]
    if unit == "M":
        return number * MONTH_MS
    if unit == "y":
        return number * 365 * UNITS_MS["d"]
    return number * UNITS_MS[unit]


def grafana_regex(values: list[str]) -> str:
    """How Grafana formats a multi-value variable inside `/^...$/`: escaped and OR-ed."""
    escaped = [re.sub(r"([\\^$.|?*+()\[\]{}/])", r"\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate(
    query: str, variables: dict[str, str], now_ms: int, range_ms: int, interval: str = ""
) -> str:
    time_filter = f"time >= {now_ms - range_ms}ms and time <= {now_ms}ms"
    # Grafana's $__interval: the range over ~1000 points, rounded; 1m or more here.
    interval = interval or f"{max(60, range_ms // 1000 // 1000)}s"
    text = query.replace("$timeFilter", time_filter).replace("$__interval", interval)
    for name in sorted(variables, key=len, reverse=True):
        text = text.replace(f"${name}", variables[name])
    assert not re.search(r"\$[A-Za-z_]", text), f"undefined variable in {text}"
    return text


def panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in model["panels"] if p["type"] != "row"]


def resolve_variables(store: InfluxStore, model: dict[str, Any], pick: str) -> dict[str, str]:
    """Run each variable's SHOW TAG VALUES with the earlier ones filled in, as Grafana does on
    load. pick='all' selects All (regex .*); pick='first' selects each variable's first value."""
    chosen: dict[str, str] = {}
    for variable in model["templating"]["list"]:
        query = interpolate(variable["query"], chosen, 0, 0)
        series = store.query(query)
        values = sorted(row[1] for one in series for row in one["values"])
        assert values, f"{model['uid']}: variable {variable['name']} has no values: {query}"
        chosen[variable["name"]] = (
            variable["allValue"] if pick == "all" else grafana_regex(values[:1])
        )
    return chosen


def run_panel(
    store: InfluxStore,
    model: dict[str, Any],
    panel: dict[str, Any],
    variables: dict[str, str],
    now_ms: int,
) -> list[list[dict[str, Any]]]:
    range_ms = relative_ms(panel.get("timeFrom") or model["time"]["from"])
    return [
        store.query(interpolate(t["query"], variables, now_ms, range_ms)) for t in panel["targets"]
    ]


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_query_returns_data_for_all(
    filled: tuple[InfluxStore, Filled], name: str
) -> None:
    store, facts = filled
    model = DASHBOARDS[name]
    variables = resolve_variables(store, model, "all")
    for panel in panels(model):
        for target, series in zip(
            panel["targets"], run_panel(store, model, panel, variables, facts.now_ms), strict=True
        ):
            rows = sum(len(one["values"]) for one in series)
            assert rows > 0, f"{name}: panel {panel['title']!r} {target['refId']} returned no data"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_chained_variables_narrow_the_choice(filled: tuple[InfluxStore, Filled], name: str) -> None:
    """With the first municipality, school, ... selected, later variables offer only what is
    inside it, and the panels run and show that entrance only."""
    store, facts = filled
    model = DASHBOARDS[name]
    all_schools = store.query(
        interpolate(
            _variable(model, "school")["query"], {"municipality": ".*", "supplier": ".*"}, 0, 0
        )
    )
    first = resolve_variables(store, model, "first")
    narrowed = store.query(interpolate(_variable(model, "school")["query"], first, 0, 0))
    assert 0 < len(narrowed[0]["values"]) < len(all_schools[0]["values"])
    entrance = first["entrance"].replace("\\", "")
    shown = 0
    for panel in panels(model):
        for series in run_panel(store, model, panel, first, facts.now_ms):
            for one in series:
                if "entrance" in one.get("tags", {}):
                    assert one["tags"]["entrance"] == entrance, panel["title"]
                    shown += 1
    assert shown > 0


def _variable(model: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in model["templating"]["list"] if v["name"] == name)


def test_wet_now_shows_the_wet_entrance_only(filled: tuple[InfluxStore, Filled]) -> None:
    store, facts = filled
    model = DASHBOARDS["entrance-live"]
    panel = next(p for p in panels(model) if p["title"] == "Inner floor wet now")
    variables = resolve_variables(store, model, "all")
    (series,) = run_panel(store, model, panel, variables, facts.now_ms)
    latest = {one["tags"]["entrance"]: one["values"][-1][1] for one in series}
    wet = {entrance for entrance, value in latest.items() if value > alerts.WET_THRESHOLD}
    assert wet == {WET_ENTRANCE}
    assert len(latest) == 15  # every entrance has an inner moisture sensor


def _alert_query(rule_uid: str) -> tuple[str, int, dict[str, Any]]:
    rule = next(r for r in alerts.rules() if r["uid"] == rule_uid)
    step = rule["data"][0]
    threshold = rule["data"][2]["model"]["conditions"][0]["evaluator"]
    return step["model"]["query"], step["relativeTimeRange"]["from"] * 1000, threshold


def _fires(value: float, evaluator: dict[str, Any]) -> bool:
    limit = evaluator["params"][0]
    return value > limit if evaluator["type"] == "gt" else value < limit


def test_wet_floor_alert_fires_for_the_floor_wet_for_more_than_n_minutes(
    filled: tuple[InfluxStore, Filled],
) -> None:
    store, facts = filled
    query, range_ms, evaluator = _alert_query("floorwatch-inner-floor-wet")
    series = store.query(interpolate(query, {}, facts.now_ms, range_ms))
    last = {one["tags"]["sensor_id"]: one["values"][-1][1] for one in series}
    assert len(last) == 15
    firing = {sensor for sensor, value in last.items() if _fires(value, evaluator)}
    assert firing == {f"{WET_ENTRANCE}-inner-moisture"}
    assert {one["tags"]["school"] for one in series} >= {"yst-ostra"}


def test_wet_floor_alert_does_not_fire_when_wet_for_less_than_n_minutes(
    filled: tuple[InfluxStore, Filled],
) -> None:
    """Over a longer window than the WET_FOR_MIN minutes the floor has been wet, the same query
    sees dry readings too: wet for less than the window does not fire."""
    store, facts = filled
    query, _range_ms, evaluator = _alert_query("floorwatch-inner-floor-wet")
    longer = (alerts.WET_ALERT_MINUTES + 60) * 60_000
    series = store.query(interpolate(query, {}, facts.now_ms, longer))
    assert not [one for one in series if _fires(one["values"][-1][1], evaluator)]


def test_silent_sensor_alert_fires_for_the_silent_sensor_only(
    filled: tuple[InfluxStore, Filled], registry: Registry
) -> None:
    store, facts = filled
    query, range_ms, evaluator = _alert_query("floorwatch-sensor-silent")
    series = store.query(interpolate(query, {}, facts.now_ms, range_ms))
    readings = {one["tags"]["sensor_id"]: one["values"][-1][1] for one in series}
    # weather stations are not sensors; the alert watches the sensors KPIs read (no climate ones)
    assert set(readings) == {
        s for s, p in registry.sensors.items() if p.sensor.kind in MEASURED_KINDS
    }
    firing = {sensor for sensor, value in readings.items() if _fires(value, evaluator)}
    assert firing == {SILENT_SENSOR}


def test_monthly_kpi_points_show_on_the_first_of_the_month_in_local_time(
    filled: tuple[InfluxStore, Filled], registry: Registry
) -> None:
    """One point per supplier and month, at 00:00 Europe/Stockholm on the 1st (the period)."""
    store, facts = filled
    model = DASHBOARDS["supplier-outcomes"]
    panel = next(p for p in panels(model) if p["title"] == "Dry time share")
    variables = resolve_variables(store, model, "all")
    (series,) = run_panel(store, model, panel, variables, facts.now_ms)
    starts = {ms(month_start(date.fromisoformat(f"{period}-01"))) for period in facts.periods}
    assert {one["tags"]["supplier"] for one in series} == set(registry.suppliers)
    for one in series:
        assert {row[0] for row in one["values"]} == starts
        raw, expected_untreated, target = one["values"][0][1:]
        assert expected_untreated < raw and target == 0.9  # better than without the solution


def test_wet_or_dry_timeline_shows_since_when_the_floor_is_wet(
    filled: tuple[InfluxStore, Filled],
) -> None:
    store, facts = filled
    model = DASHBOARDS["entrance-live"]
    panel = next(p for p in panels(model) if p["title"] == "Inner floor wet or dry")
    (series,) = run_panel(store, model, panel, resolve_variables(store, model, "all"), facts.now_ms)
    by_entrance = {one["tags"]["entrance"]: one["values"] for one in series}
    wet_since = [
        time for time, value in by_entrance[WET_ENTRANCE] if value and value > alerts.WET_THRESHOLD
    ]
    minutes = (facts.now_ms - min(wet_since)) / 60_000
    assert WET_FOR_MIN - 10 <= minutes <= WET_FOR_MIN + 10
    dry = [
        e
        for e, values in by_entrance.items()
        if all(v is None or v <= alerts.WET_THRESHOLD for _, v in values)
    ]
    assert len(dry) == len(by_entrance) - 1
