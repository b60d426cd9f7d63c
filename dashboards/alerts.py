"""Alert rules for facility managers, as Grafana unified-alerting provisioning (one place for N, M).

- Inner floor wet: every inner-zone moisture reading of the last WET_ALERT_MINUTES minutes is above
  the contract's wet threshold; notified only during school hours (a time interval the
  notification policy is active in).
- Sensor silent: a sensor that reported in the last day sent nothing for SILENT_ALERT_INTERVALS
  report intervals.

Grafana expands $ENV_VARS in provisioning files, but not in a rule's query model ($timeFilter
stays for the datasource) nor in annotations ({{ $labels.x }} stay for the templates); the contact
point's addresses do come from the environment ($FLOORWATCH_ALERT_EMAILS).
"""

from __future__ import annotations

from typing import Any

from dashboards.model import DATASOURCE_UID, JSON
from floorwatch.i18n import format_number, format_percent
from floorwatch.i18n import gettext as _
from floorwatch.localtime import LOCAL_TZ_NAME
from floorwatch.registry.schema import Calendar, Contract, OpeningHours, Sensor

# --- the one place to set N and M ---------------------------------------------------------------
WET_ALERT_MINUTES = 30  # N: minutes an inner floor may stay wet during school hours
SILENT_ALERT_INTERVALS = 3  # M: report intervals a sensor may stay silent

# Shared with the dashboards so that the colours and the alerts agree; the defaults of the
# registry schema (a contract or sensor may override them; the dashboards show the defaults).
WET_THRESHOLD = float(Contract.model_fields["wet_threshold"].default)  # moisture %
DIRT_THRESHOLD = float(Contract.model_fields["dirt_threshold"].default)  # soiling index
MIN_DATA_AVAILABILITY = float(Contract.model_fields["min_data_availability"].default)  # share
REPORT_INTERVAL_S = int(Sensor.model_fields["report_interval"].default)
_HOURS: OpeningHours = Calendar.model_fields["opening_hours"].default
SCHOOL_OPENS = _HOURS.open.strftime("%H:%M")
SCHOOL_CLOSES = _HOURS.close.strftime("%H:%M")

FOLDER = "Floorwatch"
GROUP = "floorwatch-facility"
CONTACT_POINT = "floorwatch-facility"
SCHOOL_HOURS = "floorwatch-school-hours"
LOOKBACK_S = 24 * 3600  # a sensor silent for longer than this has long been reported
EVALUATION_INTERVAL_S = 60


def wet_query() -> str:
    """Lowest inner-zone moisture per sensor over the rule's time range (N minutes, $timeFilter).
    Above the wet threshold means the floor stayed wet the whole time."""
    return (
        'SELECT min("value") FROM "reading" '
        "WHERE \"kind\" = 'moisture' AND \"zone\" = 'inner' AND $timeFilter "
        'GROUP BY "municipality", "school", "entrance", "sensor_id"'
    )


def silent_query(location: str = "") -> str:
    """Readings per sensor in its newest M+1 report-interval buckets (the newest is partial, so at
    least M full intervals). The inner query fills empty buckets with 0 for every sensor seen in
    the time range (a day), so a silent sensor shows 0 rather than vanishing. (InfluxDB 1.x
    ignores an outer time condition on such a subquery; ORDER BY time DESC LIMIT does work.)
    `location` is an extra InfluxQL condition, e.g. the dashboards' template variables."""
    return (
        'SELECT sum("readings") AS "readings" FROM ('
        'SELECT count("value") AS "readings" FROM "reading" '
        f'WHERE "kind" =~ /^(moisture|dirt|footfall)$/{location} AND $timeFilter '
        f'GROUP BY time({REPORT_INTERVAL_S}s), "municipality", "school", "entrance", "sensor_id" '
        f"fill(0) ORDER BY time DESC LIMIT {SILENT_ALERT_INTERVALS + 1}) "
        'GROUP BY "municipality", "school", "entrance", "sensor_id" ORDER BY time DESC'
    )


def _query_step(query: str, range_s: int) -> JSON:
    return {
        "refId": "A",
        "relativeTimeRange": {"from": range_s, "to": 0},
        "datasourceUid": DATASOURCE_UID,
        "model": {
            "refId": "A",
            "datasource": {"type": "influxdb", "uid": DATASOURCE_UID},
            "rawQuery": True,
            "query": query,
            "resultFormat": "time_series",
            "intervalMs": 60_000,
            "maxDataPoints": 43_200,
        },
    }


def _reduce_and_threshold(comparison: str, value: float) -> list[JSON]:
    expression = {"type": "__expr__", "uid": "__expr__"}
    return [
        {
            "refId": "B",
            "relativeTimeRange": {"from": 0, "to": 0},
            "datasourceUid": "__expr__",
            "model": {
                "refId": "B",
                "datasource": expression,
                "type": "reduce",
                "expression": "A",
                "reducer": "last",
                "settings": {"mode": "dropNN"},
            },
        },
        {
            "refId": "C",
            "relativeTimeRange": {"from": 0, "to": 0},
            "datasourceUid": "__expr__",
            "model": {
                "refId": "C",
                "datasource": expression,
                "type": "threshold",
                "expression": "B",
                "conditions": [{"evaluator": {"type": comparison, "params": [value]}}],
            },
        },
    ]


