"""Publishing through a real Mosquitto (shipped config and ACL): nothing lost at QoS 1, and the
commissioning check reports loss when no collector is running."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import date

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from floorwatch.registry import Registry
from floorwatch.settings import parse_mqtt_url
from simulators import Scenario, simulate
from simulators.cli import app
from simulators.publish import Pace, Pacer, Publisher
from tests.services import COLLECTOR_USER, SIMULATOR_USER, TEST_PASSWORD, Mosquitto

TOPICS = ["floorwatch/up/#", "application/+/device/+/event/up", "v3/+/devices/+/up"]


class Listener:
    """A QoS 1 subscriber with the collector's account, collecting what arrives."""

    def __init__(self, broker: Mosquitto):
        self.received: list[tuple[str, bytes]] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="test-listener", protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(COLLECTOR_USER, TEST_PASSWORD)
        self.client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in TOPICS])
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, bytes(m.payload)))
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self.ready.wait(10)

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_publisher_delivers_every_message_of_every_format(
    mosquitto: Mosquitto, registry: Registry, scenario: Scenario
) -> None:
    sim = simulate(registry, scenario, date(2026, 10, 8), 1, seed=1)
    messages = list(sim.messages())[:4000]
    assert {t.split("/")[0] for t, _ in messages} == {"floorwatch", "application", "v3"}
    listener = Listener(mosquitto)
    try:
        target = parse_mqtt_url(mosquitto.url_for(SIMULATOR_USER))
        with Publisher(target, "test-simulator", window=20) as publisher:
            for topic, payload in messages:
                publisher.publish(topic, payload)
        assert publisher.acknowledged == publisher.published == len(messages)
        listener.wait_for(len(messages))
    finally:
        listener.close()
    assert sorted(listener.received) == sorted(messages)


def test_cli_publishes_a_day_paced(mosquitto: Mosquitto) -> None:
    listener = Listener(mosquitto)
    try:
        result = CliRunner().invoke(
            app,
            [
                "--start",
                "2026-10-09",
                "--days",
                "1",
                "--no-faults",
                "--batch",
                "50",
                "--speed",
                "86400x",
                "--mqtt-url",
                mosquitto.url_for(SIMULATOR_USER),
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        summary = next(line for line in result.output.splitlines() if line.startswith("simulated"))
        messages = int(summary.split(" messages")[0].split()[-1].replace(",", ""))
        listener.wait_for(messages)
    finally:
        listener.close()
    assert len(listener.received) == messages > 0
    assert "readings/s" in summary and "faults: none" in result.output


def test_pace() -> None:
    assert Pace.parse("max").factor is None
    assert Pace.parse("realtime").realtime
    assert Pace.parse("60x").factor == 60
    pacer = Pacer(Pace.parse("100x"))
    began = time.monotonic()
    pacer.wait(1_000_000)
    pacer.wait(1_000_020)  # 20 simulated seconds at 100x: 0.2 s
    assert 0.15 < time.monotonic() - began < 1.0


def test_verify_reports_loss_without_a_collector(mosquitto: Mosquitto, sqlite_url: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "floorwatch",
            "simulate",
            "verify",
            "--sensor",
            "trb-vastervang-main-inner-moisture",
            "--sensor",
            "yst-ostra-main-entry-footfall",
            "--count",
            "3",
            "--timeout",
            "1.5",
            "--mqtt-url",
            mosquitto.url_for(SIMULATOR_USER),
            "--store-url",
            sqlite_url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    # moisture: 3 readings; the people counter: 2 footfall (the first uplink sets the total)
    # and 3 battery readings.
    assert "sent 8, stored 0, quarantined 0, lost 8" in done.stdout
    assert "FAILED" in done.stdout
