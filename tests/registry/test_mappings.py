"""LoRaWAN field mappings in the registry: value maps, payload paths, source units and battery
curves, logged records, device models, climate sensors. The pilot shows each; `registry
validate` refuses what cannot work and warns about what never matches, with its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from floorwatch.errors import RegistryError
from floorwatch.readings import Kind
from floorwatch.registry import load_registry
from floorwatch.registry.schema import FieldMapping, parse_path
from tests.registry.test_registry import _copy, _edit, _validate


def test_the_pilot_shows_every_mapping_feature() -> None:
    lorawan = [p.sensor for p in load_registry().sensors.values() if p.sensor.lorawan]
    mappings = [m for s in lorawan for m in s.lorawan.mappings]  # type: ignore[union-attr]
    assert any(m.values for m in mappings)  # value maps
    assert any("." in name or "[" in name for m in mappings for name in m.fields)  # paths
    assert any(m.unit == "V" and m.empty is not None for m in mappings)  # battery curve
    assert any(m.records and m.time_field for m in mappings)  # logged records
    assert any(s.kind in (Kind.TEMPERATURE, Kind.HUMIDITY) for s in lorawan)  # climate
    assert all(s.lorawan.model for s in lorawan if not all(m.plain for m in s.lorawan.mappings))  # type: ignore[union-attr]


def test_validate_passes_on_the_pilot_without_warnings() -> None:
    result = _validate(Path("floorwatch/pilot"))
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr


def test_value_map_keys_are_keyed_as_decoded_values() -> None:
    mapping = FieldMapping.model_validate(
        {"kind": "moisture", "fields": ["leak"], "values": {True: 100, False: 0, 2: 50}}
    )
    assert mapping.values == {"true": 100.0, "false": 0.0, "2": 50.0}
    assert not mapping.plain


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("line_1.total_in", ("line_1", "total_in")),
        ("sensors[0].value", ("sensors", 0, "value")),
        ("history[*]", ("history", -1)),
    ],
)
def test_paths(path: str, steps: tuple[str | int, ...]) -> None:
    assert parse_path(path) == steps


@pytest.mark.parametrize("path", ["a..b", "[0]", "a.", "a[x]", "a[0]b", ""])
def test_bad_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="bad path"):
        parse_path(path)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"kind": "battery", "fields": ["BAT_V"]}, "reads as volts"),
        ({"kind": "battery", "fields": ["vbat"], "unit": "V"}, "needs empty and full"),
        ({"kind": "moisture", "fields": ["v"], "unit": "V", "empty": 1, "full": 2}, "battery only"),
        ({"kind": "battery", "fields": ["b"], "unit": "V", "empty": 3, "full": 2}, "below full"),
        ({"kind": "temperature", "fields": ["t"], "unit": "degF"}, "not one of temperature"),
        ({"kind": "moisture", "fields": ["s"], "records": "history[*]"}, "needs time_field"),
        ({"kind": "moisture", "fields": ["history[*].s"]}, "belongs in records"),
        ({"kind": "footfall", "fields": ["a.b..c"]}, "bad path"),
        (
            {"kind": "footfall", "fields": ["t"], "cumulative": True, "values": {"x": 1}},
            "cannot have a value map",
        ),
    ],
)
def test_mappings_that_cannot_work_are_refused(mapping: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FieldMapping.model_validate(mapping)


def test_a_battery_in_volts_is_refused_with_its_place(tmp_path: Path) -> None:
    """The Browan TBWL100's `battery` is in volts (its decoder says so): without unit: V the
    registry would store 3.6 V as 3.6 %."""
    copy = _copy(tmp_path)
    line = _edit(
        copy / "organisation.yaml",
        "          unit: V\n          empty: 3.1\n          full: 3.6\n",
        "",
    )
    with pytest.raises(RegistryError) as caught:
        load_registry(copy)
    problem = caught.value.problems[0]
    assert "organisation.yaml" in problem.file and problem.line is not None
    assert abs(problem.line - line) < 6
    assert "battery of browan/tbwl100 is in V" in problem.message


def test_a_path_the_device_never_sends_is_a_warning_with_its_place(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    line = _edit(
        copy / "organisation.yaml",
        "          - line_1.total_out\n",
        "          - line_1.totl_out\n",
    )
    result = _validate(copy)
    assert result.returncode == 0, result.stderr  # valid, but said
    warning = next(w for w in result.stderr.splitlines() if w.startswith("warning:"))
    assert f"organisation.yaml:{line}:" in warning
    assert "'line_1.totl_out' is never in the decoded payload of milesight-iot/vs133" in warning
    assert "line_1.total_out" in warning  # what it does give


def test_an_unknown_model_is_a_warning(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _edit(copy / "organisation.yaml", "model: browan/tbwl100", "model: browan/tbwl999")
    registry = load_registry(copy)
    assert len(registry.warnings) == 1
    assert "no decoder output known for model 'browan/tbwl999'" in registry.warnings[0].message


def test_a_logged_records_path_is_checked_against_the_model(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _edit(copy / "organisation.yaml", "records: history[*]", "records: log[*]")
    (warning,) = load_registry(copy).warnings
    assert "'leakage_status' in log[*] is never in the decoded payload" in warning.message
