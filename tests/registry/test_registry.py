"""Registry and contracts: the shipped pilot is valid; broken copies name each error and place."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from floorwatch.errors import RegistryError
from floorwatch.registry import PILOT, load_registry
from floorwatch.registry.calendar import easter_sunday, swedish_school_year
from tests.services import REPO


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "pilot"
    shutil.copytree(PILOT, target)
    return target


def _edit(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace the first `count` occurrences; return the 1-based line of the first edit."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, count))
    return line


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "floorwatch", "registry", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def test_example_pilot_is_valid_and_complete() -> None:
    registry = load_registry()
    summary = registry.summary()
    assert summary["municipalities"] == 3
    assert summary["schools"] >= 6
    assert summary["suppliers"] == 3
    assert summary["reference entrances"] >= 1
    for school in registry.document.schools:
        assert len(school.entrances) >= 2
        for entrance in school.entrances:
            assert {s.zone for s in entrance.sensors} == {"outside", "entry", "inner"}
    # every installation starts after the school year began: there is a baseline before it
    for inst in registry.document.installations:
        assert inst.start > date(2026, 8, 19)
    assert registry.content_hash.startswith("sha256:")


def test_validate_command_prints_summary(tmp_path: Path) -> None:
    result = _validate(PILOT)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "sensors" in result.stdout and "91" in result.stdout
    assert "warning" not in result.stderr


def test_content_hash_changes_with_any_file(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    before = load_registry(copy).content_hash
    assert before == load_registry(PILOT).content_hash
    _edit(copy / "contracts.yaml", "target: 0.95", "target: 0.96")
    assert load_registry(copy).content_hash != before


def test_each_error_is_named_with_its_place(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    zone_line = _edit(
        copy / "organisation.yaml",
        "      zone: outside\n      report_interval: 300\n",
        "      report_interval: 300\n",
    )
    _edit(copy / "suppliers.yaml", "supplier: torrgolv", "supplier: golvab")
    result = _validate(copy)
    assert result.returncode != 0
    err = result.stderr
    assert "unknown supplier" not in err  # schema errors are reported before cross-checks
    # the missing zone: a schema error, with file and line of the sensor
    assert "organisation.yaml" in err and "zone" in err and "Field required" in err
    assert (
        f"organisation.yaml:{zone_line - 3}" in err or f"organisation.yaml:{zone_line - 2}" in err
    )


def test_unknown_supplier_and_overlap_are_named(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    supplier_line = _edit(copy / "suppliers.yaml", "supplier: torrgolv", "supplier: golvab")
    suppliers = copy / "suppliers.yaml"
    suppliers.write_text(
        suppliers.read_text()
        + "- id: inst-overlap\n  entrance: yst-ostra-main\n  supplier: entre-ren\n"
        + "  contract: skane-entrance-2026\n  start: 2026-11-01\n"
    )
    overlap_line = len(suppliers.read_text().splitlines()) - 4 + 4  # the `start:` line
    result = _validate(copy)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    unknown = [line for line in lines if "unknown supplier 'golvab'" in line]
    assert unknown and f"suppliers.yaml:{supplier_line}:" in unknown[0]
    overlap = [line for line in lines if "overlaps installation" in line]
    assert overlap and f"suppliers.yaml:{overlap_line}:" in overlap[0]
    assert "yst-ostra-main" in overlap[0]


def test_bad_yaml_is_named_with_line(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    line = _edit(copy / "calendars.yaml", "  opening_hours:\n", "  opening_hours: [unclosed\n")
    result = _validate(copy)
    assert result.returncode != 0
    assert "calendars.yaml" in result.stderr and "bad YAML" in result.stderr
    assert any(f"calendars.yaml:{n}" in result.stderr for n in range(line, line + 4))


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    result = _validate(tmp_path / "nope.yaml")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "no such file" in result.stderr


def test_installation_at_reference_entrance_is_refused(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _edit(copy / "suppliers.yaml", "entrance: yst-ostra-main\n", "entrance: yst-backa-gym\n")
    with pytest.raises(RegistryError) as caught:
        load_registry(copy)
    assert any("reference entrance" in p.message for p in caught.value.problems)


def test_swedish_calendar_defaults() -> None:
    assert easter_sunday(2027) == date(2027, 3, 28)
    assert easter_sunday(2026) == date(2026, 4, 5)
    terms, holidays, breaks = swedish_school_year(2026)
    assert terms[0].start.isocalendar().week == 34
    assert date(2027, 5, 6) in holidays  # Ascension Day 2027
    assert date(2027, 6, 25) not in holidays  # after the spring term: not listed
    names = {b.name: b for b in breaks}
    assert names["autumn break"].start.isocalendar().week == 44
    assert names["winter sports break"].start.isocalendar().week == 7


def test_school_days_exclude_weekends_breaks_and_holidays() -> None:
    days = load_registry().school_days["yst-ostra"]
    assert days.is_school_day(date(2026, 10, 6))  # a Tuesday in term
    assert not days.is_school_day(date(2026, 10, 10))  # Saturday
    assert not days.is_school_day(date(2026, 10, 28))  # autumn break, week 44
    assert not days.is_school_day(date(2027, 5, 6))  # Ascension Day
    assert not days.is_school_day(date(2026, 7, 15))  # summer


def test_installation_lookup_gives_baseline_before_start() -> None:
    registry = load_registry()
    assert registry.installation_on("yst-ostra-main", date(2026, 9, 15)) is None
    inst = registry.installation_on("yst-ostra-main", date(2026, 10, 15))
    assert inst is not None and inst.supplier in registry.suppliers
    assert registry.installation_on("yst-backa-gym", date(2026, 10, 15)) is None


def test_pilot_lorawan_mapping() -> None:
    registry = load_registry()
    counters = [p for p in registry.sensors_by_dev_eui.values() if p.sensor.kind == "footfall"]
    assert counters and all(p.school.municipality == "ystad" for p in counters)
    mapping = counters[0].sensor.lorawan.mappings[0]  # type: ignore[union-attr]
    assert mapping.cumulative and mapping.fields == ["total_in", "total_out"]


def test_repo_path_is_repo() -> None:
    assert (REPO / "pyproject.toml").exists()
