"""The dashboards and alert rules in Swedish: every text a Grafana user reads comes from the
catalogue, numbers are written the Swedish way, and what reaches InfluxDB is the same as in
English (test_structure.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from babel.messages.pofile import read_po

from dashboards import alerts
from dashboards.build import build_dashboards
from floorwatch.i18n import catalogue_path, language

NBSP, THIN = "\u00a0", "\u202f"
ENGLISH_WORDS = {
    "the", "and", "of", "with", "is", "are", "from", "for", "to", "now", "per week", "wet",
    "dry", "readings", "passages", "minutes", "sensor health", "all collectors",
}  # fmt: skip


def _mapping_texts(mappings: list[dict[str, Any]]) -> Iterator[str]:
    for mapping in mappings:
        options = mapping["options"]
        results = [options["result"]] if "result" in options else list(options.values())
        yield from (r["text"] for r in results if "text" in r)


def reader_texts(model: dict[str, Any]) -> list[str]:
    """Every text of a dashboard a Grafana user reads (not the queries, uids, units, colours)."""
    texts = [model["title"], model["description"]]
    texts += [t for t in model["tags"] if t != "floorwatch"]  # the links find each other by it
    texts += [v["label"] for v in model["templating"]["list"]]
    for panel in model["panels"]:
        texts += [panel["title"], panel.get("description", "")]
        if panel["type"] == "row":
            continue
        config = panel["fieldConfig"]
        texts += _mapping_texts(config["defaults"]["mappings"])
        for override in config["overrides"]:
            if override["matcher"]["id"] == "byName":
                texts.append(override["matcher"]["options"])
            for prop in override["properties"]:
                if prop["id"] == "mappings":
                    texts += _mapping_texts(prop["value"])
        for step in panel.get("transformations", []):
            options = step["options"]
            texts += options.get("renameByName", {}).values()
            if "renamePattern" in options:
                texts.append(options["renamePattern"].replace("$1", ""))
        texts += [s["displayName"] for s in panel["options"].get("sortBy", [])]
    return [t for t in texts if t]


def alert_texts() -> list[str]:
    with language("sv"):
        rules = alerts.rules()
    texts = []
    for rule in rules:
        texts += [rule["title"], *rule["annotations"].values()]
    # Grafana's template references ({{ $labels.x }}) are filled in by Grafana, not words
    return [re.sub(r"\{\{[^}]*\}\}", " ", t) for t in texts]


def english_left(texts: list[str]) -> list[str]:
    with catalogue_path("sv").open("rb") as source:
        catalogue = read_po(source, locale="sv")
    english = {str(m.id) for m in catalogue if m.id and m.string != m.id}
    found = []
    for text in texts:
        # ids (skane-entrance-2026, counters_interval_s) and commands are data, not words
        plain = re.sub(r"\b\w+(?:[-_]\w+)+\b|floorwatch quarantine", " ", text)
        found += [f"{m!r} in {text!r}" for m in english if re.search(rf"\b{re.escape(m)}\b", plain)]
        found += [
            f"{w!r} in {text!r}"
            for w in ENGLISH_WORDS
            if re.search(rf"\b{re.escape(w)}\b", plain.lower())
        ]
    return found


SWEDISH = build_dashboards("sv")


@pytest.mark.parametrize("name", sorted(SWEDISH))
def test_no_english_left_in_the_swedish_dashboard(name: str) -> None:
    texts = reader_texts(SWEDISH[name])
    assert len(texts) > 20
    assert not english_left(texts), english_left(texts)
    english = set(reader_texts(build_dashboards("en")[name]))
    kept = [t for t in texts if t in english]  # "Floorwatch", "status", "Data": the same words
    assert len(kept) < 0.15 * len(texts), kept


def test_no_english_left_in_the_swedish_alerts() -> None:
    texts = alert_texts()
    assert len(texts) == 6
    assert not english_left(texts), english_left(texts)


def test_swedish_words_and_numbers_in_the_dashboards_and_alerts() -> None:
    live = SWEDISH["entrance-live"]
    assert live["title"] == "Floorwatch: entréer just nu"
    wet_now = next(p for p in live["panels"] if p["title"] == "Inre golvet vått nu")
    texts = list(_mapping_texts(wet_now["fieldConfig"]["defaults"]["mappings"]))
    assert texts == ["Torrt", "VÅTT"]
    assert f"över 20{NBSP}%" in wet_now["description"]  # "20 %", not "20%"
    outcomes = SWEDISH["supplier-outcomes"]
    titles = [p["title"] for p in outcomes["panels"]]
    for kpi in ("Torr tid", "Ren tid", "Smutsavskiljning", "Datatillgänglighet"):
        assert kpi in titles
    assert f"Halkexponering (per 1{THIN}000 passager)" in titles
    assert "Återhämtning efter väta, 90:e percentilen" in titles
    score = next(p for p in outcomes["panels"] if p["title"] == "Poäng per leverantör och månad")
    assert "Bonus över 0,8, vite under 0,6" in score["description"]
    everything = [t for m in SWEDISH.values() for t in reader_texts(m)] + alert_texts()
    joined = "\n".join(everything)
    assert not re.findall(r"(?<![\d.])\d+\.\d+(?![\d.])", joined)  # no decimal points
    assert "1,000" not in joined
    assert any(t.startswith("Inre golvet vid ") for t in alert_texts())


def test_status_and_column_names_are_translated_where_the_overrides_look() -> None:
    """Grafana runs the transformations (column renames) before the field overrides: an override
    must name the column as renamed, or it would colour nothing."""
    tables = 0
    for model in SWEDISH.values():
        for panel in model["panels"]:
            renames = {
                old: new
                for step in panel.get("transformations", [])
                for old, new in step["options"].get("renameByName", {}).items()
            }
            if panel["type"] != "table":
                continue
            tables += 1
            assert renames, panel["title"]
            names = [o["matcher"]["options"] for o in panel["fieldConfig"]["overrides"]]
            names += [s["displayName"] for s in panel["options"].get("sortBy", [])]
            for name in names:
                assert name not in renames, (panel["title"], name)  # the name before renaming
    assert tables == 4
