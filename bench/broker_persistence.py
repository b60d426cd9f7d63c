"""What Mosquitto's persistence setting costs, and what it keeps through a SIGKILL.

    .venv/bin/python -m bench.broker_persistence            # about two minutes
    .venv/bin/python -m bench.broker_persistence --messages 500

For the shipped deploy/mosquitto config and for the same config with the setting it replaced
(`autosave_interval 30`: a snapshot every 30 s), on a fresh Mosquitto each:
- queued: a persistent session (the collector's, stopped) is made; a QoS 1 publisher (paho,
  waiting for every PUBACK) sends N messages of 50 native readings (2.6 kB); the publish rate is
  taken; 1 s after the last PUBACK Mosquitto is SIGKILLed and restarted, and the session's
  messages are counted as they come back.
- online: a QoS 1 subscriber (paho, acknowledging at once) is connected; the rate is from the
  first publish until it has the last message.
Prints a Markdown table (bench/README.md "Broker persistence" has the figures measured).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.common import SNAPSHOT_PERSISTENCE, bench_broker, machine
from tests.ingest.helpers import Publisher
from tests.services import (
    COLLECTOR_USER,
    SIMULATOR_USER,
    TEST_PASSWORD,
    Mosquitto,
)

OLD_SETTING = SNAPSHOT_PERSISTENCE
TOPIC = "floorwatch/up/bench-sensor"
PAYLOAD = (
    b'{"readings":['
    + b",".join(b'{"ts":1796170000,"kind":"moisture","value":12.5}' for _ in range(50))
    + b"]}"
)


def _broker(setting: str | None) -> Mosquitto:
    """A Mosquitto with the shipped config, or with its persistence lines replaced."""
    workdir = Path(tempfile.mkdtemp(prefix="floorwatch-bench-broker-")) / "mosquitto"
    return bench_broker(workdir, setting)


def _session(broker: Mosquitto, on_message: object = None) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench", protocol=mqtt.MQTTv5)
    client.username_pw_set(COLLECTOR_USER, TEST_PASSWORD)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    if on_message is not None:
        client.on_message = on_message  # type: ignore[assignment]
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    client.connect("127.0.0.1", broker.port, clean_start=False, properties=properties)
    client.loop_start()
    client.subscribe("floorwatch/up/#", qos=1)
    subscribed.wait(10)
    return client


def queued(setting: str | None, messages: int) -> tuple[float, int]:
    """(publish rate into a stopped session in messages/s, messages back after a SIGKILL)."""
    broker = _broker(setting)
    try:
        client = _session(broker)
        client.disconnect()
        client.loop_stop()
        publisher = Publisher(broker.url_for(SIMULATOR_USER))
        started = time.monotonic()
        publisher.publish_all([(TOPIC, PAYLOAD)] * messages, timeout=600)
        rate = messages / (time.monotonic() - started)
        publisher.close()
        time.sleep(1)
        broker.kill()
        broker.start()
        back: list[int] = []
        client = _session(broker, lambda *args: back.append(1))
        previous = -1
        while previous != len(back):  # until nothing more comes for 2 s
            previous = len(back)
            time.sleep(2)
        client.loop_stop()
        return rate, len(back)
    finally:
        broker.stop()


def online(setting: str | None, messages: int) -> float:
    """Messages/s from the first publish until an online QoS 1 subscriber has the last."""
    broker = _broker(setting)
    try:
        got: list[int] = []
        done = threading.Event()

        def on_message(*args: object) -> None:
            got.append(1)
            if len(got) >= messages:
                done.set()

        client = _session(broker, on_message)
        publisher = Publisher(broker.url_for(SIMULATOR_USER))
        started = time.monotonic()
        publisher.publish_all([(TOPIC, PAYLOAD)] * messages, timeout=600)
        done.wait(600)
        rate = messages / (time.monotonic() - started)
        publisher.close()
        client.loop_stop()
        return rate
    finally:
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000)
    args = parser.parse_args()
    about = machine()
    print(
        f"Machine: {about['cpu_model']}, {about['cores']} cores, Python {about['python']}, "
        f"{about['date']} (commit {about['commit']}); load average {os.getloadavg()[0]:.2f}"
    )
    print()
    print("| persistence | queued: publish rate | queued: kept after SIGKILL | online: rate |")
    print("|---|---:|---:|---:|")
    for label, setting in (
        ("shipped: autosave_on_changes true, autosave_interval 1", None),
        (f"before: {OLD_SETTING}", OLD_SETTING),
    ):
        rate, back = queued(setting, args.messages)
        live = online(setting, args.messages)
        print(
            f"| {label} | {rate:,.0f} msg/s | {back:,} of {args.messages:,} | {live:,.0f} msg/s |",
            flush=True,
        )


if __name__ == "__main__":
    main()
