"""The benchmarks' load source (bench/load.py) against a real Mosquitto: every message is
published once, in order, with at most the window unacknowledged, and `publish_all` returns
only when every PUBACK is in."""

from __future__ import annotations

import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from bench.load import Publisher
from floorwatch.settings import parse_mqtt_url
from tests.ingest.helpers import wait_until
from tests.ingest.messages import MOISTURE, native_topic
from tests.services import COLLECTOR_USER, SIMULATOR_USER, Mosquitto


def test_every_message_arrives_once_in_order_and_all_are_acknowledged(
    mosquitto: Mosquitto,
) -> None:
    target = parse_mqtt_url(mosquitto.url_for(COLLECTOR_USER))
    received: list[bytes] = []
    lock = threading.Lock()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with lock:
            received.append(bytes(message.payload))

    subscriber = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"test-order-{uuid.uuid4().hex[:8]}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    subscriber.username_pw_set(target.username, target.password)
    subscriber.on_message = on_message
    subscriber.connect(target.host, target.port)
    subscriber.loop_start()
    device = parse_mqtt_url(mosquitto.url_for(SIMULATOR_USER))
    publisher = Publisher(
        device.host, device.port, device.username or "", device.password or "", inflight=7
    )
    try:
        wait_until(subscriber.is_connected, 10, "the subscriber to connect")
        subscriber.subscribe("floorwatch/up/#", qos=1)
        time.sleep(0.3)
        for count in (3, 500):  # under and over the window, on one connection
            with lock:
                received.clear()
            messages = [(native_topic(MOISTURE), b"%d" % i) for i in range(count)]
            publisher.publish_all(messages, timeout_s=30)
            assert publisher.client._out_messages == {}  # every PUBACK in
            wait_until(lambda: len(received) >= count, 10, "every message")  # noqa: B023
            time.sleep(0.2)
            assert received == [payload for _, payload in messages]
    finally:
        publisher.close()
        subscriber.disconnect()
        subscriber.loop_stop()
