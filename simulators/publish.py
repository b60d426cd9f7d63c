"""Publishing simulated messages over MQTT: QoS 1, every PUBACK awaited, bounded in flight.

A plain `mosquitto_pub -l` loses QoS 1 messages; this publisher keeps at most `window` messages
unacknowledged (a semaphore released by each PUBACK) and `flush()` waits for the last one, so
"published" means "the broker has it".

Pacing (`Pace`): `max` publishes as fast as the broker acknowledges; `realtime` holds each message
until the wall clock reaches its timestamp (a commissioning run started today streams live);
`60x` replays sixty simulated seconds per second, from the first message.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from floorwatch.errors import BrokerError, ConfigError
from floorwatch.settings import MqttTarget


@dataclass(frozen=True)
class Pace:
    """How fast to publish: factor None = as fast as possible; realtime = wall-clock aligned."""

    factor: float | None
    realtime: bool = False

    @classmethod
    def parse(cls, text: str) -> Pace:
        """`max`, `realtime` or a factor such as `60x`."""
        value = text.strip().lower()
        if value == "max":
            return cls(None)
        if value == "realtime":
            return cls(1.0, realtime=True)
        match = re.fullmatch(r"(\d+(?:\.\d+)?)x", value)
        if not match or float(match.group(1)) <= 0:
            raise ConfigError(f"--speed: expected realtime, max or a factor like 60x, got {text!r}")
        return cls(float(match.group(1)))


class Pacer:
    """Sleeps so that a message with simulated time t (epoch s) goes out at its paced moment."""

    def __init__(self, pace: Pace):
        self.pace = pace
        self._origin: tuple[float, float] | None = None

    def wait(self, sim_s: float) -> None:
        if self.pace.factor is None:
            return
        if self.pace.realtime:
            delay = sim_s - time.time()
        else:
            if self._origin is None:
                self._origin = (time.monotonic(), sim_s)
            wall0, sim0 = self._origin
            delay = wall0 + (sim_s - sim0) / self.pace.factor - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class Publisher:
    """A paho-mqtt QoS 1 publisher that waits for PUBACKs with at most `window` in flight."""

    def __init__(
        self, target: MqttTarget, client_id: str, window: int = 100, timeout_s: float = 30
    ):
        self.target = target
        self.window = window
        self.timeout_s = timeout_s
        self._slots = threading.Semaphore(window)
        self._connected = threading.Event()
        self._failure: str | None = None
        self.published = 0
        self.acknowledged = 0
        # MQTT 3.1.1 for brokers without MQTT 5, such as the demo's embedded amqtt
        protocol = mqtt.MQTTv5 if target.protocol_v5 else mqtt.MQTTv311
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
        if target.username:
            client.username_pw_set(target.username, target.password)
        if target.tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        client.max_inflight_messages_set(window)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        client.on_disconnect = self._on_disconnect
        self.client = client

    # paho callbacks (network thread)
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure:
            self._failure = f"broker refused the connection: {reason}"
        self._connected.set()

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Properties
    ) -> None:
        self.acknowledged += 1
        self._slots.release()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure and self._failure is None and not self._connected.is_set():
            self._failure = f"disconnected: {reason}"

    def __enter__(self) -> Publisher:
        self.connect()
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self.close()
        else:  # interrupted or failed: do not wait for acknowledgements
            self.client.disconnect()
            self.client.loop_stop()

    def connect(self) -> None:
        where = f"{self.target.host}:{self.target.port}"
        try:
            self.client.connect(self.target.host, self.target.port, keepalive=30)
        except OSError as exc:
            raise BrokerError(f"cannot reach the MQTT broker at {where}: {exc}") from exc
        self.client.loop_start()
        if not self._connected.wait(self.timeout_s):
            self.client.loop_stop()
            raise BrokerError(f"no answer from the MQTT broker at {where}")
        if self._failure:
            self.client.loop_stop()
            raise BrokerError(f"MQTT broker at {where}: {self._failure}")

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish with QoS 1; blocks while `window` messages await their PUBACK."""
        if not self._slots.acquire(timeout=self.timeout_s):
            raise BrokerError(f"no PUBACK from the broker within {self.timeout_s:.0f} s")
        info = self.client.publish(topic, payload, qos=1)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self._slots.release()
            raise BrokerError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        self.published += 1

    def flush(self) -> None:
        """Wait until every published message is acknowledged."""
        deadline = time.monotonic() + self.timeout_s
        while self.acknowledged < self.published:
            if time.monotonic() > deadline:
                missing = self.published - self.acknowledged
                raise BrokerError(f"{missing} messages not acknowledged by the broker")
            time.sleep(0.005)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.client.disconnect()
            self.client.loop_stop()