# Grafana's notification templates fill these in; the catalogue's messages name them {entrance},
# {school}, {sensor} (str.format would take Go's {{ }} for its own).
LABELS = {
    "entrance": "{{ $labels.entrance }}",
    "school": "{{ $labels.school }}",
    "sensor": "{{ $labels.sensor_id }}",
}


def rules() -> list[JSON]:
    """The alert rules, their texts in the current language (floorwatch.i18n.language)."""
    minutes = format_number(WET_ALERT_MINUTES)
    intervals = format_number(SILENT_ALERT_INTERVALS)
    wet = {
        "uid": "floorwatch-inner-floor-wet",
        "title": _("Inner floor wet for more than {minutes} minutes").format(minutes=minutes),
        "condition": "C",
        "data": [
            _query_step(wet_query(), WET_ALERT_MINUTES * 60),
            *_reduce_and_threshold("gt", WET_THRESHOLD),
        ],
        "noDataState": "OK",
        "execErrState": "Error",
        "for": "0s",
        "annotations": {
            "summary": _(
                "Inner floor at {entrance} ({school}) has been wet for more than {minutes} minutes"
            ).format(minutes=minutes, **LABELS),
            "description": _(
                "Every inner-zone moisture reading of the last {minutes} minutes from {sensor} "
                "is above {threshold}. Check the mats and dry the floor before pupils slip."
            ).format(minutes=minutes, threshold=format_percent(WET_THRESHOLD / 100, 0), **LABELS),
        },
        "labels": {"floorwatch_alert": "inner-floor-wet", "audience": "facility"},
        "isPaused": False,
    }
    silent = {
        "uid": "floorwatch-sensor-silent",
        "title": _("Sensor silent for more than {intervals} report intervals").format(
            intervals=intervals
        ),
        "condition": "C",
        "data": [_query_step(silent_query(), LOOKBACK_S), *_reduce_and_threshold("lt", 1)],
        "noDataState": "OK",
        "execErrState": "Error",
        "for": "0s",
        "annotations": {
            "summary": _("Sensor {sensor} at {entrance} is silent").format(**LABELS),
            "description": _(
                "No reading for {intervals} report intervals ({minutes} minutes at the default "
                "interval). Check its battery and radio link; the KPIs it feeds lose availability."
            ).format(
                intervals=intervals,
                minutes=format_number(SILENT_ALERT_INTERVALS * REPORT_INTERVAL_S // 60),
            ),
        },
        "labels": {"floorwatch_alert": "sensor-silent", "audience": "facility"},
        "isPaused": False,
    }
    return [wet, silent]


def contact_point(addresses: str) -> JSON:
    """The facility managers' e-mail contact point (comma-separated addresses)."""
    return {
        "uid": "floorwatch-facility-email",
        "name": CONTACT_POINT,
        "type": "email",
        "settings": {"addresses": addresses},
        "disableResolveMessage": False,
    }


def school_hours_interval() -> JSON:
    """Weekdays during the default opening hours, Swedish time: when wet floors are notified."""
    return {
        "name": SCHOOL_HOURS,
        "time_intervals": [
            {
                "times": [{"start_time": SCHOOL_OPENS, "end_time": SCHOOL_CLOSES}],
                "weekdays": ["monday:friday"],
                "location": LOCAL_TZ_NAME,
            }
        ],
    }


def provisioning() -> dict[str, Any]:
    """The alerting provisioning file: rules, a contact point (e-mail addresses from the
    environment), the notification policy and the school-hours time interval."""
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": 1,
                "name": GROUP,
                "folder": FOLDER,
                "interval": f"{EVALUATION_INTERVAL_S}s",
                "rules": rules(),
            }
        ],
        "contactPoints": [
            {
                "orgId": 1,
                "name": CONTACT_POINT,
                "receivers": [
                    {
                        key: value
                        for key, value in contact_point("$FLOORWATCH_ALERT_EMAILS").items()
                        if key != "name"
                    }
                ],
            }
        ],
        "policies": [
            {
                "orgId": 1,
                "receiver": CONTACT_POINT,
                "group_by": ["grafana_folder", "alertname"],
                "routes": [
                    {
                        "receiver": CONTACT_POINT,
                        "object_matchers": [["floorwatch_alert", "=", "inner-floor-wet"]],
                        # Wet floors matter while pupils and staff walk on them.
                        "active_time_intervals": [SCHOOL_HOURS],
                    },
                    {
                        "receiver": CONTACT_POINT,
                        "object_matchers": [["floorwatch_alert", "=", "sensor-silent"]],
                        "repeat_interval": "12h",
                    },
                ],
            }
        ],
        "muteTimes": [{"orgId": 1, **school_hours_interval()}],
    }
