"""What the shipped broker config (deploy/mosquitto) guarantees, on a real Mosquitto with the
collector and SQLite: client ids are bound to accounts, service accounts cannot publish as a
sensor, retained messages are refused, and a SIGKILL of the broker loses no message it had
acknowledged."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from floorwatch.registry import Registry
from floorwatch.store import open_store
from tests.ingest.helpers import (
    Publisher,
    collector_settings,
    publisher,
    running_collector,
    wait_until,
)
from tests.ingest.messages import MOISTURE, native_batches, native_topic
from tests.services import COLLECTOR_USER, SIMULATOR_USER, TEST_PASSWORD, Mosquitto, start_mosquitto

DEVICE_PASSWORD = "device-secret"


def _connect(broker: Mosquitto, user: str, password: str, client_id: str) -> mqtt.Client:
    """A client connected with clean start and no session expiry: the impostor's way of wiping
    a session with that client id."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0
    client.connect("127.0.0.1", broker.port, clean_start=True, properties=properties)
    client.loop_start()
    assert connected.wait(10)
    return client


def test_a_device_using_the_collectors_client_id_gets_its_own_session(
    tmp_path: Path, registry: Registry
) -> None:
    broker = start_mosquitto(tmp_path / "mosquitto", extra_users={MOISTURE: DEVICE_PASSWORD})
    sqlite_url = f"sqlite:///{tmp_path / 'floorwatch.db'}"
    settings = collector_settings(broker, sqlite_url, tmp_path)
    messages = native_batches(registry, 1_000, per_message=10)
    store = open_store(sqlite_url)
    try:
        with running_collector(settings):
            pass  # the persistent session exists; the collector is stopped
        with publisher(broker.url_for(SIMULATOR_USER)) as pub:
            pub.publish_all(messages[:50])  # queued in the collector's session
        # The impostor takes the collector's client id (the one it sends, and the account name
        # the broker names its session by) with clean start, while the collector is away.
        for client_id in (settings.client_id, COLLECTOR_USER):
            impostor = _connect(broker, MOISTURE, DEVICE_PASSWORD, client_id)
            impostor.disconnect()
            impostor.loop_stop()
        with running_collector(settings) as collector:
            wait_until(lambda: store.count_readings() == 500, 20, "the 500 queued readings")
            # ... and again while the collector runs: it is not disconnected, nothing is lost.
            with publisher(broker.url_for(SIMULATOR_USER)) as pub:
                stream = threading.Thread(
                    target=lambda: pub.publish_all(messages[50:], pause_s=0.01)
                )
                stream.start()
                for round_ in range(10):
                    impostor = _connect(
                        broker,
                        MOISTURE,
                        DEVICE_PASSWORD,
                        (settings.client_id, COLLECTOR_USER)[round_ % 2],
                    )
                    time.sleep(0.1)
                    impostor.disconnect()
                    impostor.loop_stop()
                stream.join(timeout=60)
            wait_until(lambda: store.count_readings() == 1_000, 20, "all 1,000 readings")
            time.sleep(0.3)
            assert store.count_readings() == 1_000
            assert collector.counters.snapshot().received == len(messages)
        log = (broker.workdir / "mosquitto.log").read_text()
        # one connection of the collector per run: never closed for an impostor
        assert log.count(f"as {COLLECTOR_USER} (") == 2
        assert "already connected, closing old connection" not in log
    finally:
        store.close()
        broker.stop()


def test_service_accounts_cannot_publish_as_a_sensor_and_devices_only_as_themselves(
    mosquitto: Mosquitto,
) -> None:
    own_name = [COLLECTOR_USER, "floorwatch-collector-2"]
    for user in own_name:
        with publisher(mosquitto.url_for(user)) as pub:
            [code] = pub.publish_all([(native_topic(user), b"{}")])
            assert code.getName() == "Not authorized", user


def test_retained_messages_are_refused(mosquitto: Mosquitto) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="r", protocol=mqtt.MQTTv5)
    client.username_pw_set(SIMULATOR_USER, TEST_PASSWORD)
    reasons: list[str] = []
    gone = threading.Event()

    def on_disconnect(*args: object) -> None:
        reasons.append(str(args[3]))
        gone.set()

    client.on_disconnect = on_disconnect
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        client.publish(native_topic(MOISTURE), b'{"kind": "moisture"}', qos=1, retain=True)
        assert gone.wait(10)
    finally:
        client.loop_stop()
    assert reasons[0] == "Retain not supported"


def test_a_broker_sigkill_loses_no_acknowledged_message(tmp_path: Path, registry: Registry) -> None:
    broker = start_mosquitto(tmp_path / "mosquitto")
    sqlite_url = f"sqlite:///{tmp_path / 'floorwatch.db'}"
    settings = collector_settings(broker, sqlite_url, tmp_path)
    messages = native_batches(registry, 1_000, per_message=10)
    store = open_store(sqlite_url)
    try:
        with running_collector(settings):
            pass
        pub = Publisher(broker.url_for(SIMULATOR_USER))
        pub.publish_all(messages)  # every message PUBACKed: queued for the stopped collector
        pub.close()
        time.sleep(1)  # the finding: 5 s later, still inside the old 30 s autosave interval
        broker.kill()
        broker.start()
        with running_collector(settings):
            wait_until(lambda: store.count_readings() == 1_000, 20, "the 1,000 queued readings")
            time.sleep(0.3)
        assert store.count_readings() == 1_000
    finally:
        store.close()
        broker.stop()
