"""A round trip through a real Mosquitto started with the shipped config (persistence, passwords,
ACL), using paho-mqtt as the collector and the devices will."""

from __future__ import annotations

import queue
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.services import COLLECTOR_USER, SIMULATOR_USER, TEST_PASSWORD, Mosquitto, start_mosquitto


def _client(broker: Mosquitto, user: str, password: str, client_id: str = "") -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id or uuid.uuid4().hex, protocol=mqtt.MQTTv5
    )
    client.username_pw_set(user, password)
    return client


def _subscriber(broker: Mosquitto, topic: str, client_id: str, clean: bool = True):
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    subscribed = threading.Event()
    client = _client(broker, COLLECTOR_USER, TEST_PASSWORD, client_id)
    client.on_message = lambda c, u, msg: received.put((msg.topic, bytes(msg.payload)))
    client.on_subscribe = lambda *args: subscribed.set()

    def on_connect(c: mqtt.Client, userdata: object, flags: object, rc: object, props: object):
        c.subscribe(topic, qos=1)

    client.on_connect = on_connect
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    client.connect("127.0.0.1", broker.port, clean_start=clean, properties=props)
    client.loop_start()
    assert subscribed.wait(10)
    return client, received


def _disconnect(client: mqtt.Client) -> None:
    """Disconnect and wait until the broker has seen the DISCONNECT (the session then persists)."""
    gone = threading.Event()
    client.on_disconnect = lambda *args: gone.set()
    client.disconnect()
    assert gone.wait(10)
    client.loop_stop()


def _publish(broker: Mosquitto, user: str, password: str, topic: str, payload: bytes) -> int:
    """Publish with QoS 1 and wait for the PUBACK; return its reason code value."""
    client = _client(broker, user, password)
    codes: list[int] = []
    acked = threading.Event()

    def on_publish(c: mqtt.Client, userdata: object, mid: int, rc: object, props: object) -> None:
        codes.append(rc.value)  # type: ignore[attr-defined]
        acked.set()

    client.on_publish = on_publish
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.publish(topic, payload, qos=1)
    assert acked.wait(10)
    client.disconnect()
    client.loop_stop()
    return codes[0]


def test_round_trip_through_shipped_config(mosquitto: Mosquitto) -> None:
    sub, received = _subscriber(mosquitto, "floorwatch/up/#", "rt-collector")
    payload = b'{"ts": 1791000000, "kind": "moisture", "value": 12.0}'
    _publish(mosquitto, SIMULATOR_USER, TEST_PASSWORD, "floorwatch/up/s1", payload)
    assert received.get(timeout=10) == ("floorwatch/up/s1", payload)
    sub.disconnect()


def test_device_may_publish_only_to_its_own_topic(tmp_path: Path) -> None:
    device, other = "yst-ostra-main-inner-moisture", "yst-ostra-main-inner-dirt"
    broker = start_mosquitto(tmp_path / "acl", extra_users={device: "dev-secret"})
    try:
        sub, received = _subscriber(broker, "floorwatch/up/#", "acl-collector")
        # Mosquitto answers a denied QoS 1 publish with a PUBACK and drops it (reason code 135
        # "not authorized" for MQTT 5 clients): it must never reach the collector.
        code = _publish(broker, device, "dev-secret", f"floorwatch/up/{other}", b'{"x":1}')
        assert code == 135
        assert _publish(broker, device, "dev-secret", f"floorwatch/up/{device}", b"mine") == 0
        topic, payload = received.get(timeout=10)
        assert (topic, payload) == (f"floorwatch/up/{device}", b"mine")
        assert received.empty()
        # a wrong password is refused outright
        bad = _client(broker, device, "wrong")
        result: list[object] = []
        bad.on_connect = lambda c, u, f, rc, p: result.append(rc)
        assert bad.connect("127.0.0.1", broker.port) == 0  # TCP fine; the CONNACK refuses
        refused = threading.Event()
        bad.on_disconnect = lambda *args: refused.set()
        bad.loop_start()
        assert refused.wait(10)
        bad.loop_stop()
        assert result and getattr(result[0], "is_failure", False)
        sub.disconnect()
    finally:
        broker.stop()


def test_persistent_session_keeps_messages_across_broker_restart(mosquitto: Mosquitto) -> None:
    # clean_start off from the first connection: Mosquitto 2.0 does not write to disk a session
    # that began with clean_start on, even with a session expiry (seen with 2.0.11).
    sub, _ = _subscriber(mosquitto, "floorwatch/up/#", "persist-collector", clean=False)
    _disconnect(sub)
    for i in range(5):
        _publish(mosquitto, SIMULATOR_USER, TEST_PASSWORD, "floorwatch/up/s1", f"{i}".encode())
    mosquitto.restart()  # persistence: the queued messages survive
    again, received = _subscriber(mosquitto, "floorwatch/up/#", "persist-collector", clean=False)
    got = sorted(received.get(timeout=10)[1] for _ in range(5))
    assert got == [b"0", b"1", b"2", b"3", b"4"]
    again.disconnect()
