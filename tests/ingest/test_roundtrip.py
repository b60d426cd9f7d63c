"""Each wire format from a real QoS 1 publish through real Mosquitto and the collector into the
store (both backends); bad input quarantined with the right reason while good input flows on."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from floorwatch.registry import Registry
from floorwatch.store import Store
from tests.ingest.helpers import (
    collector_settings,
    publisher,
    running_collector,
    wait_until,
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
from tests.services import SIMULATOR_USER, Mosquitto

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FAR = datetime(2100, 1, 1, tzinfo=UTC)


def stored(store: Store) -> set[tuple[str, str, int, float]]:
    """Every stored reading as (sensor_id, kind, ts_ms, value rounded to 0.001)."""
    frame = store.read_readings(EPOCH, FAR)
    times_ms = (frame["time"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    return {
        (str(sensor), str(kind), int(ts), round(float(value), 3))
        for sensor, kind, ts, value in zip(
            frame["sensor_id"], frame["kind"], times_ms, frame["value"], strict=True
        )
    }


def test_every_format_round_trips(
    mosquitto: Mosquitto, store_url: str, store: Store, tmp_path: Path
) -> None:
    now = int(time.time() * 1000) // 1000 * 1000
    t0 = now - 3_600_000
    messages = [
        # native: one reading (epoch seconds) and a batch (RFC 3339)
        (native_topic(MOISTURE), dumps({"ts": t0 / 1000, "kind": "moisture", "value": 7.5})),
        (
            native_topic(DIRT),
            dumps(
                {
                    "readings": [
                        {"ts": rfc3339(t0 + i * 60_000), "kind": "dirt", "value": 20 + i, "seq": i}
                        for i in range(5)
                    ]
                }
            ),
        ),
        # SenML with base name, time, unit and value, then relative times
        (
            native_topic(MOISTURE),
            dumps(
                [
                    {
                        "bn": f"{MOISTURE}:",
                        "bt": (t0 + 60_000) / 1000,
                        "bu": "%",
                        "bv": 10,
                        "n": "moisture",
                        "v": 1.5,
                    },
                    {"n": "moisture", "t": 60, "v": 2.5},
                    {"n": "moisture", "t": 120, "u": "/", "bv": 0, "v": 0.125},
                ]
            ),
        ),
        # ChirpStack v4: two uplinks of a people counter (the second gives passages)
        (
            chirpstack_topic(VS350_EUI),
            dumps(
                chirpstack_event(VS350_EUI, t0, {"total_in": 100, "total_out": 90, "battery": 80})
            ),
        ),
        (
            chirpstack_topic(VS350_EUI),
            dumps(
                chirpstack_event(
                    VS350_EUI, t0 + 300_000, {"total_in": 130, "total_out": 112, "battery": 80}
                )
            ),
        ),
        # The Things Stack v3: an Elsys leak sensor, 0..255 scaled to %
        (tts_topic(), dumps(tts_uplink(ELSYS_EUI, t0, {"waterleak": 51, "temperature": 2.5}))),
    ]
    settings = collector_settings(mosquitto, store_url, tmp_path)
    with (
        running_collector(settings) as collector,
        publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
    ):
        codes = pub.publish_all(messages)
        assert all(not code.is_failure for code in codes)
        expected = {
            (MOISTURE, "moisture", t0, 7.5),
            *((DIRT, "dirt", t0 + i * 60_000, 20.0 + i) for i in range(5)),
            (MOISTURE, "moisture", t0 + 60_000, 11.5),
            (MOISTURE, "moisture", t0 + 120_000, 12.5),
            (MOISTURE, "moisture", t0 + 180_000, 12.5),
            (VS350_SENSOR, "battery", t0, 80.0),
            (VS350_SENSOR, "rssi", t0, -97.0),
            (VS350_SENSOR, "snr", t0, 7.5),
            (VS350_SENSOR, "battery", t0 + 300_000, 80.0),
            (VS350_SENSOR, "footfall", t0 + 300_000, 52.0),
            (VS350_SENSOR, "rssi", t0 + 300_000, -97.0),
            (VS350_SENSOR, "snr", t0 + 300_000, 7.5),
            (ELSYS_SENSOR, "moisture", t0, 20.0),
            (ELSYS_SENSOR, "temperature", t0, 2.5),
            (ELSYS_SENSOR, "rssi", t0, -88.0),
            (ELSYS_SENSOR, "snr", t0, 9.25),
        }
        wait_until(lambda: len(stored(store)) >= len(expected), 20, "all readings stored")
        assert stored(store) == expected
        wait_until(lambda: collector.counters.snapshot().acknowledged == len(messages), 5, "acks")
        snapshot = collector.counters.snapshot()
        assert snapshot.received == len(messages)
        assert snapshot.quarantined == 0
    assert store.read_quarantine() == []
    # The counters were written to the store as `ingest` points when the collector stopped.
    points = store.read_points("ingest", tags={"collector": settings.client_id})
    assert len(points) >= 1
    assert float(points.iloc[-1]["acknowledged"]) == len(messages)


def test_bad_input_is_quarantined_and_good_input_flows(
    mosquitto: Mosquitto, store_url: str, store: Store, tmp_path: Path
) -> None:
    now = int(time.time() * 1000) // 1000 * 1000
    table = bad_inputs(now)
    messages = []
    good = []
    for index, bad in enumerate(table):
        ts = now - 7_200_000 + index * 60_000
        good.append((MOISTURE, "moisture", ts, float(index)))
        messages.append(
            (native_topic(MOISTURE), dumps({"ts": ts / 1000, "kind": "moisture", "value": index}))
        )
        messages.append((bad.topic, bad.payload))
    also_stored = sum(bad.also_stored for bad in table)
    settings = collector_settings(mosquitto, store_url, tmp_path)
    with (
        running_collector(settings) as collector,
        publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
    ):
        pub.publish_all(messages)
        wait_until(
            lambda: collector.counters.snapshot().acknowledged == len(messages), 20, "all acked"
        )
        snapshot = collector.counters.snapshot()
    readings = stored(store)
    assert set(good) <= readings
    assert len(readings) == len(good) + also_stored
    records = store.read_quarantine(limit=1000)
    assert Counter((r.topic, r.reason) for r in records) == Counter(
        (bad.topic, bad.reason) for bad in table
    )
    assert all(r.detail and r.received_ms > 0 for r in records)
    oversize = next(r for r in records if r.reason == "payload_too_large")
    assert len(oversize.payload) == 2_000  # truncated
    assert snapshot.quarantined_by_reason == dict(Counter(bad.reason for bad in table))
    per_reason = store.read_points("ingest_quarantine", tags={"collector": settings.client_id})
    assert set(per_reason["reason"]) == {bad.reason for bad in table}


@pytest.mark.parametrize("share", [None, "floorwatch"])
def test_persistent_session_keeps_messages_while_collector_is_away(
    mosquitto: Mosquitto, sqlite_url: str, tmp_path: Path, share: str | None
) -> None:
    """Subscribe once, stop; messages published meanwhile arrive at the next start."""
    from floorwatch.store import open_store

    settings = collector_settings(mosquitto, sqlite_url, tmp_path, share_group=share)
    with running_collector(settings):
        pass
    now = int(time.time() * 1000) // 1000 * 1000
    messages = [
        (
            native_topic(MOISTURE),
            dumps({"ts": (now - i * 1000) / 1000, "kind": "moisture", "value": 1}),
        )
        for i in range(200)
    ]
    with publisher(mosquitto.url_for(SIMULATOR_USER)) as pub:
        pub.publish_all(messages)
    store = open_store(sqlite_url)
    try:
        assert store.count_readings() == 0
        with running_collector(settings):
            wait_until(lambda: store.count_readings() == 200, 20, "the queued readings")
    finally:
        store.close()


def test_embedded_broker_round_trip_with_mqtt_3_1_1(sqlite_url: str, tmp_path: Path) -> None:
    """The demo's in-process amqtt broker speaks MQTT 3.1.1 only: the collector falls back to a
    clean_session=False session there and still acknowledges after the commit."""
    from floorwatch.broker import EmbeddedBroker
    from floorwatch.settings import load_settings
    from floorwatch.store import open_store

    with EmbeddedBroker() as broker:
        settings = load_settings(
            mqtt_url=broker.url,
            store_url=sqlite_url,
            spool_dir=tmp_path / "spool",
            client_id="demo-collector",
            batch_wait_ms=50,
        )
        now = int(time.time())
        messages = [
            (native_topic(MOISTURE), dumps({"ts": now - i, "kind": "moisture", "value": i % 50}))
            for i in range(1, 201)
        ]
        store = open_store(sqlite_url)
        try:
            with running_collector(settings) as collector:
                with publisher(broker.url) as pub:
                    pub.publish_all(messages)
                wait_until(lambda: store.count_readings() == 200, 20, "readings via amqtt")
                wait_until(
                    lambda: collector.counters.snapshot().acknowledged == 200, 10, "the acks"
                )
        finally:
            store.close()


def test_duplicates_are_stored_once_and_counted(
    mosquitto: Mosquitto, sqlite_url: str, tmp_path: Path
) -> None:
    from floorwatch.store import open_store

    now = int(time.time())
    messages = [
        (native_topic(MOISTURE), dumps({"ts": now - i, "kind": "moisture", "value": 5}))
        for i in range(1, 21)
    ]
    settings = collector_settings(mosquitto, sqlite_url, tmp_path)
    store = open_store(sqlite_url)
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            pub.publish_all(messages)
            wait_until(lambda: collector.counters.snapshot().acknowledged == 20, 10, "first")
            pub.publish_all(messages)  # a device resending after a lost PUBACK, say
            wait_until(lambda: collector.counters.snapshot().acknowledged == 40, 10, "second")
            snapshot = collector.counters.snapshot()
        assert store.count_readings() == 20
        assert (snapshot.stored, snapshot.duplicates) == (20, 20)
    finally:
        store.close()


def test_counter_totals_survive_a_collector_restart(
    mosquitto: Mosquitto, store_url: str, store: Store, tmp_path: Path
) -> None:
    """A people counter's passages are the increase of its running totals: the previous totals
    are kept across a restart, so the first uplink after it still yields its passages."""
    settings = collector_settings(mosquitto, store_url, tmp_path)
    t0 = (int(time.time()) - 3_600) * 1000
    topic = chirpstack_topic(VS350_EUI)

    def uplink(ts: int, total_in: int, total_out: int) -> list[tuple[str, bytes]]:
        fields = {"total_in": total_in, "total_out": total_out}
        return [(topic, dumps(chirpstack_event(VS350_EUI, ts, fields)))]

    with publisher(mosquitto.url_for(SIMULATOR_USER)) as pub:
        with running_collector(settings) as collector:
            pub.publish_all(uplink(t0, 65_500, 200))
            wait_until(lambda: collector.counters.snapshot().acknowledged == 1, 10, "uplink 1")
        with running_collector(settings) as collector:
            pub.publish_all(uplink(t0 + 300_000, 20, 230))  # total_in wrapped at 65536
            wait_until(lambda: collector.counters.snapshot().acknowledged == 1, 10, "uplink 2")
    frame = store.read_readings(EPOCH, FAR, kinds=["footfall"])
    assert list(frame["value"]) == [56.0 + 30.0]


def test_simulated_sensors_of_every_format_are_all_stored(
    mosquitto: Mosquitto, sqlite_url: str, registry: Registry, tmp_path: Path
) -> None:
    """The simulators' messages (native, SenML, ChirpStack, TTS; faults off) through the broker:
    nothing quarantined, every reading the decoders find in them stored."""
    from datetime import date, timedelta

    from floorwatch.store import open_store
    from ingest.decoders import DecodeContext, SensorCatalog, decode
    from simulators import load_scenario, simulate

    start = date.today() - timedelta(days=2)
    sim = simulate(registry, load_scenario().without_faults(), start, days=1, seed=7)
    messages = list(itertools.islice(sim.messages(), 2_000))
    topics = {topic.split("/")[0] for topic, _ in messages}
    assert topics == {"floorwatch", "application", "v3"}  # every format is in the sample

    catalog = SensorCatalog(registry)
    now_ms = int(time.time() * 1000)
    totals: dict[str, tuple[int, float]] = {}
    expected: set[tuple[str, str, int]] = set()
    for topic, payload in messages:
        out = decode(topic, payload, DecodeContext(catalog, now_ms, counter_totals=totals))
        assert out.rejections == []
        totals.update(out.counter_totals)
        expected.update((r.sensor_id, r.kind, r.ts_ms) for r in out.readings)

    settings = collector_settings(mosquitto, sqlite_url, tmp_path)
    store = open_store(sqlite_url)
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            pub.publish_all(messages)
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == len(messages), 30, "acks"
            )
        assert store.read_quarantine() == []
        assert {(s, k, t) for s, k, t, _ in stored(store)} == expected
    finally:
        store.close()


def test_a_message_full_of_bad_readings_is_quarantined_briefly(
    mosquitto: Mosquitto, sqlite_url: str, tmp_path: Path
) -> None:
    """100 out-of-range readings in one batch: all counted, 20 records kept, good ones stored."""
    from floorwatch.store import open_store

    now = int(time.time())
    readings = [{"ts": now - i, "kind": "moisture", "value": 500} for i in range(1, 101)]
    readings.append({"ts": now - 200, "kind": "moisture", "value": 50})
    settings = collector_settings(mosquitto, sqlite_url, tmp_path)
    store = open_store(sqlite_url)
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            pub.publish_all([(native_topic(MOISTURE), dumps({"readings": readings}))])
            wait_until(lambda: collector.counters.snapshot().acknowledged == 1, 10, "the ack")
            assert collector.counters.snapshot().quarantined_by_reason == {"out_of_range": 100}
        records = store.read_quarantine(limit=1000)
        assert len(records) == 20
        assert any("(and 80 more rejections in this message)" in r.detail for r in records)
        assert store.count_readings() == 1
    finally:
        store.close()
