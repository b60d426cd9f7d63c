"""The collector's own reading of PUBLISH packets without properties (ingest/publish_packet.py)
against paho's parser: on generated and hostile packets it gives what paho gives, or leaves the
packet to paho; and through a real Mosquitto, messages with and without MQTT 5 properties are
all stored."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt import _packet
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from floorwatch.settings import parse_mqtt_url
from floorwatch.store import Store
from ingest.publish_packet import plain_publish
from tests.ingest.helpers import collector_settings, running_collector, wait_until
from tests.ingest.messages import MOISTURE, dumps, native_topic
from tests.services import SIMULATOR_USER, Mosquitto

PUBLISH = PacketTypes.PUBLISH << 4


def paho_publish(command: int, body: bytes) -> _packet.PublishPacket | None:
    """paho's own reading of the packet on an MQTT 5 connection; None where paho refuses it."""
    try:
        return _packet.decode_publish(command, body, MQTTProtocolVersion.MQTTv5)
    except MalformedPacket:
        return None


def assert_agrees_with_paho(command: int, body: bytes) -> None:
    """Ours reads the packet exactly as paho does, or leaves it to paho (None)."""
    ours = plain_publish(command, bytearray(body))  # paho hands over a bytearray
    theirs = paho_publish(command, body)
    if ours is None:
        # left to paho: a packet with properties, QoS 2 or 3, or one paho refuses
        qos = (command >> 1) & 3
        assert theirs is None or qos > 1 or theirs.properties.json() != {}  # type: ignore[union-attr]
        return
    assert theirs is not None, "read a packet paho refuses"
    assert theirs.properties is not None and theirs.properties.json() == {}
    assert ours.qos <= 1
    assert (ours.dup, ours.qos, ours.retain, ours.topic, ours.mid, ours.payload) == (
        theirs.dup,
        theirs.qos,
        theirs.retain,
        theirs.topic,
        theirs.mid,
        theirs.payload,
    )
    assert type(ours.topic) is bytes and type(ours.payload) is bytes


def encoded(topic: bytes, qos: int, mid: int, properties: bytes, payload: bytes) -> bytes:
    return (
        len(topic).to_bytes(2, "big")
        + topic
        + (mid.to_bytes(2, "big") if qos else b"")
        + properties
        + payload
    )


def user_properties() -> bytes:
    properties = Properties(PacketTypes.PUBLISH)
    properties.UserProperty = ("site", "ystad")
    properties.ContentType = "application/json"
    return bytes(properties.pack())


commands = st.integers(0, 15).map(lambda flags: PUBLISH | flags)
property_bytes = st.one_of(
    st.just(b"\x00"),
    st.just(user_properties()),
    st.binary(max_size=8),  # anything, malformed or not
)


@settings(max_examples=3_000, suppress_health_check=[HealthCheck.too_slow])
@given(
    commands,
    st.binary(max_size=40),
    st.integers(0, 0xFFFF),
    property_bytes,
    st.binary(max_size=60),
)
def test_well_formed_and_damaged_packets_read_as_paho_reads_them(
    command: int, topic: bytes, mid: int, properties: bytes, payload: bytes
) -> None:
    qos = min((command >> 1) & 3, 1)
    body = encoded(topic, qos, mid, properties, payload)
    assert_agrees_with_paho(command, body)
    for cut in (0, 1, 2, len(body) // 2, len(body) - 1):  # truncated anywhere
        assert_agrees_with_paho(command, body[: max(cut, 0)])


@settings(max_examples=3_000)
@given(commands, st.binary(max_size=80))
def test_arbitrary_bytes_read_as_paho_reads_them(command: int, body: bytes) -> None:
    assert_agrees_with_paho(command, body)


QOS1 = PUBLISH | 0x02


@pytest.mark.parametrize(
    ("name", "command", "body"),
    [
        ("empty body", QOS1, b""),
        ("one byte", QOS1, b"\x00"),
        ("topic length past the end", QOS1, b"\xff\xff" + b"t" * 10),
        ("no packet id", QOS1, b"\x00\x01t"),
        ("no property length", QOS1, b"\x00\x01t\x00\x07"),
        ("property length without properties", QOS1, b"\x00\x01t\x00\x07\x05"),
        ("property length of five bytes", QOS1, b"\x00\x01t\x00\x07\xff\xff\xff\xff\x7f"),
        ("QoS 3", PUBLISH | 0x06, b"\x00\x01t\x00\x07\x00{}"),
        ("QoS 2", PUBLISH | 0x04, b"\x00\x01t\x00\x07\x00{}"),
        ("invalid UTF-8 topic", QOS1, b"\x00\x02\xff\xfe\x00\x07\x00{}"),
        ("empty topic", QOS1, b"\x00\x00\x00\x07\x00{}"),
        ("QoS 0 with every other flag", PUBLISH | 0x09, b"\x00\x01t\x00{}"),
        ("a quarter MB payload", QOS1, b"\x00\x01t\x00\x07\x00" + b"\xff" * 262_144),
    ],
)
def test_hostile_packets_read_as_paho_reads_them(name: str, command: int, body: bytes) -> None:
    assert_agrees_with_paho(command, body)


def test_a_plain_packet_is_read_and_one_with_properties_left_to_paho() -> None:
    plain = plain_publish(QOS1 | 0x08, bytearray(b"\x00\x03a/b\x01\x02\x00payload"))
    assert plain is not None
    assert (plain.dup, plain.qos, plain.retain, plain.topic, plain.mid, plain.payload) == (
        True,
        1,
        False,
        b"a/b",
        0x0102,
        b"payload",
    )
    with_properties = encoded(b"a/b", 1, 7, user_properties(), b"{}")
    assert plain_publish(QOS1, bytearray(with_properties)) is None
    assert paho_publish(QOS1, with_properties) is not None


def test_messages_with_and_without_properties_are_all_stored_through_mosquitto(
    mosquitto: Mosquitto, store: Store, store_url: str, tmp_path: Path
) -> None:
    now_s = int(time.time()) - 3_600
    target = parse_mqtt_url(mosquitto.url_for(SIMULATOR_USER))
    device = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"test-properties-{uuid.uuid4().hex[:8]}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    device.username_pw_set(target.username, target.password)
    device.connect(target.host, target.port)
    device.loop_start()
    settings_ = collector_settings(mosquitto, store_url, tmp_path)
    try:
        wait_until(device.is_connected, 10, "the device to connect")
        with running_collector(settings_) as collector:
            plain_reads = 0
            read_plain = collector._client.on_plain_publish  # type: ignore[attr-defined]
            assert read_plain is not None

            def counting(message: object) -> None:
                nonlocal plain_reads
                plain_reads += 1
                read_plain(message)

            collector._client.on_plain_publish = counting  # type: ignore[attr-defined]
            infos = []
            for i in range(20):
                properties = Properties(PacketTypes.PUBLISH)
                if i % 2:
                    properties.UserProperty = ("firmware", "1.2")
                    properties.MessageExpiryInterval = 3_600
                    properties.ContentType = "application/json"
                payload = dumps({"ts": now_s + 60 * i, "kind": "moisture", "value": i})
                infos.append(
                    device.publish(native_topic(MOISTURE), payload, qos=1, properties=properties)
                )
            for info in infos:
                info.wait_for_publish(10)
            wait_until(lambda: store.count_readings() == 20, 20, "all 20 readings")
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == 20, 20, "all acknowledged"
            )
    finally:
        device.disconnect()
        device.loop_stop()
    assert plain_reads == 10  # the other ten came through paho's parser
