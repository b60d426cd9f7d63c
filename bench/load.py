"""The load source for the ingest benchmarks: a paho-mqtt publisher that waits for every PUBACK.

(`mosquitto_pub -l` loses QoS 1 messages when it exits, so it is not used.)

Run as its own process so that the benchmark's polling never competes with it for the GIL::

    python -m bench.load HOST PORT USER PASSWORD COUNT PER_MESSAGE

It builds COUNT readings of the pilot's native sensors, PER_MESSAGE to a native message, connects,
prints ``ready``, waits for a line on stdin, then prints ``start <monotonic s>``, publishes
everything with QoS 1 and prints ``acked <monotonic s>`` once the last PUBACK is in.
`time.monotonic` is CLOCK_MONOTONIC on Linux: the parent compares it with its own clock.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from floorwatch.registry import load_registry

Message = tuple[str, bytes]


def native_sensors() -> list[tuple[str, str]]:
    """(sensor id, kind) of every pilot sensor that speaks the native format."""
    registry = load_registry(None)
    return sorted(
        (place.sensor.id, str(place.sensor.kind))
        for place in registry.sensors.values()
        if place.sensor.lorawan is None
    )


def native_messages(
    sensors: Sequence[tuple[str, str]], count: int, per_message: int, end_s: int
) -> list[Message]:
    """`count` distinct readings spread over the sensors, `per_message` to a native message, one
    a minute per sensor going back from `end_s` (epoch s), the sensors interleaved as in a real
    stream. Values are small integers, valid for every kind."""
    per_sensor = -(-count // len(sensors))
    streams: list[list[Message]] = []
    left = count
    for sensor_id, kind in sensors:
        n = min(per_sensor, left)
        left -= n
        topic = f"floorwatch/up/{sensor_id}"
        stream = []
        for first in range(0, n, per_message):
            readings = [
                {"ts": end_s - 60 * (i + 1), "kind": kind, "value": float(i % 50)}
                for i in range(first, min(n, first + per_message))
            ]
            body = readings[0] if per_message == 1 else {"readings": readings}
            stream.append((topic, json.dumps(body, separators=(",", ":")).encode()))
        streams.append(stream)
    longest = max(len(s) for s in streams)
    return [s[i] for i in range(longest) for s in streams if i < len(s)]


class Publisher:
    """QoS 1 publisher: `publish_all` returns once every message is PUBACKed.

    At most `inflight` messages are unacknowledged at once (the shipped broker's in-flight
    limit). The window is kept here, not by paho: paho's own limit queues every message and, at
    each PUBACK, walks its table of messages from the start to find the next one to send (about
    `inflight` steps per PUBACK: 60 % of this process's time at one reading per message, which
    made this publisher the pace of the live rows). Here paho sends each message as it is given,
    and the PUBACK callback gives the next one, in the network thread: one publish per PUBACK,
    in order, with no thread handing over to another per message."""

    def __init__(self, host: str, port: int, username: str, password: str, inflight: int = 1000):
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"bench-pub-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.username_pw_set(username, password)
        self.client.max_inflight_messages_set(0)  # no limit in paho: the window is `inflight`
        self.client.max_queued_messages_set(0)
        self.inflight = inflight
        self._messages: Sequence[Message] = ()
        self._next = 0  # the next message to publish; after the first window, only on PUBACK
        self._acked = 0
        self._done = threading.Event()
        self.client.on_publish = self._on_publish
        self.client.connect(host, port)
        self.client.loop_start()
        deadline = time.monotonic() + 10
        while not self.client.is_connected():
            if time.monotonic() > deadline:
                raise TimeoutError("the publisher could not connect")
            time.sleep(0.01)

    def _on_publish(self, c: mqtt.Client, u: object, mid: int, rc: object, p: object) -> None:
        """A PUBACK (paho's network thread, under its message lock): publish the next one."""
        self._acked += 1
        if self._next < len(self._messages):
            topic, payload = self._messages[self._next]
            self._next += 1
            c.publish(topic, payload, qos=1)
        elif self._acked >= len(self._messages):
            self._done.set()

    def publish_all(self, messages: Sequence[Message], timeout_s: float = 600.0) -> None:
        first = min(self.inflight, len(messages))
        # paho's PUBACK handler holds this lock while it calls on_publish: holding it here
        # keeps PUBACKs of the first window waiting until all of it is sent, so the messages go
        # out in order and `_next` has one writer at a time.
        with self.client._out_message_mutex:
            self._acked = 0
            self._messages = messages
            self._next = first
            self._done.clear()
            for topic, payload in messages[:first]:
                self.client.publish(topic, payload, qos=1)
        if not messages:
            return
        if not self._done.wait(timeout_s):
            raise TimeoutError(f"only {self._acked} of {len(messages)} PUBACKs in {timeout_s} s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def main() -> None:
    host, port, user, password, count, per_message = sys.argv[1:7]
    messages = native_messages(native_sensors(), int(count), int(per_message), int(time.time()))
    publisher = Publisher(host, int(port), user, password)
    print("ready", flush=True)
    sys.stdin.readline()
    print(f"start {time.monotonic():.6f}", flush=True)
    publisher.publish_all(messages)
    print(f"acked {time.monotonic():.6f}", flush=True)
    publisher.close()


if __name__ == "__main__":
    main()
