"""The four Floorwatch dashboards and the Grafana provisioning files, generated from this code.

One source of truth: `floorwatch dashboards build` writes `dashboards/json/*.json` and
`dashboards/provisioning/**.yaml` from here, and a test checks the committed files are what this
produces. Queries are raw InfluxQL on the measurements of the shared contract (BRIEF):
`reading`, `trend`, `kpi`, `scorecard`, `ingest`, `ingest_quarantine`, `sensor_health`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from dashboards import alerts
from dashboards.model import (
    BAD,
    DATASOURCE_UID,
    INFO,
    JSON,
    OK,
    WARN,
    Panel,
    dashboard,
    query_variable,
    range_mapping,
    target,
    thresholds,
)
from floorwatch.i18n import N_, format_percent, language, languages
from floorwatch.i18n import format_number as number  # in descriptions: "1 000" in Swedish
from floorwatch.i18n import gettext as _
from floorwatch.localtime import LOCAL_TZ_NAME
from floorwatch.registry.schema import BonusMalus, Kpi

HERE = Path(__file__).resolve().parent
JSON_DIR = HERE / "json"
PROVISIONING_DIR = HERE / "provisioning"

# Where docker-compose mounts dashboards/json inside the Grafana container.
CONTAINER_DASHBOARDS = "/var/lib/grafana/dashboards/floorwatch"

LOCATION = (
    '"municipality" =~ /^$municipality$/ AND "school" =~ /^$school$/ '
    'AND "entrance" =~ /^$entrance$/'
)
MEASURED = '"kind" =~ /^(moisture|dirt|footfall)$/'
BONUS_FROM = float(BonusMalus.model_fields["bonus_from"].default)  # the pilot's, as the schema's
MALUS_BELOW = float(BonusMalus.model_fields["malus_below"].default)


def percent(moisture: float) -> str:
    """A moisture percentage (0..100) in a description ("20 %")."""
    return format_percent(moisture / 100, 0)


# --- names from the queries, shown in the dashboard's language ---------------------------------
# Field, column and tag-value names come from the InfluxQL, identical in every language. Panels
# show them translated through Grafana transformations (organize, renameByRegex), which run
# before the field overrides: the overrides match the translated names.
FIELD_LABELS = {
    "raw": N_("raw"),
    "expected_untreated": N_("expected untreated"),
    "judged_on": N_("judged on"),
    "judged": N_("judged"),
    "judged_low": N_("judged, low"),
    "judged_high": N_("judged, high"),
    "target": N_("target"),
    "availability": N_("availability"),
    "status": N_("status"),
    "payment": N_("payment"),
    "bonus_malus": N_("bonus/malus"),
    "pass": N_("pass"),
    "fail": N_("fail"),
    "insufficient": N_("insufficient"),
    "received": N_("received"),
    "stored": N_("stored"),
    "quarantined": N_("quarantined"),
    "duplicates": N_("duplicates"),
    "spooled": N_("spooled"),
    "replayed": N_("replayed"),
    "acknowledged": N_("acknowledged"),
    "readings": N_("readings"),
    "total": N_("total"),
    "suspect_minutes": N_("suspect minutes"),
    "reasons": N_("reasons"),
    "municipality": N_("municipality"),
    "supplier": N_("supplier"),
    "school": N_("school"),
    "entrance": N_("entrance"),
    "zone": N_("zone"),
    "sensor_id": N_("sensor"),
    "metric": N_("measure"),
    "kpi": N_("KPI"),
    "period": N_("period"),
}
# Tag and field values shown in tables: statuses, zones, trend metrics.
VALUE_LABELS = {
    "ok": N_("ok"),
    "suspect": N_("suspect"),
    "silent": N_("silent"),
    "outside": N_("outside"),
    "entry": N_("entry"),
    "inner": N_("inner"),
    "grit_load": N_("grit load"),
    "wet_minutes": N_("wet minutes"),
    "cleaning_interventions": N_("cleaning interventions"),
    "not_judged": N_("not judged"),
    # what a KPI was judged on (the kpi measurement's judged_on field)
    "improvement": N_("improvement"),
    "measured": N_("measured level"),
    "measured_with_relief": N_("measured level with weather relief"),
    "no_events": N_("no wet episodes"),
}
JUDGED_ON_VALUES = ("improvement", "measured", "measured_with_relief", "no_events")


def label(name: str) -> str:
    """A field, column or value name in the dashboard's language."""
    return _(FIELD_LABELS.get(name) or VALUE_LABELS[name])


def renamed_series(*fields: str) -> list[JSON]:
    """Series named by an alias ending in $col ("entre-ren raw") get the field translated."""
    return [
        {
            "id": "renameByRegex",
            "options": {"regex": f"^(.*){f}$", "renamePattern": f"$1{label(f)}"},
        }
        for f in fields
        if label(f) != f
    ]


def renamed_columns(*fields: str) -> list[JSON]:
    """A table's columns in the dashboard's language."""
    names = {f: label(f) for f in fields if label(f) != f}
    return [{"id": "organize", "options": {"renameByName": names}}] if names else []


