"""Small builders for Grafana's dashboard JSON model (schemaVersion 39), InfluxQL targets only.

Each function returns plain dicts: the dashboards are data, built in `dashboards.build` and
written as JSON for Grafana's file provisioning. Only what Floorwatch uses is modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from floorwatch.localtime import LOCAL_TZ_NAME

DATASOURCE_UID = "floorwatch-influxdb"
DATASOURCE = {"type": "influxdb", "uid": DATASOURCE_UID}
SCHEMA_VERSION = 39

JSON = dict[str, Any]

# Grafana's classic palette names; the colours say the same thing on every dashboard.
OK, WARN, BAD, INFO = "green", "orange", "red", "blue"


def target(
    query: str, ref_id: str = "A", alias: str = "", result_format: str = "time_series"
) -> JSON:
    """A raw InfluxQL target. `alias` may use $tag_<name> and $col (Grafana's InfluxQL aliasing)."""
    body: JSON = {
        "refId": ref_id,
        "datasource": DATASOURCE,
        "rawQuery": True,
        "query": query,
        "resultFormat": result_format,
    }
    if alias:
        body["alias"] = alias
    return body


def thresholds(*steps: tuple[float | None, str]) -> JSON:
    """Absolute thresholds: (None, base colour) first, then (value, colour) upwards."""
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": value} for value, color in steps],
    }


def range_mapping(start: float, end: float, text: str, color: str) -> JSON:
    return {
        "type": "range",
        "options": {"from": start, "to": end, "result": {"text": text, "color": color}},
    }


@dataclass
class Panel:
    """A panel before layout: `width` and `height` in grid units (24 columns per row)."""

    title: str
    kind: str  # Grafana panel type: timeseries, stat, table, barchart, bargauge, state-timeline
    targets: list[JSON]
    description: str = ""
    unit: str = "short"
    thresholds: JSON | None = None
    mappings: list[JSON] = field(default_factory=list)
    decimals: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    width: int = 12
    height: int = 8
    time_from: str | None = None  # a panel-relative time range, e.g. "1h" for "now" panels
    custom: JSON = field(default_factory=dict)  # fieldConfig.defaults.custom
    options: JSON = field(default_factory=dict)
    overrides: list[JSON] = field(default_factory=list)
    transformations: list[JSON] = field(default_factory=list)

    def to_json(self, panel_id: int, x: int, y: int) -> JSON:
        defaults: JSON = {
            "unit": self.unit,
            "color": {"mode": "thresholds" if self.thresholds else "palette-classic"},
            "thresholds": self.thresholds or thresholds((None, OK)),
            "mappings": self.mappings,
        }
        if self.decimals is not None:
            defaults["decimals"] = self.decimals
        if self.minimum is not None:
            defaults["min"] = self.minimum
        if self.maximum is not None:
            defaults["max"] = self.maximum
        if self.custom:
            defaults["custom"] = self.custom
        body: JSON = {
            "id": panel_id,
            "type": self.kind,
            "title": self.title,
            "description": self.description,
            "datasource": DATASOURCE,
            "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
            "fieldConfig": {"defaults": defaults, "overrides": self.overrides},
            "options": self.options,
            "targets": self.targets,
        }
        if self.time_from:
            body["timeFrom"] = self.time_from
        if self.transformations:
            body["transformations"] = self.transformations
        return body


def row(title: str, panel_id: int, y: int) -> JSON:
    return {
        "id": panel_id,
        "type": "row",
        "title": title,
        "collapsed": False,
        "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
        "panels": [],
    }


def query_variable(name: str, label: str, query: str, include_all: bool = True) -> JSON:
    """A template variable filled by InfluxQL (`SHOW TAG VALUES ...`), multi-select with All.

    All means the regex `.*`, so panels filter with `"tag" =~ /^$name$/` whatever is selected.
    """
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": query,
        "definition": query,
        "refresh": 1,  # on dashboard load: new schools and entrances appear without editing
        "sort": 1,
        "multi": True,
        "includeAll": include_all,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "hide": 0,
        "skipUrlSync": False,
    }


def dashboard(
    uid: str,
    title: str,
    description: str,
    tags: list[str],
    variables: list[JSON],
    sections: list[tuple[str, list[Panel]]],
    time_from: str = "now-24h",
    refresh: str = "1m",
) -> JSON:
    """A dashboard: each section is a row followed by its panels, laid out left to right."""
    panels: list[JSON] = []
    panel_id = 1
    y = 0
    for section_title, section in sections:
        panels.append(row(section_title, panel_id, y))
        panel_id += 1
        y += 1
        x = 0
        line_height = 0
        for panel in section:
            if x + panel.width > 24:
                x, y, line_height = 0, y + line_height, 0
            panels.append(panel.to_json(panel_id, x, y))
            panel_id += 1
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["floorwatch", *tags],
        # School hours, weeks (Monday) and months are Swedish local time wherever one looks.
        "timezone": LOCAL_TZ_NAME,
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": refresh,
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "monday",
        "annotations": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "tags": ["floorwatch"],
                "asDropdown": True,
                "title": "Floorwatch",
                "includeVars": True,
                "keepTime": True,
            }
        ],
        "templating": {"list": variables},
        "panels": panels,
    }
