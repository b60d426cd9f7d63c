"""Test helpers: a QoS 1 publisher that waits for every PUBACK, a collector run in a thread or a
subprocess, and polling with a deadline."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from floorwatch.settings import Settings, load_settings, parse_mqtt_url
from ingest.collector import Collector
from tests.services import REPO, Mosquitto

Message = tuple[str, bytes]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Publisher:
    """A paho MQTT 5 publisher. `publish_all` sends QoS 1 and returns once every PUBACK is in,
    with each message's PUBACK reason code (a refused publish says so in MQTT 5)."""

    def __init__(self, url: str, client_id: str | None = None):
        target = parse_mqtt_url(url)
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-publisher-{uuid.uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5
            if target.protocol_v5
            else MQTTProtocolVersion.MQTTv311,
        )
        self.client.max_inflight_messages_set(500)
        self.client.max_queued_messages_set(0)
        if target.username:
            self.client.username_pw_set(target.username, target.password)
        self._acked: dict[int, ReasonCode] = {}
        self._lock = threading.Condition()
        self.client.on_publish = self._on_publish
        self.client.connect(target.host, target.port)
        self.client.loop_start()
        wait_until(self.client.is_connected, 10, "the publisher to connect")

    def _on_publish(
        self, client: Any, userdata: Any, mid: int, reason: ReasonCode, properties: Any
    ) -> None:
        with self._lock:
            self._acked[mid] = reason
            self._lock.notify_all()

    def publish_all(
        self, messages: Iterable[Message], timeout: float = 60, pause_s: float = 0.0
    ) -> list[ReasonCode]:
        mids = []
        for topic, payload in messages:
            info = self.client.publish(topic, payload, qos=1)
            mids.append(info.mid)
            if pause_s:
                time.sleep(pause_s)
        deadline = time.monotonic() + timeout
        with self._lock:
            while not all(mid in self._acked for mid in mids):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    missing = sum(mid not in self._acked for mid in mids)
                    raise AssertionError(f"{missing} of {len(mids)} PUBACKs missing")
                self._lock.wait(remaining)
            return [self._acked.pop(mid) for mid in mids]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def publisher(url: str) -> Iterator[Publisher]:
    pub = Publisher(url)
    try:
        yield pub
    finally:
        pub.close()


def collector_settings(broker: Mosquitto, store_url: str, tmp_path: Path, **extra: Any) -> Settings:
    given: dict[str, Any] = {
        "mqtt_url": broker.url_for("floorwatch-collector"),
        "store_url": store_url,
        "spool_dir": tmp_path / "spool",
        "client_id": f"collector-{uuid.uuid4().hex[:8]}",
        "batch_wait_ms": 50,
    }
    return load_settings(**{**given, **extra})


@contextmanager
def running_collector(settings: Settings) -> Iterator[Collector]:
    """A collector in a thread of this process, subscribed before the block starts."""
    collector = Collector(settings)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            collector.run()
        except BaseException as exc:  # reported when the block ends
            failure.append(exc)

    thread = threading.Thread(target=run, name="collector", daemon=True)
    thread.start()
    wait_until(lambda: collector.subscribed, 10, "the collector to subscribe")
    try:
        yield collector
    finally:
        collector.request_stop()
        thread.join(timeout=20)
        assert not thread.is_alive(), "the collector did not stop"
    if failure:
        raise failure[0]


def collector_process(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """`python -m floorwatch ingest` as a separate process (FLOORWATCH_* settings in env)."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FLOORWATCH_")},
        **env,
        "PYTHONPATH": str(REPO),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "floorwatch", "ingest", *args],
        env=environment,
        cwd=log.parent,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