def value_mapping(colours: dict[str, str]) -> JSON:
    """Values shown translated, each in its colour (an empty colour: text only)."""
    return {
        "type": "value",
        "options": {
            value: {"text": label(value), "index": index, **({"color": c} if c else {})}
            for index, (value, c) in enumerate(colours.items())
        },
    }


# --- template variables ---------------------------------------------------------------------------
def location_variables(measurement: str, supplier: bool = False) -> list[JSON]:
    """municipality -> [supplier ->] school -> entrance, each filtered by the ones before it."""
    source = f'SHOW TAG VALUES FROM "{measurement}" WITH KEY'
    chain = '"municipality" =~ /^$municipality$/'
    variables = [
        query_variable("municipality", _("Municipality"), f'{source} = "municipality"'),
    ]
    if supplier:
        variables.append(
            query_variable("supplier", _("Supplier"), f'{source} = "supplier" WHERE {chain}')
        )
        chain += ' AND "supplier" =~ /^$supplier$/'
    variables.append(query_variable("school", _("School"), f'{source} = "school" WHERE {chain}'))
    chain += ' AND "school" =~ /^$school$/'
    variables.append(
        query_variable("entrance", _("Entrance"), f'{source} = "entrance" WHERE {chain}')
    )
    return variables


def line(
    fill: int = 10, bars: bool = False, stack: bool = False, threshold_line: bool = False
) -> JSON:
    """fieldConfig.defaults.custom for a time series panel."""
    custom: JSON = {
        "drawStyle": "bars" if bars else "line",
        "lineWidth": 1 if bars else 2,
        "fillOpacity": 80 if bars else fill,
        "spanNulls": False,
        "showPoints": "never" if not bars else "auto",
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        "thresholdsStyle": {"mode": "dashed" if threshold_line else "off"},
    }
    return custom


def stat_options(text_mode: str = "value_and_name") -> JSON:
    return {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "background",
        "graphMode": "none",
        "textMode": text_mode,
        "justifyMode": "auto",
        "orientation": "auto",
    }


