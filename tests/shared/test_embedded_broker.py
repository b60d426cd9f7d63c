"""The embedded broker (amqtt) carries QoS 1 messages between real paho clients (MQTT 3.1.1)."""

from __future__ import annotations

import queue
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from floorwatch.broker import EmbeddedBroker
from floorwatch.settings import parse_mqtt_url


def test_embedded_broker_round_trip() -> None:
    with EmbeddedBroker() as broker:
        target = parse_mqtt_url(broker.url)
        assert not target.protocol_v5
        received: queue.Queue[bytes] = queue.Queue()
        subscribed = threading.Event()
        sub = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="c", protocol=mqtt.MQTTv311, clean_session=False
        )
        sub.on_message = lambda c, u, m: received.put(bytes(m.payload))
        sub.on_subscribe = lambda *a: subscribed.set()
        sub.connect(target.host, target.port)
        sub.loop_start()
        sub.subscribe("floorwatch/up/#", qos=1)
        assert subscribed.wait(10)
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        pub.connect(target.host, target.port)
        pub.loop_start()
        infos = [pub.publish("floorwatch/up/s", str(i).encode(), qos=1) for i in range(20)]
        for info in infos:
            info.wait_for_publish(10)
        assert sorted(int(received.get(timeout=10)) for _ in range(20)) == list(range(20))
        pub.disconnect()
        sub.disconnect()
