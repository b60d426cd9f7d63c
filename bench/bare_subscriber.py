"""The ingest ceiling: a bare paho-mqtt subscriber that only parses the JSON of each message.

Run as a process: ``python -m bench.bare_subscriber HOST PORT USER PASSWORD COUNT``. Subscribes
with QoS 1 (paho acknowledges each message after the callback), prints ``subscribed`` when the
broker granted it and ``done <monotonic s>`` when COUNT messages arrived.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def main() -> None:
    host, port, user, password, count = sys.argv[1:6]
    expected = int(count)
    received = 0
    done = threading.Event()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"bench-bare-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    client.username_pw_set(user, password)

    def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        nonlocal received
        json.loads(msg.payload)
        received += 1
        if received == expected:
            print(f"done {time.monotonic():.6f}", flush=True)
            done.set()

    def on_connect(c: mqtt.Client, *args: Any) -> None:
        c.subscribe("floorwatch/up/#", qos=1)

    client.on_message = on_message
    client.on_subscribe = lambda *args: print("subscribed", flush=True)
    client.on_connect = on_connect
    # The same Receive Maximum as the collector, so both get the same in-flight window.
    properties = Properties(PacketTypes.CONNECT)
    properties.ReceiveMaximum = int(sys.argv[6]) if len(sys.argv) > 6 else 10_000
    client.connect(host, int(port), properties=properties)
    client.loop_start()
    done.wait()
    client.disconnect()
    client.loop_stop()


if __name__ == "__main__":
    main()
