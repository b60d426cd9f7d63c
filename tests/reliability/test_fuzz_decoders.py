"""Property-based fuzzing of every decoder in ingest/decoders.py.

Whatever arrives (random bytes, random JSON, well-shaped messages with hostile values, mutated
real messages), a decoder returns a `Decoded`: no exception escapes, every rejection carries a
known reason code and a detail, and every reading it lets through is one the store may hold
(known sensor, installed kind, finite value in the kind's range, time inside the window).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floorwatch.readings import VALID_RANGE, Kind
from floorwatch.registry import Registry, load_registry
from ingest.decoders import (
    REASONS,
    DecodeContext,
    Decoded,
    Limits,
    SensorCatalog,
    decode,
    decode_chirpstack,
    decode_native,
    decode_native_topic,
    decode_senml,
    decode_things_stack,
)
from tests.ingest.messages import (
    DIRT,
    ELSYS_EUI,
    FOOTFALL_NATIVE,
    MOISTURE,
    VS350_EUI,
    chirpstack_event,
    chirpstack_topic,
    native_topic,
    tts_topic,
    tts_uplink,
)

NOW_MS = 1_795_000_000_000  # 2026-11-18
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

REGISTRY: Registry = load_registry(None)
CATALOG = SensorCatalog(REGISTRY)
NATIVE_SENSORS = [MOISTURE, DIRT, FOOTFALL_NATIVE]
KINDS = [kind.value for kind in Kind]

# --- strategies ----------------------------------------------------------------------------------
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 0.5, 100, 255, 65535, 65536, 1e308, -0.0, 2**28, 2**31]),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), numbers, st.text(max_size=30), st.sampled_from(KINDS)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
times = st.one_of(
    st.integers(min_value=NOW_MS // 1000 - 500 * 86_400, max_value=NOW_MS // 1000 + 3_600),
    numbers,
    st.text(max_size=40),
    st.sampled_from(
        [
            "2026-11-18T07:00:00Z",
            "2026-11-18T07:00:00+01:00",
            "2026-11-18T07:00:00",
            "2026-13-45T99:00:00Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-11-18T07:00:00.123456789Z",
        ]
    ),
    json_values,
)


def _maybe(key: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), values.map(lambda value: {key: value}))


def _merged(*parts: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(*parts).map(lambda dicts: {k: v for d in dicts for k, v in d.items()})


native_readings = _merged(
    _maybe("ts", times),
    _maybe("kind", st.one_of(st.sampled_from(KINDS), json_values)),
    _maybe("value", st.one_of(numbers, json_values)),
    _maybe("seq", st.one_of(st.integers(), json_values)),
)
native_documents = st.one_of(
    native_readings,
    st.lists(st.one_of(native_readings, json_values), max_size=8).map(lambda r: {"readings": r}),
    st.dictionaries(st.text(max_size=10), json_values, max_size=4).map(
        lambda d: {**d, "readings": d.get("readings", [])}
    ),
)
senml_records = _merged(
    _maybe("bn", st.one_of(st.sampled_from([f"{MOISTURE}:", "urn:dev:", ""]), json_values)),
    _maybe("bt", times),
    _maybe("bu", st.one_of(st.sampled_from(["%", "/", "count", "Cel", "W"]), json_values)),
    _maybe("bv", numbers),
    _maybe("bver", st.one_of(st.integers(min_value=-2, max_value=20), json_values)),
    _maybe(
        "n", st.one_of(st.sampled_from(["", *KINDS, MOISTURE, f"{MOISTURE}:moisture"]), json_values)
    ),
    _maybe("t", times),
    _maybe("u", st.one_of(st.sampled_from(["%", "/", "count", "Cel", "dBm"]), json_values)),
    _maybe("v", st.one_of(numbers, json_values)),
    _maybe("vs", json_values),
    _maybe("vb", json_values),
    _maybe("s", json_values),
)
senml_packs = st.lists(st.one_of(senml_records, json_values), max_size=8)
lorawan_fields = st.dictionaries(
    st.sampled_from(
        ["total_in", "total_out", "period_in", "period_out", "battery", "waterleak", "temperature"]
    )
    | st.text(max_size=8),
    st.one_of(numbers, json_values),
    max_size=6,
)
lorawan_times = st.integers(min_value=NOW_MS - 500 * 86_400_000, max_value=NOW_MS + 3_600_000)
counter_totals = st.dictionaries(
    st.sampled_from(
        [
            f"{s}/footfall/{f}"
            for s in ("yst-ostra-main-entry-footfall",)
            for f in ("total_in", "total_out")
        ]
    )
    | st.text(max_size=20),
    st.tuples(lorawan_times, st.floats(allow_nan=True, allow_infinity=True)),
    max_size=3,
)
limits = st.builds(
    Limits,
    max_payload_bytes=st.integers(min_value=64, max_value=128 * 1024),
    max_future_ms=st.integers(min_value=0, max_value=10**12),
    max_past_ms=st.integers(min_value=0, max_value=10**13),
)
contexts = st.builds(
    DecodeContext,
    catalog=st.just(CATALOG),
    now_ms=st.one_of(st.just(NOW_MS), st.integers(min_value=0, max_value=2**45)),
    limits=st.one_of(st.just(Limits()), limits),
    counter_totals=st.one_of(st.just({}), counter_totals),
)
topics = st.one_of(
    st.sampled_from(NATIVE_SENSORS).map(native_topic),
    st.sampled_from([VS350_EUI, ELSYS_EUI, "0000000000000000", "A840410000000005"]).map(
        chirpstack_topic
    ),
    st.sampled_from(["elsys-ers-1", "nobody"]).map(tts_topic),
    st.text(max_size=60),
    st.sampled_from(["floorwatch/up/", "floorwatch/up/a/b", "application//device//event/up"]),
)


def _dumps(document: Any) -> bytes:
    return json.dumps(document, allow_nan=True).encode()


def _mutations(payload: bytes) -> st.SearchStrategy[bytes]:
    """The payload truncated, with bytes flipped, or with junk spliced in."""
    n = len(payload)
    return st.one_of(
        st.integers(min_value=0, max_value=n).map(lambda i: payload[:i]),
        st.tuples(st.integers(min_value=0, max_value=max(n - 1, 0)), st.integers(0, 255)).map(
            lambda p: payload[: p[0]] + bytes([p[1]]) + payload[p[0] + 1 :]
        ),
        st.tuples(st.integers(min_value=0, max_value=n), st.binary(max_size=12)).map(
            lambda p: payload[: p[0]] + p[1] + payload[p[0] :]
        ),
    )


# --- the properties ------------------------------------------------------------------------------
def check(out: Decoded, context: DecodeContext) -> None:
    """What every decoder result must satisfy, whatever the input."""
    assert isinstance(out, Decoded)
    for rejection in out.rejections:
        assert rejection.reason in REASONS, rejection
        assert isinstance(rejection.detail, str) and rejection.detail.strip(), rejection
    for reading in out.readings:
        place = REGISTRY.sensors.get(reading.sensor_id)
        assert place is not None, reading
        assert reading.kind in place.sensor.kinds, reading
        assert isinstance(reading.value, float) and math.isfinite(reading.value), reading
        low, high = VALID_RANGE.get(Kind(reading.kind), (-math.inf, math.inf))
        assert low <= reading.value <= high, reading
        assert isinstance(reading.ts_ms, int), reading
        assert context.earliest_ms <= reading.ts_ms <= context.latest_ms, reading
    for key, (ts_ms, total) in out.counter_totals.items():
        assert isinstance(key, str) and isinstance(ts_ms, int), (key, ts_ms)
        assert isinstance(total, float), total
    if not out.readings and not out.rejections:
        # A message that yields nothing must say why, unless it only updated counter totals
        # (the first uplink of a people counter: no passages yet, a baseline to count from) or
        # was a people counter's redelivered uplink (counted already: a duplicate).
        assert out.counter_totals or out.counted_already, (
            "a message vanished without readings or a reason"
        )


@FUZZ
@given(topic=topics, payload=st.binary(max_size=300), context=contexts)
def test_any_bytes_on_any_topic(topic: str, payload: bytes, context: DecodeContext) -> None:
    check(decode(topic, payload, context), context)


@FUZZ
@given(topic=topics, document=json_values, context=contexts)
def test_any_json_on_any_topic(topic: str, document: Any, context: DecodeContext) -> None:
    check(decode(topic, _dumps(document), context), context)


@FUZZ
@given(
    sensor=st.sampled_from(NATIVE_SENSORS),
    document=st.one_of(native_documents, senml_packs),
    context=contexts,
)
def test_native_and_senml_shaped_messages(
    sensor: str, document: Any, context: DecodeContext
) -> None:
    check(decode_native_topic(native_topic(sensor), _dumps(document), context), context)


@FUZZ
@given(sensor=st.sampled_from(NATIVE_SENSORS), document=native_documents, context=contexts)
def test_decode_native_directly(
    sensor: str, document: dict[str, Any], context: DecodeContext
) -> None:
    check(decode_native(sensor, CATALOG.ranges[sensor], document, context), context)


@FUZZ
@given(sensor=st.sampled_from(NATIVE_SENSORS), pack=senml_packs, context=contexts)
def test_decode_senml_directly(sensor: str, pack: list[Any], context: DecodeContext) -> None:
    check(decode_senml(sensor, CATALOG.ranges[sensor], pack, context), context)


@FUZZ
@given(
    eui=st.sampled_from([VS350_EUI, ELSYS_EUI, "ffffffffffffffff"]),
    ts_ms=lorawan_times,
    fields=lorawan_fields,
    rssi=numbers,
    snr=numbers,
    drop=st.sets(st.sampled_from(["time", "object", "deviceInfo", "rxInfo"]), max_size=2),
    context=contexts,
)
def test_chirpstack_shaped_events(
    eui: str,
    ts_ms: int,
    fields: dict[str, Any],
    rssi: Any,
    snr: Any,
    drop: set[str],
    context: DecodeContext,
) -> None:
    event = chirpstack_event(eui, ts_ms, fields, rssi=rssi, snr=snr)
    for key in drop:
        event.pop(key)
    check(decode_chirpstack(chirpstack_topic(eui), _dumps(event), context), context)


@FUZZ
@given(
    eui=st.sampled_from([ELSYS_EUI, VS350_EUI, "ffffffffffffffff"]),
    ts_ms=lorawan_times,
    fields=lorawan_fields,
    rssi=numbers,
    snr=numbers,
    drop=st.sets(st.sampled_from(["received_at", "uplink_message", "end_device_ids"]), max_size=2),
    context=contexts,
)
def test_things_stack_shaped_uplinks(
    eui: str,
    ts_ms: int,
    fields: dict[str, Any],
    rssi: Any,
    snr: Any,
    drop: set[str],
    context: DecodeContext,
) -> None:
    uplink = tts_uplink(eui, ts_ms, fields, rssi=rssi, snr=snr)
    for key in drop:
        uplink.pop(key)
    check(decode_things_stack(tts_topic(), _dumps(uplink), context), context)


def _good_messages() -> list[tuple[str, bytes]]:
    ts = NOW_MS - 60_000
    return [
        (native_topic(MOISTURE), _dumps({"ts": ts // 1000, "kind": "moisture", "value": 12.5})),
        (
            native_topic(DIRT),
            _dumps(
                {"readings": [{"ts": ts // 1000 - i, "kind": "dirt", "value": i} for i in range(3)]}
            ),
        ),
        (
            native_topic(MOISTURE),
            _dumps([{"bn": f"{MOISTURE}:", "bt": ts / 1000, "bu": "%", "n": "moisture", "v": 3}]),
        ),
        (
            chirpstack_topic(VS350_EUI),
            _dumps(
                chirpstack_event(VS350_EUI, ts, {"total_in": 120, "total_out": 80, "battery": 90})
            ),
        ),
        (tts_topic(), _dumps(tts_uplink(ELSYS_EUI, ts, {"waterleak": 40, "temperature": 4.5}))),
    ]


@pytest.mark.parametrize("index", range(len(_good_messages())))
@FUZZ
@given(data=st.data(), context=contexts)
def test_mutated_real_messages(index: int, data: st.DataObject, context: DecodeContext) -> None:
    topic, payload = _good_messages()[index]
    mutated = data.draw(_mutations(payload))
    check(decode(topic, mutated, context), context)


def test_the_good_messages_decode() -> None:
    """The seeds of the mutation test are valid: mutations start from real, accepted input."""
    context = DecodeContext(CATALOG, NOW_MS)
    for topic, payload in _good_messages():
        out = decode(topic, payload, context)
        check(out, context)
        assert out.rejections == [], (topic, out.rejections)
