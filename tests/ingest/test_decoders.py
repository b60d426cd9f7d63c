"""The pure decoders: each format, base fields and relative times, counters, every rejection."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floorwatch.readings import Reading
from floorwatch.registry import Registry
from ingest.decoders import (
    REASONS,
    DecodeContext,
    Decoded,
    Limits,
    SensorCatalog,
    _native_reading,
    _Refused,
    decode,
    decode_native,
)
from tests.ingest.messages import (
    DIRT,
    ELSYS_EUI,
    ELSYS_SENSOR,
    MOISTURE,
    VS350_EUI,
    VS350_SENSOR,
    bad_inputs,
    chirpstack_event,
    chirpstack_topic,
    dumps,
    native_topic,
    rfc3339,
    tts_topic,
    tts_uplink,
)

NOW_MS = 1_795_000_000_000  # 2026-11-18


@pytest.fixture(scope="module")
def catalog(registry: Registry) -> SensorCatalog:
    return SensorCatalog(registry)


def context(catalog: SensorCatalog, **kwargs: Any) -> DecodeContext:
    return DecodeContext(catalog=catalog, now_ms=kwargs.pop("now_ms", NOW_MS), **kwargs)


def test_native_single_reading_with_epoch_seconds(catalog: SensorCatalog) -> None:
    payload = dumps({"ts": 1_794_999_940.5, "kind": "moisture", "value": 12, "seq": 7})
    out = decode(native_topic(MOISTURE), payload, context(catalog))
    assert out.rejections == []
    assert out.readings == [Reading(MOISTURE, "moisture", 1_794_999_940_500, 12.0)]
    assert type(out.readings[0].value) is float


def test_native_batch_with_rfc3339_times_keeps_good_readings(catalog: SensorCatalog) -> None:
    payload = dumps(
        {
            "readings": [
                {"ts": "2026-11-18T08:00:00+01:00", "kind": "moisture", "value": 3.5},
                {"ts": "2026-11-18T07:05:00Z", "kind": "moisture", "value": 101},
                {"ts": "2026-11-18T07:10:00.250Z", "kind": "moisture", "value": 4},
            ]
        }
    )
    out = decode(native_topic(MOISTURE), payload, context(catalog))
    assert [(r.ts_ms, r.value) for r in out.readings] == [
        (_ms("2026-11-18T07:00:00Z"), 3.5),
        (_ms("2026-11-18T07:10:00.250Z"), 4.0),
    ]
    assert [(r.reason, r.detail.split(":")[0]) for r in out.rejections] == [
        ("out_of_range", "readings[1]")
    ]


def _ms(text: str) -> int:
    from datetime import datetime

    return round(datetime.fromisoformat(text).timestamp() * 1000)


def test_senml_base_fields_and_relative_times(catalog: SensorCatalog) -> None:
    pack = [
        {
            "bn": f"urn:dev:floorwatch:{MOISTURE}:",
            "bt": 1_794_999_000,
            "bu": "%",
            "bv": 10,
            "n": "moisture",
            "v": 2.5,
        },
        {"n": "moisture", "t": 300, "v": -1},
        {"n": "moisture", "t": 600, "u": "/", "v": 0.05, "bv": 0},  # ratio -> %
    ]
    out = decode(native_topic(MOISTURE), dumps(pack), context(catalog))
    assert out.rejections == []
    assert [(r.ts_ms, r.value) for r in out.readings] == [
        (1_794_999_000_000, 12.5),
        (1_794_999_300_000, 9.0),
        (1_794_999_600_000, 5.0),
    ]


def test_senml_relative_time_is_relative_to_now(catalog: SensorCatalog) -> None:
    pack = [{"n": "dirt", "u": "%", "v": 40, "t": -120}, {"n": "dirt", "v": 41}]
    out = decode(native_topic(DIRT), dumps(pack), context(catalog))
    assert [(r.kind, r.ts_ms, r.value) for r in out.readings] == [
        ("dirt", NOW_MS - 120_000, 40.0),
        ("dirt", NOW_MS, 41.0),
    ]


def test_senml_rfc_example_shape_with_unknown_names_is_rejected_per_record(
    catalog: SensorCatalog,
) -> None:
    pack = [
        {"bn": "urn:dev:ow:10e2073a01080063:", "n": "voltage", "u": "V", "v": 120.1},
        {"n": "current", "u": "A", "v": 1.2},
    ]
    out = decode(native_topic(MOISTURE), dumps(pack), context(catalog))
    assert out.readings == []
    assert [r.reason for r in out.rejections] == ["bad_senml", "bad_senml"]


def test_things_stack_elsys_scaled_with_link_quality(catalog: SensorCatalog) -> None:
    ts = NOW_MS - 30_000
    message = tts_uplink(ELSYS_EUI, ts, {"waterleak": 255, "temperature": 3.2, "vdd": 3600})
    out = decode(tts_topic(), dumps(message), context(catalog))
    assert out.rejections == []
    values = {r.kind: r.value for r in out.readings}
    assert {r.sensor_id for r in out.readings} == {ELSYS_SENSOR}
    assert {r.ts_ms for r in out.readings} == {ts}
    assert values["moisture"] == pytest.approx(100.0, abs=0.01)
    assert values["temperature"] == 3.2
    assert values["rssi"] == -88.0
    assert values["snr"] == 9.25


def test_chirpstack_people_counter_passages_reset_and_wrap(catalog: SensorCatalog) -> None:
    topic = chirpstack_topic(VS350_EUI)
    totals: dict[str, tuple[int, float]] = {}

    redelivered: list[int] = []

    def uplink(minute: int, total_in: int, total_out: int) -> dict[str, float]:
        ts = NOW_MS - 3_600_000 + minute * 60_000
        event = chirpstack_event(
            VS350_EUI, ts, {"total_in": total_in, "total_out": total_out, "battery": 87}
        )
        out = decode(topic, dumps(event), context(catalog, counter_totals=dict(totals)))
        assert out.rejections == []
        totals.update(out.counter_totals)
        redelivered.append(out.counted_already)
        assert {r.sensor_id for r in out.readings} == {VS350_SENSOR}
        return {r.kind: r.value for r in out.readings}

    first = uplink(0, 1000, 990)
    assert "footfall" not in first  # no previous total: passages unknown
    assert first["battery"] == 87.0 and first["rssi"] == -97.0 and first["snr"] == 7.5
    assert uplink(5, 1030, 1010)["footfall"] == 50.0
    assert uplink(10, 65530, 1020)["footfall"] == 64_500 + 10  # big jump is real counting
    assert uplink(15, 4, 1025)["footfall"] == 10 + 5  # total_in wrapped at 65536
    assert uplink(20, 3, 2)["footfall"] == 3 + 2  # both dropped far: the counter was reset
    # A redelivered older uplink is not counted again, and keeps the totals.
    before = dict(totals)
    assert redelivered == [0] * 5
    assert "footfall" not in uplink(15, 4, 1025)
    assert totals == before
    assert redelivered[-1] == 1  # counted as a duplicate, not dropped silently


def test_chirpstack_partial_mapping_and_missing_fields(catalog: SensorCatalog) -> None:
    topic = chirpstack_topic(VS350_EUI)
    out = decode(
        topic, dumps(chirpstack_event(VS350_EUI, NOW_MS, {"total_in": 5})), context(catalog)
    )
    assert [r.reason for r in out.rejections] == ["missing_field"]
    assert {r.kind for r in out.readings} == {"rssi", "snr"}
    out = decode(
        topic, dumps(chirpstack_event(VS350_EUI, NOW_MS, {"battery": 50})), context(catalog)
    )
    assert out.rejections == []
    assert {r.kind for r in out.readings} == {"battery", "rssi", "snr"}


def test_limits_are_configurable(catalog: SensorCatalog) -> None:
    strict = Limits(max_payload_bytes=64, max_future_ms=0, max_past_ms=60_000)
    ctx = context(catalog, limits=strict)
    topic = native_topic(MOISTURE)
    ahead = dumps({"ts": (NOW_MS + 1000) / 1000, "kind": "moisture", "value": 1})
    behind = dumps({"ts": (NOW_MS - 120_000) / 1000, "kind": "moisture", "value": 1})
    assert decode(topic, ahead, ctx).rejections[0].reason == "time_in_future"
    assert decode(topic, behind, ctx).rejections[0].reason == "time_too_old"
    big = dumps({"readings": [{"ts": 1, "kind": "moisture", "value": 1}] * 3})
    assert decode(topic, big, ctx).rejections[0].reason == "payload_too_large"


@pytest.mark.parametrize("bad", bad_inputs(NOW_MS), ids=lambda b: b.name)
def test_each_bad_input_gets_its_reason(catalog: SensorCatalog, bad: Any) -> None:
    out = decode(bad.topic, bad.payload, context(catalog))
    assert bad.reason in REASONS
    assert len(out.readings) == bad.also_stored
    assert [r.reason for r in out.rejections] == [bad.reason], out.rejections
    assert all(r.detail for r in out.rejections)


def test_bad_input_table_is_broad() -> None:
    table = bad_inputs(NOW_MS)
    assert len(table) >= 30
    assert len({b.reason for b in table}) == len(REASONS)


def test_decoding_is_pure(catalog: SensorCatalog) -> None:
    ctx = context(catalog)
    payload = dumps([{"n": "moisture", "v": 1, "t": -5}])
    assert decode(native_topic(MOISTURE), payload, ctx) == decode(
        native_topic(MOISTURE), payload, ctx
    )
    assert json.loads(payload)  # the payload is left as it was


def test_time_helper_round_trips() -> None:
    assert _ms(rfc3339(NOW_MS)) == NOW_MS


@pytest.mark.parametrize(
    ("record", "kind"),
    [
        ({"bn": "yst-ostra-main-inner-", "n": "moisture"}, "moisture"),  # README: bn + n = sensor
        ({"n": "moisture"}, "moisture"),  # the simulators: n is the kind
        ({"bn": f"{MOISTURE}/", "n": "moisture"}, "moisture"),
        ({"bn": f"urn:dev:floorwatch:{MOISTURE}:", "n": "moisture"}, "moisture"),
    ],
)
def test_senml_names(catalog: SensorCatalog, record: dict[str, str], kind: str) -> None:
    pack = [{**record, "bt": 1_794_999_000, "u": "%", "v": 23.5}]
    out = decode(native_topic(MOISTURE), dumps(pack), context(catalog))
    assert out.rejections == []
    assert out.readings == [Reading(MOISTURE, kind, 1_794_999_000_000, 23.5)]


def test_senml_bare_kind_not_installed(catalog: SensorCatalog) -> None:
    pack = [{"n": "temperature", "u": "Cel", "v": 3, "t": -1}]
    out = decode(native_topic(MOISTURE), dumps(pack), context(catalog))
    assert [r.reason for r in out.rejections] == ["kind_not_installed"]


# --- the in-line path for native readings agrees with the reading-by-reading checks -------------
def _one_by_one(
    sensor_id: str, catalog: SensorCatalog, items: list[Any], ctx: DecodeContext
) -> Decoded:
    """What decode_native gives when every item goes through `_native_reading`."""
    out = Decoded()
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise _Refused("not_an_object", f"got {type(item).__name__}")
            out.readings.append(_native_reading(sensor_id, catalog.ranges[sensor_id], item, ctx))
        except _Refused as refused:
            out.reject(refused.reason, f"readings[{index}]: {refused.detail}")
    return out


def _sampled_sensors(catalog: SensorCatalog) -> list[str]:
    counter = next(s for s in sorted(catalog.ranges) if "footfall" in catalog.ranges[s])
    return [counter, MOISTURE, DIRT]


_NOW_S = NOW_MS // 1000
_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.integers(-5, 2_000),
    st.sampled_from([0, 1, -0.0, 0.5, 1e308, True, False]),
)
_odd = st.one_of(st.none(), st.text(max_size=3), st.lists(st.integers(), max_size=1))
_item_fields = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.one_of(
            st.sampled_from(["footfall", "moisture", "dirt", "temperature", "humidity", "x"]),
            _odd,
            st.integers(),
        ),
        "value": st.one_of(_numbers, _odd),
        "ts": st.one_of(
            st.integers(_NOW_S - 90 * 86_400, _NOW_S + 3_600),
            st.integers(-(10**15), 10**15),
            st.floats(),
            st.sampled_from([True, "2026-11-18T00:00:00Z", "yesterday"]),
            _odd,
        ),
        "seq": st.one_of(st.integers(), st.booleans(), _odd),
        "extra": st.integers(),
    },
)
_plausible = st.fixed_dictionaries(  # mostly valid, near each bound
    {
        "kind": st.sampled_from(["footfall", "moisture", "dirt"]),
        "value": st.one_of(
            st.integers(-2, 120),
            st.floats(-1.0, 150.0),
            st.sampled_from([-0.0, 100.0, 100.5, 1e3, float("nan"), float("inf")]),
        ),
        "ts": st.integers(_NOW_S - 400 * 86_400 - 5, _NOW_S + 305),
    },
    optional={"seq": st.one_of(st.integers(0, 9), st.just(True)), "extra": st.none()},
)
_items = st.lists(
    st.one_of(_plausible, _plausible, _item_fields, _numbers, _odd), min_size=1, max_size=8
)


@settings(max_examples=1_500, suppress_health_check=[HealthCheck.too_slow])
@given(items=_items)
def test_native_readings_in_line_agree_with_the_reading_by_reading_checks(
    catalog: SensorCatalog, items: list[Any]
) -> None:
    ctx = context(catalog)
    for sensor_id in _sampled_sensors(catalog):
        expected = _one_by_one(sensor_id, catalog, items, ctx)
        got = decode_native(sensor_id, catalog.ranges[sensor_id], {"readings": items}, ctx)
        assert got.readings == expected.readings
        assert [type(r.ts_ms) for r in got.readings] == [int] * len(got.readings)
        assert [type(r.value) for r in got.readings] == [float] * len(got.readings)
        assert got.rejections == expected.rejections
        if type(items[0]) is dict:  # the single-reading shape, without the index in the detail
            alone = decode_native(sensor_id, catalog.ranges[sensor_id], items[0], ctx)
            first = _one_by_one(sensor_id, catalog, items[:1], ctx)
            assert alone.readings == first.readings
            assert [r.detail for r in alone.rejections] == [
                r.detail.removeprefix("readings[0]: ") for r in first.rejections
            ]


def test_the_generated_native_items_reach_both_paths(catalog: SensorCatalog) -> None:
    """The sensors the test above decodes for measure footfall and other kinds."""
    kinds = {kind for sensor_id in _sampled_sensors(catalog) for kind in catalog.ranges[sensor_id]}
    assert {"footfall", "moisture", "dirt"} <= kinds
