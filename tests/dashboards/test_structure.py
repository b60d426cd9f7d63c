"""The committed dashboard JSON and provisioning files: generated, well-formed, consistent, one
set per language (dashboards/json/<lang>/, dashboards/provisioning/<lang>/)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards import alerts
from dashboards.build import JSON_DIR, PROVISIONING_DIR, build_dashboards, rendered_files
from dashboards.model import DATASOURCE_UID
from floorwatch.i18n import language, languages
from floorwatch.registry import Registry

COMMITTED = {
    f"{path.parent.name}/{path.stem}": json.loads(path.read_text())
    for path in sorted(JSON_DIR.glob("*/*.json"))
}
BUILTIN = {"timeFilter", "__interval", "__interval_ms", "tag_", "col"}


def test_committed_files_are_what_the_generator_produces() -> None:
    files = rendered_files()
    for path, text in files.items():
        assert path.exists(), f"{path} missing: run floorwatch dashboards build"
        assert path.read_text() == text, f"{path} is stale: run floorwatch dashboards build"
    generated = {p for p in files if p.suffix == ".json"}
    assert set(JSON_DIR.glob("**/*.json")) == generated  # no stray dashboards
    assert {p.parent.name for p in generated} == set(languages()) == {"en", "sv"}


@pytest.mark.parametrize("lang", languages())
def test_four_dashboards_with_unique_stable_uids(lang: str) -> None:
    models = [m for name, m in COMMITTED.items() if name.startswith(f"{lang}/")]
    uids = [model["uid"] for model in models]
    assert len(uids) == 4 and len(set(uids)) == 4
    assert set(uids) == {
        "floorwatch-entrance-live",
        "floorwatch-wear",
        "floorwatch-supplier-outcomes",
        "floorwatch-operations",
    }
    titles = [model["title"] for model in models]
    assert len(set(titles)) == 4
    for model in models:
        assert model.get("id") is None  # ids are Grafana's; uids are ours
        assert len(model["uid"]) <= 40  # Grafana's limit


def _queries(model: dict[str, Any]) -> list[Any]:
    """Everything of a dashboard that reaches InfluxDB, in order."""
    panels = [
        (
            p["type"],
            p.get("timeFrom"),
            [(t["refId"], t["query"], t["resultFormat"]) for t in p["targets"]],
        )
        for p in _panels(model)
    ]
    variables = [(v["name"], v["query"]) for v in model["templating"]["list"]]
    return [model["uid"], model["time"], panels, variables]


def test_queries_are_identical_in_every_language() -> None:
    """Only the texts differ: tests/dashboards/test_queries.py runs one language's queries
    against the real InfluxDB, and that covers them all."""
    english = build_dashboards("en")
    for lang in languages():
        for name, model in build_dashboards(lang).items():
            assert _queries(model) == _queries(english[name]), (lang, name)
            assert [p["gridPos"] for p in model["panels"]] == [
                p["gridPos"] for p in english[name]["panels"]
            ]
        with language(lang):
            rules = alerts.rules()
        with language("en"):
            english_rules = alerts.rules()
        assert [r["data"] for r in rules] == [r["data"] for r in english_rules]
        assert [r["labels"] for r in rules] == [r["labels"] for r in english_rules]


def _panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in model["panels"] if p["type"] != "row"]


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_every_panel_has_the_datasource_and_raw_influxql(name: str) -> None:
    model = COMMITTED[name]
    ids = [p["id"] for p in model["panels"]]
    assert len(ids) == len(set(ids))
    for panel in _panels(model):
        assert panel["datasource"] == {"type": "influxdb", "uid": DATASOURCE_UID}, panel["title"]
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs))
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID
            assert target["rawQuery"] is True
            assert target["query"].startswith("SELECT ")
            assert "$timeFilter" in target["query"], (panel["title"], target["query"])
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_every_variable_used_is_defined_and_every_defined_one_is_used(name: str) -> None:
    model = COMMITTED[name]
    defined = [v["name"] for v in model["templating"]["list"]]
    assert {"municipality", "school", "entrance"} <= set(defined)
    texts = [t["query"] for p in _panels(model) for t in p["targets"]]
    texts += [v["query"] for v in model["templating"]["list"]]
    used: set[str] = set()
    for text in texts:
        for match in re.finditer(r"\$(\w+)", text):
            word = match[1]
            if word.startswith("tag_") or word in BUILTIN:
                continue
            used.add(word)
    assert used <= set(defined), used - set(defined)
    assert set(defined) <= used
    for position, variable in enumerate(model["templating"]["list"]):
        assert variable["query"].startswith("SHOW TAG VALUES FROM ")
        assert variable["datasource"]["uid"] == DATASOURCE_UID
        # A variable may only use the ones before it (Grafana resolves them in order).
        earlier = set(defined[:position])
        for match in re.finditer(r"\$(\w+)", variable["query"]):
            assert match[1] in earlier, (variable["name"], match[1])
        for match in re.finditer(r'"(\w+)" =~ /\^\$(\w+)\$/', variable["query"]):
            assert match[1] == match[2]  # tag and variable agree


def test_supplier_outcomes_has_a_supplier_variable_and_one_panel_per_kpi() -> None:
    model = COMMITTED["sv/supplier-outcomes"]
    assert "supplier" in [v["name"] for v in model["templating"]["list"]]
    queries = " ".join(t["query"] for p in _panels(model) for t in p["targets"])
    for kpi in (
        "dry_time_share",
        "clean_time_share",
        "wet_recovery_p90",
        "slip_exposure",
        "dirt_capture",
        "data_availability",
    ):
        assert f"\"kpi\" = '{kpi}'" in queries


@pytest.mark.parametrize("lang", languages())
def test_datasource_and_dashboard_provisioning_fit_together(lang: str) -> None:
    datasources = yaml.safe_load(
        (PROVISIONING_DIR / lang / "datasources" / "floorwatch.yaml").read_text()
    )
    (source,) = datasources["datasources"]
    assert source["uid"] == DATASOURCE_UID
    assert source["type"] == "influxdb"
    assert source["jsonData"]["version"] == "InfluxQL"
    # Secrets and addresses come from the environment, never from the repo.
    assert source["url"].startswith("$") and source["secureJsonData"]["password"].startswith("$")
    assert source["jsonData"]["dbName"].startswith("$")
    provider = yaml.safe_load(
        (PROVISIONING_DIR / lang / "dashboards" / "floorwatch.yaml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/floorwatch"


@pytest.mark.parametrize("lang", languages())
def test_alert_rules_render_n_and_m_from_one_place(lang: str) -> None:
    document = yaml.safe_load(
        (PROVISIONING_DIR / lang / "alerting" / "floorwatch.yaml").read_text()
    )
    (group,) = document["groups"]
    rules = {rule["uid"]: rule for rule in group["rules"]}
    wet = rules["floorwatch-inner-floor-wet"]
    assert wet["data"][0]["relativeTimeRange"]["from"] == alerts.WET_ALERT_MINUTES * 60
    assert str(alerts.WET_ALERT_MINUTES) in wet["title"]
    assert wet["data"][2]["model"]["conditions"][0]["evaluator"] == {
        "type": "gt",
        "params": [alerts.WET_THRESHOLD],
    }
    silent = rules["floorwatch-sensor-silent"]
    assert f"LIMIT {alerts.SILENT_ALERT_INTERVALS + 1}" in silent["data"][0]["model"]["query"]
    assert str(alerts.SILENT_ALERT_INTERVALS) in silent["title"]
    for rule in rules.values():
        assert rule["condition"] == "C"
        assert rule["data"][0]["datasourceUid"] == DATASOURCE_UID
    # The wet-floor route is active during school hours only.
    routes = document["policies"][0]["routes"]
    wet_route = next(
        r for r in routes if ["floorwatch_alert", "=", "inner-floor-wet"] in r["object_matchers"]
    )
    assert wet_route["active_time_intervals"] == [alerts.SCHOOL_HOURS]
    (interval,) = document["muteTimes"]
    assert interval["name"] == alerts.SCHOOL_HOURS
    assert interval["time_intervals"][0]["location"] == "Europe/Stockholm"


def test_thresholds_agree_with_the_pilot_contract_and_sensors(registry: Registry) -> None:
    (contract,) = registry.contracts.values()
    assert contract.wet_threshold == alerts.WET_THRESHOLD
    assert contract.dirt_threshold == alerts.DIRT_THRESHOLD
    assert {p.sensor.report_interval for p in registry.sensors.values()} == {
        alerts.REPORT_INTERVAL_S
    }


def test_no_generated_file_holds_a_secret() -> None:
    for path in [*JSON_DIR.rglob("*.json"), *PROVISIONING_DIR.rglob("*.yaml")]:
        text = Path(path).read_text().lower()
        assert "password: " not in text.replace("password: $", "")
