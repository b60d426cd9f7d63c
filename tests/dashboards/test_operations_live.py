"""The Operations dashboard on what a real collector writes: simulator messages over a real
Mosquitto (the shipped config) into `floorwatch ingest`'s Collector, into a real InfluxDB.

Time is compressed: the collector writes its counters every 0.5 s instead of 10 s, so the
panels' `$__interval` is filled in as 1 s instead of the 10 to 20 s Grafana would pick for
counters every 10 s.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from floorwatch.registry import Registry
from floorwatch.settings import load_settings, parse_mqtt_url
from floorwatch.store import open_store
from floorwatch.store.influx import InfluxStore
from ingest.collector import Collector
from tests.dashboards.fill import results
from tests.dashboards.simulated import pilot_simulation
from tests.dashboards.test_queries import DASHBOARDS, interpolate, panels, relative_ms
from tests.services import COLLECTOR_USER, SIMULATOR_USER, InfluxDB, Mosquitto

CLIENT_ID = "floorwatch-collector-e2e"
BAD_INPUT = [
    ("floorwatch/up/trb-vastervang-main-inner-moisture", b"{not json"),
    ("floorwatch/up/no-such-sensor", b'{"kind": "moisture", "value": 3}'),
    ("floorwatch/up/trb-vastervang-main-inner-moisture", b'{"kind": "moisture", "value": 9}'),
]


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _publish(url: str, messages: list[tuple[str, bytes]]) -> None:
    """QoS 1, waiting for every PUBACK (mosquitto_pub -l would lose QoS 1 messages)."""
    target = parse_mqtt_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="dash-sim", protocol=mqtt.MQTTv5)
    client.username_pw_set(target.username, target.password)
    client.max_inflight_messages_set(200)
    acked: set[int] = set()
    lock = threading.Lock()

    def on_publish(*args: object) -> None:
        with lock:
            acked.add(int(args[2]))  # type: ignore[call-overload]

    client.on_publish = on_publish
    client.connect(target.host, target.port)
    client.loop_start()
    try:
        mids = [client.publish(topic, payload, qos=1).mid for topic, payload in messages]
        _wait(lambda: acked >= set(mids), 60, "every PUBACK")
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.fixture(scope="module")
def collected(
    influxdb: InfluxDB, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[InfluxStore, int, int]]:
    from tests.services import start_mosquitto

    broker: Mosquitto = start_mosquitto(tmp_path_factory.mktemp("ops") / "mosquitto")
    url = influxdb.url(f"ops_{uuid.uuid4().hex[:12]}")
    now = datetime.now(UTC)
    simulation = pilot_simulation(registry, now)
    start_s = (now - timedelta(hours=2)).timestamp()
    messages = [
        (topic, payload.encode())
        for chunk in simulation.chunks()
        for sent_s, topic, payload in chunk.timed
        if start_s <= sent_s <= now.timestamp()
    ]
    messages += BAD_INPUT
    settings = load_settings(
        mqtt_url=broker.url_for(COLLECTOR_USER),
        store_url=url,
        spool_dir=tmp_path_factory.mktemp("spool"),
        client_id=CLIENT_ID,
        batch_wait_ms=50,
        counters_interval_s=0.5,
    )
    collector = Collector(settings)
    thread = threading.Thread(target=collector.run, daemon=True)
    thread.start()
    store = open_store(url)
    assert isinstance(store, InfluxStore)
    try:
        _wait(lambda: collector.subscribed, 20, "the collector to subscribe")

        def counted(expected: int) -> bool:
            series = store.query(
                f'SELECT last("received") FROM "ingest" WHERE "collector" = \'{CLIENT_ID}\''
            )
            return bool(series) and series[0]["values"][0][1] >= expected

        # Two bursts with a counter point in between, so the counters rise from one point to
        # the next however fast the collector is (one burst can fall between two points).
        half = len(messages) // 2
        _publish(broker.url_for(SIMULATOR_USER), messages[:half])
        _wait(lambda: counted(half), 60, "the collector's counters to count the first half")
        _publish(broker.url_for(SIMULATOR_USER), messages[half:])
        _wait(lambda: counted(len(messages)), 60, "the collector's counters to count every message")
        time.sleep(1.2)  # two more counter points after the last message
    finally:
        collector.request_stop()
        thread.join(timeout=30)
        broker.stop()
    # Analytics' results (kpi, trend, sensor_health...) per the contracts; not the collectors'.
    store.write_points(results(registry, now, collectors=False))
    yield store, int(time.time() * 1000), len(messages)
    store.close()


def test_operations_panels_show_the_real_collectors_counters(
    collected: tuple[InfluxStore, int, int],
) -> None:
    store, now_ms, published = collected
    model = DASHBOARDS["operations"]
    variables = {v["name"]: v["allValue"] for v in model["templating"]["list"]}
    shown: dict[str, list[dict[str, Any]]] = {}
    for panel in panels(model):
        range_ms = relative_ms(panel.get("timeFrom") or model["time"]["from"])
        for target in panel["targets"]:
            query = interpolate(target["query"], variables, now_ms, range_ms, interval="1s")
            series = store.query(query)
            assert sum(len(one["values"]) for one in series) > 0, panel["title"]
            shown[panel["title"]] = series
    # The collector's own id is the series; its rate and its quarantine reasons come through.
    (rates,) = shown["Messages per minute"]
    assert rates["tags"] == {"collector": CLIENT_ID}
    assert max(row[1] or 0 for row in rates["values"]) > 0
    reasons = {one["tags"]["reason"] for one in shown["Quarantined in the time range by reason"]}
    assert {"malformed_json", "unknown_sensor", "missing_field"} <= reasons
    (lag,) = shown["Lag now"]
    assert lag["values"][0][1] >= 0
    assert published > 500


def test_collector_variable_offers_the_real_collector(
    collected: tuple[InfluxStore, int, int],
) -> None:
    store, _now_ms, _published = collected
    model = DASHBOARDS["operations"]
    variable = next(v for v in model["templating"]["list"] if v["name"] == "collector")
    series = store.query(variable["query"])
    assert [row[1] for row in series[0]["values"]] == [CLIENT_ID]


def test_readings_committed_by_the_collector_carry_the_location_tags(
    collected: tuple[InfluxStore, int, int], registry: Registry, tmp_path: Path
) -> None:
    """Dashboards filter on municipality, school and entrance: the collector must tag them."""
    store, _now_ms, _published = collected
    series = store.query(
        'SELECT count("value") FROM "reading" GROUP BY "municipality", "school", "entrance"'
    )
    entrances = {one["tags"]["entrance"] for one in series if one["tags"]["entrance"]}
    assert entrances <= set(registry.entrances) and len(entrances) >= 10
    assert all(one["tags"]["school"] in registry.schools for one in series)
