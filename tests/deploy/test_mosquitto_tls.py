"""The TLS listener docker-compose offers devices outside the school network, on a real Mosquitto.

The broker is started by the test harness (tests/services.py: the shipped mosquitto.conf and acl)
with, in listeners.d/, the shipped TLS listener block of deploy/mosquitto/listeners.d/default.conf,
only its port and certificate paths replaced (a free port; a certificate made here with openssl).
"""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties

from tests.services import (
    COLLECTOR_USER,
    MOSQUITTO_CONFIG,
    TEST_PASSWORD,
    Mosquitto,
    free_port,
    start_mosquitto,
)

DEVICE = "trb-vastervang-main-inner-moisture"
DEVICE_PASSWORD = "device-secret"


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it (CA, cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (
        folder / n for n in ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt")
    )

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=Floorwatch test CA", "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", str(key), "-out", str(csr))  # fmt: skip
    extensions = folder / "san.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "2", "-extfile", str(extensions),
            "-out", str(cert))  # fmt: skip
    for path in (key, cert):
        path.chmod(0o644)  # Mosquitto drops to its own user
    return ca, cert, key


def tls_listener_block(port: int, cert: Path, key: Path) -> str:
    """The shipped TLS listener (listener 8883 and the lines after it), port and paths replaced."""
    shipped = (MOSQUITTO_CONFIG / "listeners.d" / "default.conf").read_text()
    block = shipped[shipped.index("listener 8883") :]
    assert re.search(r"^certfile /mosquitto/certs/server\.crt$", block, re.MULTILINE)
    assert re.search(r"^keyfile /mosquitto/certs/server\.key$", block, re.MULTILINE)
    return (
        block.replace("listener 8883", f"listener {port} 127.0.0.1")
        .replace("/mosquitto/certs/server.crt", str(cert))
        .replace("/mosquitto/certs/server.key", str(key))
    )


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, int, Path]]:
    # Mosquitto, started as root, reads the certificates after dropping to its own user, which
    # cannot enter pytest's private temporary folders: the certificates get a folder it can read.
    certs = Path(tempfile.mkdtemp(prefix="floorwatch-certs-"))
    certs.chmod(0o755)
    ca, cert, key = _certificates(certs)
    workdir = tmp_path / "mosquitto"
    (workdir / "listeners.d").mkdir(parents=True)
    tls_port = free_port()
    (workdir / "listeners.d" / "tls.conf").write_text(tls_listener_block(tls_port, cert, key))
    try:
        broker = start_mosquitto(workdir, extra_users={DEVICE: DEVICE_PASSWORD})
        try:
            yield broker, tls_port, ca
        finally:
            broker.stop()
    finally:
        shutil.rmtree(certs, ignore_errors=True)


def _client(client_id: str, user: str, password: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)
    return client


def test_a_device_outside_publishes_over_tls_and_the_collector_receives(
    tls_broker: tuple[Mosquitto, int, Path],
) -> None:
    broker, tls_port, ca = tls_broker
    received: list[tuple[str, bytes]] = []
    subscribed, arrived = threading.Event(), threading.Event()

    collector = _client("collector-test", COLLECTOR_USER, TEST_PASSWORD)
    collector.on_subscribe = lambda *args: subscribed.set()

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        received.append((message.topic, bytes(message.payload)))
        arrived.set()

    collector.on_message = on_message
    collector.connect("127.0.0.1", broker.port)  # plain MQTT inside the school network
    collector.loop_start()
    try:
        collector.subscribe("floorwatch/up/#", qos=1)
        assert subscribed.wait(10)

        device = _client(DEVICE, DEVICE, DEVICE_PASSWORD)
        device.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        device.connect("127.0.0.1", tls_port, properties=Properties(1))  # 1 = CONNECT packet
        device.loop_start()
        try:
            payload = b'{"ts": 1795650000, "kind": "moisture", "value": 12.5}'
            info = device.publish(f"floorwatch/up/{DEVICE}", payload, qos=1)
            info.wait_for_publish(10)
            assert arrived.wait(10)
        finally:
            device.loop_stop()
            device.disconnect()
    finally:
        collector.loop_stop()
        collector.disconnect()
    assert received == [(f"floorwatch/up/{DEVICE}", payload)]


def test_the_tls_listener_refuses_plain_mqtt_and_wrong_passwords(
    tls_broker: tuple[Mosquitto, int, Path],
) -> None:
    _broker, tls_port, ca = tls_broker
    # A plain CONNECT on the TLS port never gets a CONNACK: the broker drops the connection.
    plain = _client("plain", DEVICE, DEVICE_PASSWORD)
    answered = threading.Event()
    plain.on_connect = lambda *_args: answered.set()
    plain.connect("127.0.0.1", tls_port, keepalive=5)
    plain.loop_start()
    try:
        assert not answered.wait(1.5)
    finally:
        plain.loop_stop()

    wrong = _client("wrong", DEVICE, "not-the-password")
    wrong.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    refused = threading.Event()
    wrong.on_connect = lambda _c, _u, _f, reason, _p: refused.set() if reason.is_failure else None
    wrong.connect("127.0.0.1", tls_port)
    wrong.loop_start()
    try:
        assert refused.wait(10)
    finally:
        wrong.loop_stop()
