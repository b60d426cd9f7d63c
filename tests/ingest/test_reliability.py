"""The guarantees: SIGKILL loses nothing, a store outage loses and doubles nothing, a device cannot
publish as another sensor, SIGHUP reloads the registry, SIGTERM stops cleanly."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from floorwatch.registry import PILOT, Registry
from floorwatch.store import open_store
from tests.ingest.helpers import (
    Message,
    Publisher,
    collector_process,
    collector_settings,
    publisher,
    running_collector,
    wait_until,
)
from tests.ingest.messages import DIRT, MOISTURE, dumps, native_batches, native_topic
from tests.services import (
    COLLECTOR_USER,
    SECOND_COLLECTOR_USER,
    SIMULATOR_USER,
    TEST_PASSWORD,
    Mosquitto,
    free_port,
    start_influxdb,
    start_mosquitto,
)


def _log_has(log: Path, text: str) -> bool:
    return log.exists() and text in log.read_text(errors="replace")


@pytest.fixture
def process_env(mosquitto: Mosquitto, sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "FLOORWATCH_MQTT_URL": mosquitto.url_for(COLLECTOR_USER),
        "FLOORWATCH_STORE_URL": sqlite_url,
        "FLOORWATCH_SPOOL_DIR": str(tmp_path / "spool"),
        "FLOORWATCH_CLIENT_ID": "collector-under-test",
        "FLOORWATCH_BATCH_SIZE": "2000",
        "FLOORWATCH_BATCH_WAIT_MS": "50",
        "FLOORWATCH_COUNTERS_INTERVAL_S": "1",
    }


def test_sigkill_mid_stream_loses_and_doubles_nothing(
    mosquitto: Mosquitto,
    sqlite_url: str,
    registry: Registry,
    tmp_path: Path,
    process_env: dict[str, str],
    processes: list[subprocess.Popen[bytes]],
) -> None:
    total = 50_000
    messages = native_batches(registry, total, per_message=50)
    log = tmp_path / "collector.log"
    processes.append(collector_process(process_env, log))
    wait_until(lambda: _log_has(log, "event=subscribed"), 15, "the collector to subscribe")

    store = open_store(sqlite_url)
    pub = Publisher(mosquitto.url_for(SIMULATOR_USER))
    published: list[int] = []
    stream = threading.Thread(
        target=lambda: published.append(len(pub.publish_all(messages, timeout=60, pause_s=0.002)))
    )
    stream.start()
    try:
        wait_until(lambda: store.count_readings() >= 5_000, 30, "the first readings")
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait()
        at_kill = store.count_readings()
        assert 0 < at_kill < total, "the stream should still be running when the collector dies"

        processes.append(collector_process(process_env, log))
        stream.join(timeout=60)
        assert published == [len(messages)]  # every message PUBACKed by the broker
        wait_until(lambda: store.count_readings() >= total, 60, "all 50,000 readings")
        time.sleep(0.5)  # late duplicates, if any, would show now
        assert store.count_readings() == total
        assert store.read_quarantine() == []
        processes[1].send_signal(signal.SIGTERM)
        assert processes[1].wait(timeout=20) == 0
    finally:
        pub.close()
        store.close()
    text = log.read_text()
    assert text.count("event=start ") == 2
    assert "session_present=True" in text  # the second run resumed the persistent session
    assert "ingest stopped:" in text


def test_sighup_reloads_registry_and_keeps_old_one_when_invalid(
    mosquitto: Mosquitto,
    sqlite_url: str,
    tmp_path: Path,
    process_env: dict[str, str],
    processes: list[subprocess.Popen[bytes]],
) -> None:
    folder = tmp_path / "registry"
    folder.mkdir()
    for source in PILOT.glob("*.yaml"):
        (folder / source.name).write_text(source.read_text())
    organisation = folder / "organisation.yaml"
    log = tmp_path / "collector.log"
    processes.append(collector_process({**process_env, "FLOORWATCH_REGISTRY": str(folder)}, log))
    wait_until(lambda: _log_has(log, "event=subscribed"), 15, "the collector to subscribe")
    new_sensor = "yst-ostra-main-inner-dirt-2"
    now = int(time.time())

    def reading(age_s: int) -> Message:
        body = {"ts": now - age_s, "kind": "dirt", "value": 33.0}
        return native_topic(new_sensor), dumps(body)

    store = open_store(sqlite_url)
    try:
        with publisher(mosquitto.url_for(SIMULATOR_USER)) as pub:
            pub.publish_all([reading(30)])
            wait_until(lambda: len(store.read_quarantine()) == 1, 10, "unknown_sensor")
            assert store.read_quarantine()[0].reason == "unknown_sensor"

            document = yaml.safe_load(organisation.read_text())
            entrance = next(
                e
                for s in document["schools"]
                for e in s["entrances"]
                if e["id"] == "yst-ostra-main"
            )
            entrance["sensors"].append({"id": new_sensor, "kind": "dirt", "zone": "inner"})
            organisation.write_text(yaml.safe_dump(document, allow_unicode=True))
            processes[0].send_signal(signal.SIGHUP)
            wait_until(lambda: _log_has(log, "event=registry_reloaded"), 10, "the reload")
            pub.publish_all([reading(20)])
            wait_until(lambda: store.count_readings() == 1, 10, "the new sensor's reading")

            organisation.write_text("schools: [unclosed\n")
            processes[0].send_signal(signal.SIGHUP)
            wait_until(lambda: _log_has(log, "event=registry_reload_refused"), 10, "the refusal")
            pub.publish_all([reading(10)])
            wait_until(lambda: store.count_readings() == 2, 10, "readings under the old registry")
        processes[0].send_signal(signal.SIGTERM)
        assert processes[0].wait(timeout=20) == 0
    finally:
        store.close()
    assert len(store.read_quarantine()) == 1


def test_sqlite_outage_spools_then_replays_in_order(
    mosquitto: Mosquitto, sqlite_url: str, registry: Registry, tmp_path: Path
) -> None:
    """The store is locked by another writer (it does not answer in time) during part of the
    stream: batches go to the spool and are acknowledged, then replayed; nothing lost or doubled."""
    messages = native_batches(registry, 3_000, per_message=10)
    first, during, after = messages[:100], messages[100:200], messages[200:]
    settings = collector_settings(mosquitto, sqlite_url, tmp_path, store_timeout_s=0.3)
    path = settings.store.path
    assert path is not None
    store = open_store(sqlite_url)
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            pub.publish_all(first)
            wait_until(lambda: store.count_readings() == 1_000, 20, "the first readings")

            blocker = sqlite3.connect(path, isolation_level=None)
            blocker.execute("BEGIN EXCLUSIVE")
            pub.publish_all(during)
            # Acknowledged although the store cannot take them: they are in the spool.
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == 200, 30, "spooled acks"
            )
            assert collector.counters.snapshot().spooled == 1_000
            assert list(collector.spool_dir.glob("batch-*.json"))
            blocker.execute("COMMIT")
            blocker.close()

            pub.publish_all(after)
            wait_until(lambda: store.count_readings() == 3_000, 30, "all readings")
            snapshot = collector.counters.snapshot()
            assert snapshot.replayed == snapshot.spooled
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == len(messages), 10, "acks"
            )
        assert not list(collector.spool_dir.glob("batch-*.json"))
        assert store.count_readings() == 3_000
    finally:
        store.close()


def test_influxdb_outage_spools_then_replays(
    mosquitto: Mosquitto, registry: Registry, tmp_path: Path
) -> None:
    """A dedicated influxd is stopped during the stream and started again."""
    influx = start_influxdb(tmp_path / "influxdb")
    try:
        url = influx.url("outage")
        messages = native_batches(registry, 3_000, per_message=10)
        first, during, after = messages[:100], messages[100:200], messages[200:]
        settings = collector_settings(mosquitto, url, tmp_path, store_timeout_s=1.0)
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            store = open_store(url)
            pub.publish_all(first)
            wait_until(lambda: store.count_readings() == 1_000, 20, "the first readings")
            influx.stop()
            pub.publish_all(during)
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == 200, 30, "spooled acks"
            )
            # At least the outage's readings; more if InfluxDB answered 5xx to a write it had
            # in fact made (seen under load): spooled anyway, replaying it is harmless.
            assert collector.counters.snapshot().spooled >= 1_000
            influx.start()
            pub.publish_all(after)
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == len(messages), 30, "acks"
            )
            wait_until(
                lambda: (
                    collector.counters.snapshot().replayed == collector.counters.snapshot().spooled
                ),
                30,
                "the spool replayed",
            )
            assert store.count_readings() == 3_000
            store.close()
    finally:
        influx.stop()


def test_device_cannot_publish_as_another_sensor(sqlite_url: str, tmp_path: Path) -> None:
    """With the shipped ACL a device (username = its sensor id) may publish only to its own
    topic: what it sends to another sensor's or a network server's topic never arrives."""
    broker = start_mosquitto(tmp_path / "mosquitto", extra_users={MOISTURE: "device-secret"})
    try:
        settings = collector_settings(broker, sqlite_url, tmp_path)
        now = int(time.time())
        forged = [
            (native_topic(DIRT), dumps({"ts": now - 5, "kind": "dirt", "value": 99})),
            (
                "application/x/device/a840410000000005/event/up",
                dumps({"deviceInfo": {"devEui": "a840410000000005"}, "object": {"battery": 1}}),
            ),
        ]
        own = [(native_topic(MOISTURE), dumps({"ts": now - 5, "kind": "moisture", "value": 4}))]
        device_url = f"mqtt://{MOISTURE}:device-secret@127.0.0.1:{broker.port}"
        store = open_store(sqlite_url)
        try:
            with running_collector(settings) as collector:
                with publisher(device_url) as device:
                    codes = device.publish_all(forged + own, timeout=10)
                # Mosquitto answers a refused MQTT 5 publish with a failing PUBACK reason code
                # and drops it: it must never reach the collector.
                assert [str(code) for code in codes] == ["Not authorized"] * 2 + ["Success"]
                wait_until(lambda: store.count_readings() == 1, 10, "the device's own reading")
                time.sleep(0.3)
                assert collector.counters.snapshot().received == 1
            frame = store.read_readings(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC))
            assert set(frame["sensor_id"]) == {MOISTURE}
            assert store.read_quarantine() == []
        finally:
            store.close()
    finally:
        broker.stop()


def test_full_spool_stops_acknowledging_until_the_store_answers(
    mosquitto: Mosquitto, sqlite_url: str, registry: Registry, tmp_path: Path
) -> None:
    """At the spool's bound the collector holds the batch unacknowledged (back-pressure) rather
    than dropping it; when the store answers again everything is stored and acknowledged."""
    messages = native_batches(registry, 500, per_message=10)
    settings = collector_settings(
        mosquitto, sqlite_url, tmp_path, store_timeout_s=0.2, spool_max_bytes=1024, batch_size=100
    )
    path = settings.store.path
    assert path is not None
    store = open_store(sqlite_url)  # creates the schema before the lock
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            blocker.execute("BEGIN EXCLUSIVE")
            pub.publish_all(messages)
            wait_until(lambda: collector.counters.snapshot().spooled > 0, 10, "a spooled batch")
            time.sleep(1.0)
            held = collector.counters.snapshot()
            assert held.received == len(messages)
            assert held.acknowledged < len(messages)  # the rest waits, unacknowledged
            assert held.spooled == held.acknowledged * 10  # every ack is backed by the spool
            blocker.execute("COMMIT")
            wait_until(lambda: store.count_readings() == 500, 30, "all readings")
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == len(messages), 10, "acks"
            )
    finally:
        blocker.close()
        store.close()


def test_collector_reconnects_after_a_broker_restart(
    mosquitto: Mosquitto, sqlite_url: str, registry: Registry, tmp_path: Path
) -> None:
    """The broker restarts (persistence on): the collector reconnects with backoff, resumes its
    session and stores what was published while it was away, once."""
    messages = native_batches(registry, 2_000, per_message=10)
    settings = collector_settings(mosquitto, sqlite_url, tmp_path)
    store = open_store(sqlite_url)
    try:
        with running_collector(settings) as collector:
            with publisher(mosquitto.url_for(SIMULATOR_USER)) as pub:
                pub.publish_all(messages[:100])
            wait_until(lambda: store.count_readings() == 1_000, 20, "the first readings")
            mosquitto.restart()
            with publisher(mosquitto.url_for(SIMULATOR_USER)) as pub:
                pub.publish_all(messages[100:])
            wait_until(lambda: store.count_readings() == 2_000, 30, "the rest after the restart")
            assert collector.counters.snapshot().received >= len(messages)
    finally:
        store.close()


def test_shared_subscription_splits_the_load(
    mosquitto: Mosquitto, sqlite_url: str, registry: Registry, tmp_path: Path
) -> None:
    """Two collectors in one `$share` group: each message reaches one of them, all are stored."""
    messages = native_batches(registry, 2_000, per_message=10)
    first = collector_settings(mosquitto, sqlite_url, tmp_path / "a", share_group="floorwatch")
    # The broker names a session by its account: a second collector has an account of its own.
    second = collector_settings(
        mosquitto,
        sqlite_url,
        tmp_path / "b",
        share_group="floorwatch",
        mqtt_url=mosquitto.url_for(SECOND_COLLECTOR_USER),
    )
    store = open_store(sqlite_url)
    try:
        with running_collector(first) as one, running_collector(second) as two:
            with publisher(mosquitto.url_for(SIMULATOR_USER)) as pub:
                pub.publish_all(messages)
            wait_until(lambda: store.count_readings() == 2_000, 20, "all readings")
            received = [one.counters.snapshot().received, two.counters.snapshot().received]
        assert sum(received) == len(messages)
        assert min(received) > 0
    finally:
        store.close()


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 (EC keys: quick to make), in a
    folder Mosquitto can reach after dropping to its own user."""
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=floorwatch-test-ca",
    )
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    )
    for path in folder.iterdir():
        path.chmod(0o644)  # Mosquitto may read them as its own user
    return folder / "ca.crt", folder / "server.crt", folder / "server.key"


def test_collector_speaks_tls_to_an_mqtts_url(
    mosquitto: Mosquitto, sqlite_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shared = Path(tempfile.mkdtemp(prefix="floorwatch-tls-"))
    shared.chmod(0o755)
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    ca, cert, key = _certificates(shared / "tls")
    tls_port = free_port()
    (mosquitto.workdir / "listeners.d" / "tls.conf").write_text(
        f"listener {tls_port} 127.0.0.1\ncertfile {cert}\nkeyfile {key}\n"
    )
    mosquitto.restart()
    settings = collector_settings(
        mosquitto,
        sqlite_url,
        tmp_path,
        mqtt_url=f"mqtts://floorwatch-collector:{TEST_PASSWORD}@127.0.0.1:{tls_port}",
        mqtt_ca_file=ca,
    )
    store = open_store(sqlite_url)
    try:
        with running_collector(settings), publisher(mosquitto.url_for(SIMULATOR_USER)) as pub:
            reading = {"ts": int(time.time()) - 5, "kind": "moisture", "value": 3}
            pub.publish_all([(native_topic(MOISTURE), dumps(reading))])
            wait_until(lambda: store.count_readings() == 1, 10, "the reading over TLS")
    finally:
        store.close()
