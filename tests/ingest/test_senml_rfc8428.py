"""The JSON examples of RFC 8428 (SenML), section 5.1, with only names and times adapted: the
record names become the URN of a pilot climate sensor (urn:dev:ow:<sensor id>, for the RFC's
urn:dev:ow:10e2073a01080063) and base times move to the last hour (the RFC's 2010/2011 times
are older than the collector accepts). Each gives the readings its units say; units no kind
of Floorwatch has (V, A, lon, lat) and non-numeric values are refused with a reason."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from floorwatch.registry import Registry
from ingest.decoders import DecodeContext, Decoded, SensorCatalog, decode
from tests.ingest.messages import dumps

CLIMATE = "yst-ostra-main-entry-climate"  # own kind temperature; also humidity and battery
URN = f"urn:dev:ow:{CLIMATE}"
NOW_S = 1_796_000_000
BT = NOW_S - 3600.0  # for the RFC's bt 1.320067464e+09 (5.1.3, 5.1.4)


@pytest.fixture(scope="module")
def catalog(registry: Registry) -> SensorCatalog:
    return SensorCatalog(registry)


def _decode(catalog: SensorCatalog, pack: list[dict[str, Any]]) -> Decoded:
    context = DecodeContext(catalog, NOW_S * 1000)
    return decode(f"floorwatch/up/{CLIMATE}", dumps(pack), context)


def _readings(out: Decoded) -> set[tuple[str, int, float]]:
    return {(r.kind, r.ts_ms, r.value) for r in out.readings}


def test_5_1_1_single_datapoint(catalog: SensorCatalog) -> None:
    out = _decode(catalog, [{"n": URN, "u": "Cel", "v": 23.1}])
    assert _readings(out) == {("temperature", NOW_S * 1000, 23.1)}  # no time: now
    assert out.rejections == []


def test_5_1_2_multiple_datapoints_of_units_without_a_kind(catalog: SensorCatalog) -> None:
    first = _decode(
        catalog,
        [
            {"bn": f"{URN}:", "n": "voltage", "u": "V", "v": 120.1},
            {"n": "current", "u": "A", "v": 1.2},
        ],
    )
    bt = NOW_S - 60 + 0.001  # for the RFC's 1.276020076001e+09
    second = _decode(
        catalog,
        [
            {"bn": f"{URN}:", "bt": bt, "bu": "A", "bver": 5, "n": "voltage", "u": "V", "v": 120.1},
            {"n": "current", "t": -5, "v": 1.2},
            {"n": "current", "t": -4, "v": 1.3},
            {"n": "current", "t": -3, "v": 1.4},
            {"n": "current", "t": -2, "v": 1.5},
            {"n": "current", "t": -1, "v": 1.6},
            {"n": "current", "v": 1.7},
        ],
    )
    for out, records in ((first, 2), (second, 7)):
        assert out.readings == []
        assert [r.reason for r in out.rejections] == ["unknown_kind"] * records
    assert "'voltage'" in first.rejections[0].detail


MULTIPLE_MEASUREMENTS: list[dict[str, Any]] = [  # 5.1.3
    {"bn": URN, "bt": BT, "bu": "%RH", "v": 20},
    {"u": "lon", "v": 24.30621},
    {"u": "lat", "v": 60.07965},
    {"t": 60, "v": 20.3},
    {"u": "lon", "t": 60, "v": 24.30622},
    {"u": "lat", "t": 60, "v": 60.07965},
    {"t": 120, "v": 20.7},
    {"u": "lon", "t": 120, "v": 24.30623},
    {"u": "lat", "t": 120, "v": 60.07966},
    {"u": "%EL", "t": 150, "v": 98},
    {"t": 180, "v": 21.2},
    {"u": "lon", "t": 180, "v": 24.30628},
    {"u": "lat", "t": 180, "v": 60.07967},
]
EXPECTED_MEASUREMENTS = {
    ("humidity", int(BT * 1000), 20.0),
    ("humidity", int(BT * 1000) + 60_000, 20.3),
    ("humidity", int(BT * 1000) + 120_000, 20.7),
    ("battery", int(BT * 1000) + 150_000, 98.0),
    ("humidity", int(BT * 1000) + 180_000, 21.2),
}


def test_5_1_3_multiple_measurements_take_their_kind_from_the_unit(
    catalog: SensorCatalog,
) -> None:
    out = _decode(catalog, MULTIPLE_MEASUREMENTS)
    assert _readings(out) == EXPECTED_MEASUREMENTS
    # longitude and latitude are no kind of this sensor's
    assert Counter(r.reason for r in out.rejections) == {"bad_senml": 8}
    assert all("'lon'" in r.detail or "'lat'" in r.detail for r in out.rejections)


def test_5_1_4_resolved_data_gives_the_same_readings(catalog: SensorCatalog) -> None:
    resolved = []
    for record in MULTIPLE_MEASUREMENTS:
        unit = record.get("u", "%RH")
        resolved.append({"n": URN, "u": unit, "t": BT + record.get("t", 0), "v": record["v"]})
    out = _decode(catalog, resolved)
    assert _readings(out) == EXPECTED_MEASUREMENTS
    assert Counter(r.reason for r in out.rejections) == {"bad_senml": 8}


def test_5_1_5_multiple_data_types(catalog: SensorCatalog) -> None:
    out = _decode(
        catalog,
        [
            {"bn": f"{URN}:", "n": "temperature", "u": "Cel", "v": 23.1},
            {"n": "label", "vs": "Machine Room"},
            {"n": "open", "vb": False},
            {"n": "nfc-reader", "vd": "aGkgCg"},
        ],
    )
    assert _readings(out) == {("temperature", NOW_S * 1000, 23.1)}
    assert [r.reason for r in out.rejections] == ["wrong_type"] * 3


def test_a_record_repeated_in_a_pack_is_a_duplicate(catalog: SensorCatalog) -> None:
    same = _decode(
        catalog,
        [{"bn": URN, "bt": BT, "u": "Cel", "v": 21.5}, {"n": "", "u": "Cel", "v": 21.5}],
    )
    assert _readings(same) == {("temperature", int(BT * 1000), 21.5)}
    assert same.counted_already == 1 and same.rejections == []
    differing = _decode(
        catalog,
        [{"bn": URN, "bt": BT, "u": "Cel", "v": 21.5}, {"u": "Cel", "v": 22.0}],
    )
    assert _readings(differing) == {("temperature", int(BT * 1000), 21.5)}  # the first kept
    assert differing.counted_already == 1
    assert [r.reason for r in differing.rejections] == ["duplicate_time"]
    assert "22.0" in differing.rejections[0].detail and "21.5" in differing.rejections[0].detail