def legend(*calcs: str) -> JSON:
    return {
        "legend": {
            "showLegend": True,
            "displayMode": "table",
            "placement": "right",
            "calcs": list(calcs),
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }


# --- Entrance live -----------------------------------------------------------------------------
def entrance_live() -> JSON:
    wet = alerts.WET_THRESHOLD
    dirty = alerts.DIRT_THRESHOLD
    moisture_colours = thresholds((None, OK), (wet, WARN), (2 * wet, BAD))
    dirt_colours = thresholds((None, OK), (dirty, WARN), (2 * dirty, BAD))

    def latest(kind: str, extra: str = "") -> str:
        return (
            f'SELECT last("value") FROM "reading" WHERE "kind" = \'{kind}\'{extra} '
            f'AND {LOCATION} AND $timeFilter GROUP BY "entrance", "zone"'
        )

    def over_time(kind: str, aggregate: str = "mean", interval: str = "$__interval") -> str:
        return (
            f'SELECT {aggregate}("value") FROM "reading" WHERE "kind" = \'{kind}\' '
            f"AND {LOCATION} AND $timeFilter "
            f'GROUP BY time({interval}), "entrance", "zone" fill(none)'
        )

    now = [
        Panel(
            _("Inner floor wet now"),
            "stat",
            [
                target(
                    'SELECT last("value") FROM "reading" WHERE "kind" = \'moisture\' '
                    f'AND "zone" = \'inner\' AND {LOCATION} AND $timeFilter GROUP BY "entrance"',
                    alias="$tag_entrance",
                )
            ],
            description=_(
                "Latest inner-zone moisture per entrance (last hour): WET above {wet} "
                "(the contract's wet threshold), where pupils walk after the mats."
            ).format(wet=percent(wet)),
            unit="percent",
            thresholds=thresholds((None, OK), (wet, BAD)),
            mappings=[
                range_mapping(0, wet, _("Dry"), OK),
                range_mapping(wet, 100, _("WET"), BAD),
            ],
            width=24,
            height=5,
            time_from="1h",
            options=stat_options(),
        ),
        Panel(
            _("Moisture now"),
            "stat",
            [target(latest("moisture"), alias="$tag_entrance $tag_zone")],
            description=_("Latest surface wetness per entrance and zone (outside, entry, inner)."),
            unit="percent",
            thresholds=moisture_colours,
            decimals=0,
            minimum=0,
            maximum=100,
            width=9,
            time_from="1h",
            options=stat_options(),
        ),
        Panel(
            _("Dirt now"),
            "stat",
            [target(latest("dirt"), alias="$tag_entrance $tag_zone")],
            description=_(
                "Latest soiling index (0 clean to 100) per zone; orange from {dirty}."
            ).format(dirty=number(dirty)),
            unit="none",
            thresholds=dirt_colours,
            decimals=0,
            minimum=0,
            maximum=100,
            width=9,
            time_from="1h",
            options=stat_options(),
        ),
        Panel(
            _("Passages in the last hour"),
            "stat",
            [
                target(
                    'SELECT sum("value") FROM "reading" WHERE "kind" = \'footfall\' '
                    f'AND {LOCATION} AND $timeFilter GROUP BY "entrance"',
                    alias="$tag_entrance",
                )
            ],
            description=_("People passing each entrance in the last hour (footfall counters)."),
            unit="none",
            thresholds=thresholds((None, INFO)),
            decimals=0,
            width=6,
            time_from="1h",
            options={**stat_options(), "colorMode": "value"},
        ),
    ]
    day = [
        Panel(
            _("Inner floor wet or dry"),
            "state-timeline",
            [
                target(
                    'SELECT max("value") FROM "reading" WHERE "kind" = \'moisture\' '
                    f"AND \"zone\" = 'inner' AND {LOCATION} AND $timeFilter "
                    'GROUP BY time($__interval), "entrance" fill(previous)',
                    alias="$tag_entrance",
                )
            ],
            description=_(
                "When and for how long each entrance's inner floor was wet: since when it is "
                "wet now, and whether the morning arrivals walked on a wet floor."
            ),
            unit="percent",
            thresholds=thresholds((None, OK), (wet, BAD)),
            mappings=[
                range_mapping(0, wet, _("Dry"), OK),
                range_mapping(wet, 100, _("WET"), BAD),
            ],
            width=24,
            height=7,
            options={
                "showValue": "never",
                "mergeValues": True,
                "alignValue": "left",
                "rowHeight": 0.8,
                "legend": {"showLegend": False, "displayMode": "list", "placement": "bottom"},
                "tooltip": {"mode": "single", "sort": "none"},
            },
        ),
        Panel(
            _("Moisture per zone"),
            "timeseries",
            [target(over_time("moisture"), alias="$tag_entrance $tag_zone")],
            description=_("Surface wetness; the dashed line is the wet threshold ({wet}).").format(
                wet=percent(wet)
            ),
            unit="percent",
            thresholds=moisture_colours,
            minimum=0,
            maximum=100,
            custom=line(threshold_line=True),
            options=legend("max", "last"),
        ),
        Panel(
            _("Dirt per zone"),
            "timeseries",
            [target(over_time("dirt"), alias="$tag_entrance $tag_zone")],
            description=_("Soiling index; the dashed line is the dirt threshold ({dirty}).").format(
                dirty=number(dirty)
            ),
            unit="none",
            thresholds=dirt_colours,
            minimum=0,
            maximum=100,
            custom=line(threshold_line=True),
            options=legend("max", "last"),
        ),
        Panel(
            _("Passages per 15 minutes"),
            "timeseries",
            [
                target(
                    'SELECT sum("value") FROM "reading" WHERE "kind" = \'footfall\' '
                    f"AND {LOCATION} AND $timeFilter "
                    'GROUP BY time(15m), "entrance" fill(none)',
                    alias="$tag_entrance",
                )
            ],
            description=_("Footfall: the morning arrival peak is when wet floors matter most."),
            unit="none",
            decimals=0,
            custom=line(bars=True, stack=True),
            options=legend("sum"),
        ),
        Panel(
            _("Wet time in the inner zone"),
            "bargauge",
            [
                target(
                    f'SELECT count("value") * {alerts.REPORT_INTERVAL_S / 60:g} FROM "reading" '
                    "WHERE \"kind\" = 'moisture' AND \"zone\" = 'inner' "
                    f'AND "value" > {wet:g} AND {LOCATION} AND $timeFilter GROUP BY "entrance"',
                    alias="$tag_entrance",
                )
            ],
            description=_(
                "Minutes with inner-zone moisture above the wet threshold in the time range "
                "(wet readings x the {minutes}-minute report interval)."
            ).format(minutes=number(alerts.REPORT_INTERVAL_S // 60)),
            unit="m",
            thresholds=thresholds((None, OK), (alerts.WET_ALERT_MINUTES, WARN), (120, BAD)),
            decimals=0,
            options={
                "reduceOptions": {"calcs": ["sum"], "fields": "", "values": False},
                "orientation": "horizontal",
                "displayMode": "gradient",
                "showUnfilled": True,
            },
        ),
        Panel(
            _("Precipitation (SMHI)"),
            "timeseries",
            [
                target(
                    'SELECT mean("value") FROM "reading" WHERE "kind" = \'precipitation\' '
                    'AND $timeFilter GROUP BY time(1h), "sensor_id" fill(none)',
                    alias="$tag_sensor_id",
                )
            ],
            description=_("Hourly precipitation at the schools' SMHI weather stations."),
            unit="suffix: mm/h",
            custom=line(bars=True),
            width=12,
            height=6,
        ),
        Panel(
            _("Air temperature (SMHI)"),
            "timeseries",
            [
                target(
                    'SELECT mean("value") FROM "reading" WHERE "kind" = \'air_temperature\' '
                    'AND $timeFilter GROUP BY time(1h), "sensor_id" fill(none)',
                    alias="$tag_sensor_id",
                )
            ],
            description=_("Near 0 °C snow melts into water tracked in."),
            unit="celsius",
            thresholds=thresholds((None, INFO), (0, OK)),
            custom=line(threshold_line=True),
            width=12,
            height=6,
        ),
    ]
    return dashboard(
        uid="floorwatch-entrance-live",
        title=_("Floorwatch: entrance live"),
        description=_(
            "Is the floor wet or dirty now, per entrance and zone, and over the last 24 h."
        ),
        tags=[_("live"), _("facility")],
        variables=location_variables("reading"),
        sections=[(_("Now"), now), (_("Last 24 hours"), day)],
        time_from="now-24h",
        refresh="1m",
    )


# --- Wear and work environment ---------------------------------------------------------------
def trend_query(metric: str, select: str = '"value"') -> str:
    return (
        f'SELECT {select} FROM "trend" WHERE "metric" = \'{metric}\' AND {LOCATION} '
        'AND $timeFilter GROUP BY "entrance"'
    )


def wear_and_work_environment() -> JSON:
    weekly = _("Weekly values (Monday to Sunday) written by analytics.")
    wear = [
        Panel(
            _("Grit load per week"),
            "timeseries",
            [target(trend_query("grit_load"), alias="$tag_entrance")],
            description=_(
                "Passages x entry-zone soiling index per week: the abrasive load on the first "
                "metres of floor."
            )
            + " "
            + weekly,
            unit="short",
            custom=line(bars=True),
            options=legend("mean", "max"),
        ),
        Panel(
            _("Cumulative wear proxy"),
            "timeseries",
            [target(trend_query("grit_load", 'cumulative_sum("value")'), alias="$tag_entrance")],
            description=_(
                "Grit load summed over the time range: the floor finish wears in proportion. "
                "Compare entrances to plan refinishing."
            ),
            unit="short",
            custom=line(fill=20),
            options=legend("last"),
        ),
    ]
    work = [
        Panel(
            _("Wet minutes per week (school hours)"),
            "timeseries",
            [target(trend_query("wet_minutes"), alias="$tag_entrance")],
            description=_("Occupied minutes with the inner floor wet.") + " " + weekly,
            unit="m",
            thresholds=thresholds((None, OK), (60, WARN), (300, BAD)),
            custom=line(bars=True),
            options=legend("mean", "max"),
            width=8,
        ),
        Panel(
            _("Cleaning interventions per week"),
            "timeseries",
            [target(trend_query("cleaning_interventions"), alias="$tag_entrance")],
            description=_(
                "Cleanings detected from the data (sudden drops of the soiling index): the "
                "cleaning staff's workload at the entrance."
            )
            + " "
            + weekly,
            unit="none",
            decimals=0,
            custom=line(bars=True),
            options=legend("mean", "max"),
            width=8,
        ),
        Panel(
            _("Slip exposure per week"),
            "timeseries",
            [target(trend_query("slip_exposure"), alias="$tag_entrance")],
            description=_(
                "Passages during wet minutes per {thousand} passages. Falls on slippery floors "
                "cause nearly half of cleaners' workplace injuries."
            ).format(thousand=number(1000)),
            unit="suffix: ‰",
            thresholds=thresholds((None, OK), (25, WARN), (50, BAD)),
            custom=line(threshold_line=True),
            options=legend("mean", "max"),
            width=8,
        ),
        Panel(
            _("Totals in the time range"),
            "table",
            [
                target(
                    'SELECT sum("value") AS "total" FROM "trend" WHERE '
                    '"metric" =~ /^(grit_load|wet_minutes|cleaning_interventions)$/ '
                    f'AND {LOCATION} AND $timeFilter GROUP BY "school", "entrance", "metric"',
                    result_format="table",
                )
            ],
            description=_("Season totals per entrance, to compare schools."),
            unit="short",
            decimals=0,
            width=24,
            overrides=[
                {
                    "matcher": {"id": "byName", "options": label("metric")},
                    "properties": [
                        {
                            "id": "mappings",
                            "value": [
                                value_mapping(
                                    dict.fromkeys(
                                        ("grit_load", "wet_minutes", "cleaning_interventions"), ""
                                    )
                                )
                            ],
                        }
                    ],
                }
            ],
            transformations=renamed_columns("school", "entrance", "metric", "total"),
            options={
                "showHeader": True,
                "sortBy": [{"displayName": label("total"), "desc": True}],
            },
        ),
    ]
    return dashboard(
        uid="floorwatch-wear",
        title=_("Floorwatch: wear and work environment"),
        description=_(
            "Floor wear and the cleaning staff's work environment per entrance and season."
        ),
        tags=[_("trends"), _("facility")],
        variables=location_variables("trend"),
        sections=[(_("Floor wear"), wear), (_("Work environment"), work)],
        time_from="now-6M",
        refresh="1h",
    )


# --- Supplier outcomes -------------------------------------------------------------------------
SUPPLIER_LOCATION = LOCATION + ' AND "supplier" =~ /^$supplier$/'
# KPI periods start at 00:00 Europe/Stockholm on the 1st: one-day buckets in local time keep each
# month's results in one bucket, shown on the 1st (UTC buckets would show the 30th or 31st).
LOCAL_DAYS = f"tz('{LOCAL_TZ_NAME}')"

# KPI name (analytics' `kpi` tag) -> (title, unit)
KPI_DISPLAY: dict[str, tuple[str, str]] = {
    Kpi.DRY_TIME_SHARE: (N_("Dry time share"), "percentunit"),
    Kpi.CLEAN_TIME_SHARE: (N_("Clean time share"), "percentunit"),
    Kpi.WET_RECOVERY_P90: (N_("Wet recovery, 90th percentile"), "m"),
    Kpi.SLIP_EXPOSURE: (N_("Slip exposure (per 1,000 passages)"), "suffix: ‰"),
    Kpi.DIRT_CAPTURE: (N_("Dirt capture"), "percentunit"),
    "data_availability": (N_("Data availability"), "percentunit"),
}


def kpi_panel(kpi: str) -> Panel:
    title, unit = _(KPI_DISPLAY[kpi][0]), KPI_DISPLAY[kpi][1]
    # Monthly points (period start); one day buckets keep each month apart and average over the
    # supplier's entrances in it.
    query = (
        'SELECT mean("raw") AS "raw", mean("expected_untreated") AS "expected_untreated", '
        'mean("level_target") AS "target" '
        f'FROM "kpi" WHERE "kpi" = \'{kpi}\' AND {SUPPLIER_LOCATION} AND $timeFilter '
        f'GROUP BY time(1d), "supplier" fill(none) {LOCAL_DAYS}'
    )
    return Panel(
        title,
        "timeseries",
        [target(query, alias="$tag_supplier $col")],
        description=_(
            "{kpi} per supplier and month: measured, expected without the solution (each "
            "entrance's own baseline for the same weather and footfall), and the contract's "
            "level target (dashed)."
        ).format(kpi=title),
        unit=unit,
        custom={**line(), "showPoints": "always", "pointSize": 7},
        overrides=[
            {
                "matcher": {"id": "byRegexp", "options": f".* {label('target')}"},
                "properties": [
                    {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                    {"id": "color", "value": {"mode": "fixed", "fixedColor": "text"}},
                    {"id": "custom.showPoints", "value": "never"},
                ],
            },
            {
                "matcher": {"id": "byRegexp", "options": f".* {label('raw')}"},
                "properties": [{"id": "custom.lineStyle", "value": {"fill": "dot"}}],
            },
        ],
        transformations=renamed_series("raw", "expected_untreated", "target"),
        options=legend("last"),
        width=8,
    )


def supplier_outcomes() -> JSON:
    def monthly_sum(field: str, name: str) -> str:
        return (
            f'SELECT sum("{field}") AS "{name}" FROM "scorecard" WHERE {SUPPLIER_LOCATION} '
            f'AND $timeFilter GROUP BY time(1d), "supplier" fill(none) {LOCAL_DAYS}'
        )

    scores = [
        Panel(
            _("Score per supplier and month"),
            "timeseries",
            [
                target(
                    'SELECT mean("score") FROM "scorecard" WHERE '
                    f"{SUPPLIER_LOCATION} AND $timeFilter "
                    f'GROUP BY time(1d), "supplier" fill(none) {LOCAL_DAYS}',
                    alias="$tag_supplier",
                )
            ],
            description=_(
                "Weighted score (share of KPI weight that passes), mean over the supplier's "
                "installations. Bonus above {bonus}, malus below {malus} in the pilot contract."
            ).format(bonus=number(BONUS_FROM, 1), malus=number(MALUS_BELOW, 1)),
            unit="percentunit",
            thresholds=thresholds((None, BAD), (MALUS_BELOW, WARN), (BONUS_FROM, OK)),
            minimum=0,
            maximum=1,
            custom={**line(threshold_line=True), "showPoints": "always", "pointSize": 7},
            options=legend("last"),
            width=9,
        ),
        Panel(
            _("Payment and bonus/malus per month"),
            "timeseries",
            [
                target(monthly_sum("payment_sek", "payment"), alias="$tag_supplier $col"),
                target(
                    monthly_sum("bonus_malus_sek", "bonus_malus"),
                    ref_id="B",
                    alias="$tag_supplier $col",
                ),
            ],
            description=_("What each supplier is paid per month, all its installations together."),
            unit="currencySEK",
            custom=line(bars=True),
            options=legend("sum"),
            transformations=renamed_series("payment", "bonus_malus"),
            width=9,
        ),
        Panel(
            _("KPI results by status"),
            "stat",
            [
                target(
                    'SELECT sum("pass") AS "pass", sum("fail") AS "fail", '
                    'sum("insufficient") AS "insufficient" FROM "scorecard" '
                    f"WHERE {SUPPLIER_LOCATION} AND $timeFilter",
                    alias="$col",
                )
            ],
            description=_(
                "KPI results (entrance x KPI x month) that pass, fail, or have insufficient data "
                "(neither paid nor penalised; technicians are told), from the scorecards."
            ),
            unit="none",
            thresholds=thresholds((None, INFO)),
            overrides=[
                {
                    "matcher": {"id": "byName", "options": label(name)},
                    "properties": [
                        {"id": "color", "value": {"mode": "fixed", "fixedColor": colour}}
                    ],
                }
                for name, colour in (("pass", OK), ("fail", BAD), ("insufficient", WARN))
            ],
            transformations=renamed_series("pass", "fail", "insufficient"),
            options=stat_options(),
            width=6,
        ),
    ]
    kpis = [kpi_panel(kpi) for kpi in KPI_DISPLAY]
    table = [
        Panel(
            _("KPI results per entrance and month"),
            "table",
            [
                target(
                    'SELECT "raw", "judged_on", "judged", "judged_low", "judged_high", "target", '
                    f'"availability", "status" FROM "kpi" WHERE {SUPPLIER_LOCATION} '
                    'AND $timeFilter GROUP BY "supplier", "school", "entrance", "kpi", "period"',
                    result_format="table",
                )
            ],
            description=_(
                "Every KPI result: what it was judged on (improvement over its own baseline or "
                "the measured level), the value with its 95 % interval (block bootstrap over "
                "days with the baseline refitted) and the target."
            ),
            unit="short",
            decimals=3,
            overrides=[
                {
                    "matcher": {"id": "byName", "options": label("status")},
                    "properties": [
                        {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                        {
                            "id": "mappings",
                            "value": [
                                value_mapping(
                                    {
                                        "pass": OK,
                                        "fail": BAD,
                                        "insufficient": WARN,
                                        "not_judged": INFO,
                                    }
                                )
                            ],
                        },
                    ],
                },
                {
                    "matcher": {"id": "byName", "options": label("judged_on")},
                    "properties": [
                        {
                            "id": "mappings",
                            "value": [value_mapping(dict.fromkeys(JUDGED_ON_VALUES, ""))],
                        }
                    ],
                },
                {
                    "matcher": {"id": "byName", "options": label("kpi")},
                    "properties": [
                        {
                            "id": "mappings",
                            "value": [
                                {
                                    "type": "value",
                                    "options": {
                                        str(kpi): {"text": _(name), "index": index}
                                        for index, (kpi, (name, _unit)) in enumerate(
                                            KPI_DISPLAY.items()
                                        )
                                    },
                                }
                            ],
                        }
                    ],
                },
            ],
            transformations=renamed_columns(
                "raw",
                "judged_on",
                "judged",
                "judged_low",
                "judged_high",
                "target",
                "availability",
                "status",
                "supplier",
                "school",
                "entrance",
                "kpi",
                "period",
            ),
            width=24,
            height=10,
            options={"showHeader": True},
        )
    ]
    return dashboard(
        uid="floorwatch-supplier-outcomes",
        title=_("Floorwatch: supplier outcomes"),
        description=_(
            "Contract KPIs per supplier and month, measured and expected without the solution, "
            "against the targets."
        ),
        tags=[_("procurement"), _("kpi")],
        variables=location_variables("kpi", supplier=True),
        sections=[
            (_("Scorecards"), scores),
            (_("KPIs: measured and expected untreated against target"), kpis),
            (_("Details"), table),
        ],
        time_from="now-1y",
        refresh="1h",
    )


# --- Operations --------------------------------------------------------------------------------
def operations() -> JSON:
    collector = '"collector" =~ /^$collector$/'

    def rate(*fields: str) -> str:
        selects = ", ".join(f'non_negative_derivative(max("{f}"), 1m) AS "{f}"' for f in fields)
        return (
            f'SELECT {selects} FROM "ingest" WHERE {collector} AND $timeFilter '
            'GROUP BY time($__interval), "collector" fill(none)'
        )

    ingest = [
        Panel(
            _("Messages per minute"),
            "timeseries",
            [
                target(
                    rate("received", "stored", "quarantined", "duplicates"),
                    alias="$tag_collector $col",
                )
            ],
            transformations=renamed_series("received", "stored", "quarantined", "duplicates"),
            description=_(
                "Rates from the collectors' running counters (written every counters_interval_s; "
                "a restart resets them, which the non-negative derivative skips)."
            ),
            unit="short",
            custom=line(),
            options=legend("mean", "max"),
            width=12,
        ),
        Panel(
            _("Spool"),
            "timeseries",
            [target(rate("spooled", "replayed", "acknowledged"), alias="$tag_collector $col")],
            transformations=renamed_series("spooled", "replayed", "acknowledged"),
            description=_(
                "Readings spooled locally while the store was unavailable, and replayed after."
            ),
            unit="short",
            custom=line(),
            options=legend("max"),
            width=6,
        ),
        Panel(
            _("Lag now"),
            "stat",
            [
                target(
                    f'SELECT last("lag_s") FROM "ingest" WHERE {collector} AND $timeFilter '
                    'GROUP BY "collector"',
                    alias="$tag_collector",
                )
            ],
            description=_("Seconds between a reading's time and its commit to the store."),
            unit="s",
            thresholds=thresholds((None, OK), (30, WARN), (300, BAD)),
            time_from="5m",
            options=stat_options(),
            width=6,
        ),
        Panel(
            _("Quarantined per minute by reason"),
            "timeseries",
            [
                target(
                    'SELECT non_negative_derivative(max("count"), 1m) FROM "ingest_quarantine" '
                    f"WHERE {collector} AND $timeFilter "
                    'GROUP BY time($__interval), "collector", "reason" fill(none)',
                    alias="$tag_reason ($tag_collector)",
                )
            ],
            description=_("Bad input by reason. Details: floorwatch quarantine, or the API."),
            unit="short",
            custom=line(bars=True, stack=True),
            options=legend("sum"),
            width=12,
        ),
        Panel(
            _("Quarantined in the time range by reason"),
            "bargauge",
            [
                target(
                    'SELECT sum("quarantined") FROM ('
                    'SELECT spread("count") AS "quarantined" FROM "ingest_quarantine" '
                    f'WHERE {collector} AND $timeFilter GROUP BY "collector", "reason") '
                    'GROUP BY "reason"',
                    alias="$tag_reason",
                )
            ],
            description=_("Increase of each reason's counter in the time range, all collectors."),
            unit="none",
            decimals=0,
            thresholds=thresholds((None, WARN)),
            options={
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                "orientation": "horizontal",
                "displayMode": "basic",
            },
            width=12,
        ),
    ]
    availability_colours = thresholds((None, BAD), (alerts.MIN_DATA_AVAILABILITY, WARN), (0.95, OK))
    health = [
        Panel(
            _("Readings arriving per 5 minutes"),
            "timeseries",
            [
                target(
                    f'SELECT count("value") FROM "reading" WHERE {MEASURED} AND {LOCATION} '
                    'AND $timeFilter GROUP BY time(5m), "school" fill(0)',
                    alias="$tag_school",
                )
            ],
            description=_(
                "Live data flow per school; a drop to zero is a gateway or network fault."
            ),
            unit="none",
            custom=line(stack=True, fill=30),
            options=legend("mean", "min"),
            width=12,
        ),
        Panel(
            _("Silent sensors"),
            "table",
            [
                target(
                    alerts.silent_query(f" AND {LOCATION}"),
                    result_format="table",
                )
            ],
            description=_(
                "Readings per sensor in the last {intervals} report intervals, fewest first: "
                "0 (red) is silent, as in the sensor-silent alert."
            ).format(intervals=number(alerts.SILENT_ALERT_INTERVALS)),
            unit="none",
            decimals=0,
            time_from="24h",
            thresholds=thresholds((None, BAD), (1, OK)),
            overrides=[
                {
                    "matcher": {"id": "byName", "options": label("readings")},
                    "properties": [
                        {"id": "custom.cellOptions", "value": {"type": "color-background"}}
                    ],
                }
            ],
            transformations=renamed_columns(
                "municipality", "school", "entrance", "sensor_id", "readings"
            ),
            options={
                "showHeader": True,
                "sortBy": [{"displayName": label("readings"), "desc": False}],
            },
            width=12,
        ),
        Panel(
            _("Data availability per entrance"),
            "bargauge",
            [
                target(
                    'SELECT mean("availability") FROM "sensor_health" WHERE '
                    f'{LOCATION} AND $timeFilter GROUP BY "entrance"',
                    alias="$tag_entrance",
                )
            ],
            description=_(
                "Readings received / expected, mean of the entrance's sensors (analytics, "
                "per month). Below the contract minimum, KPIs are 'insufficient data'."
            ),
            unit="percentunit",
            minimum=0,
            maximum=1,
            thresholds=availability_colours,
            time_from="62d",
            options={
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                "orientation": "horizontal",
                "displayMode": "lcd",
            },
            width=8,
        ),
        Panel(
            _("Sensor health"),
            "table",
            [
                target(
                    'SELECT last("availability") AS "availability", '
                    'last("suspect_minutes") AS "suspect_minutes", last("status") AS "status", '
                    'last("reasons") AS "reasons" FROM "sensor_health" WHERE '
                    f"{LOCATION} AND $timeFilter "
                    'GROUP BY "school", "entrance", "zone", "sensor_id"',
                    result_format="table",
                )
            ],
            description=_(
                "Latest health per sensor from analytics: ok, suspect (with reasons) or silent."
            ),
            unit="short",
            time_from="62d",
            overrides=[
                {
                    "matcher": {"id": "byName", "options": label("availability")},
                    "properties": [
                        {"id": "unit", "value": "percentunit"},
                        {"id": "thresholds", "value": availability_colours},
                        {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                    ],
                },
                {
                    "matcher": {"id": "byName", "options": label("status")},
                    "properties": [
                        {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                        {
                            "id": "mappings",
                            "value": [value_mapping({"ok": OK, "suspect": WARN, "silent": BAD})],
                        },
                    ],
                },
                {
                    "matcher": {"id": "byName", "options": label("zone")},
                    "properties": [
                        {
                            "id": "mappings",
                            "value": [
                                value_mapping(dict.fromkeys(("outside", "entry", "inner"), ""))
                            ],
                        }
                    ],
                },
                {
                    "matcher": {"id": "byName", "options": label("suspect_minutes")},
                    "properties": [{"id": "unit", "value": "m"}],
                },
            ],
            transformations=renamed_columns(
                "availability",
                "suspect_minutes",
                "status",
                "reasons",
                "school",
                "entrance",
                "zone",
                "sensor_id",
            ),
            options={
                "showHeader": True,
                "sortBy": [{"displayName": label("availability"), "desc": False}],
            },
            width=16,
        ),
    ]
    variables = [
        *location_variables("reading"),
        query_variable(
            "collector", _("Collector"), 'SHOW TAG VALUES FROM "ingest" WITH KEY = "collector"'
        ),
    ]
    return dashboard(
        uid="floorwatch-operations",
        title=_("Floorwatch: operations"),
        description=_("Collectors, quarantined input, data availability and sensor health."),
        tags=[_("operations"), _("technician")],
        variables=variables,
        sections=[(_("Ingest"), ingest), (_("Sensors and data availability"), health)],
        time_from="now-6h",
        refresh="30s",
    )


DASHBOARDS = {
    "entrance-live": entrance_live,
    "wear-and-work-environment": wear_and_work_environment,
    "supplier-outcomes": supplier_outcomes,
    "operations": operations,
}


def build_dashboards(lang: str) -> dict[str, JSON]:
    """File stem -> dashboard JSON model, its texts in `lang` (the queries are the same in
    every language)."""
    with language(lang):
        return {name: make() for name, make in DASHBOARDS.items()}


# --- provisioning ------------------------------------------------------------------------------
def datasource_provisioning() -> dict[str, Any]:
    """The InfluxDB datasource (InfluxQL); URL, database and read-only account from the
    environment (Grafana expands $VARS in provisioning files)."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Floorwatch InfluxDB",
                "uid": DATASOURCE_UID,
                "type": "influxdb",
                "access": "proxy",
                "url": "$INFLUXDB_URL",
                "user": "$INFLUXDB_READ_USER",
                "isDefault": True,
                "editable": False,
                "jsonData": {
                    "dbName": "$INFLUXDB_DB",
                    "httpMode": "POST",
                    "version": "InfluxQL",
                    # The collectors write counters every 10 s; finer buckets would be empty.
                    "timeInterval": "10s",
                },
                "secureJsonData": {"password": "$INFLUXDB_READ_USER_PASSWORD"},
            }
        ],
    }


def dashboard_provider() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "floorwatch",
                "orgId": 1,
                "folder": alerts.FOLDER,
                "folderUid": "floorwatch",
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": CONTAINER_DASHBOARDS, "foldersFromFilesStructure": False},
            }
        ],
    }


def provisioning_files(lang: str) -> dict[str, dict[str, Any]]:
    """Path relative to dashboards/provisioning/<lang> -> YAML document (the alert texts are in
    `lang`)."""
    with language(lang):
        return {
            "datasources/floorwatch.yaml": datasource_provisioning(),
            "dashboards/floorwatch.yaml": dashboard_provider(),
            "alerting/floorwatch.yaml": alerts.provisioning(),
        }


HEADER = "# Generated by `floorwatch dashboards build` from dashboards/*.py: do not edit.\n"


def render_json(model: JSON) -> str:
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


class _PlainDumper(yaml.SafeDumper):
    """Writes repeated dicts in full (no &anchors), so the files read plainly."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_yaml(document: dict[str, Any]) -> str:
    return HEADER + yaml.dump(
        document, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=100
    )


def rendered_files(langs: tuple[str, ...] | None = None) -> dict[Path, str]:
    """Every generated file (absolute path) -> its text: one set per language,
    dashboards/json/<lang>/ and dashboards/provisioning/<lang>/ (Grafana's JSON is static, so
    a deployment mounts or deploys the set in its language)."""
    files: dict[Path, str] = {}
    for lang in langs or languages():
        for name, model in build_dashboards(lang).items():
            files[JSON_DIR / lang / f"{name}.json"] = render_json(model)
        for rel, doc in provisioning_files(lang).items():
            files[PROVISIONING_DIR / lang / rel] = render_yaml(doc)
    return files


def write_all(langs: tuple[str, ...] | None = None) -> list[Path]:
    """Write the generated files (every language, or `langs`); return those that changed."""
    changed = []
    for path, text in rendered_files(langs).items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(path)
    return changed


if __name__ == "__main__":
    for path in write_all():
        print(f"wrote {path}")
