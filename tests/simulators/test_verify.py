"""`floorwatch simulate verify` end to end: real Mosquitto, the real collector (`python -m
floorwatch ingest` in its own process) and each store backend. Zero loss while the collector
runs; loss reported once it is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from floorwatch.registry import Registry
from floorwatch.settings import parse_mqtt_url
from floorwatch.store import open_store
from simulators.verify import run_verify
from tests.services import COLLECTOR_USER, SIMULATOR_USER, Mosquitto

REPO = Path(__file__).resolve().parents[2]


def _verify(mosquitto: Mosquitto, store_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "floorwatch",
            "simulate",
            "verify",
            *args,
            "--mqtt-url",
            mosquitto.url_for(SIMULATOR_USER),
            "--store-url",
            store_url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_verify_with_the_collector_then_without(
    mosquitto: Mosquitto, store_url: str, tmp_path: Path, registry: Registry
) -> None:
    log = tmp_path / "collector.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FLOORWATCH_")},
        "FLOORWATCH_MQTT_URL": mosquitto.url_for(COLLECTOR_USER),
        "FLOORWATCH_STORE_URL": store_url,
        "FLOORWATCH_SPOOL_DIR": str(tmp_path / "spool"),
        "FLOORWATCH_CLIENT_ID": "collector-verify-test",
        "FLOORWATCH_BATCH_WAIT_MS": "50",
        "PYTHONPATH": str(REPO),
    }
    collector = subprocess.Popen(
        [sys.executable, "-m", "floorwatch", "ingest"],
        env=env,
        cwd=tmp_path,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while "event=subscribed" not in log.read_text() and time.monotonic() < deadline:
            assert collector.poll() is None, log.read_text()
            time.sleep(0.05)
        # Ystad: native and ChirpStack (people counters); Skurup: SenML and The Things Stack.
        done = _verify(
            mosquitto,
            store_url,
            "--school",
            "yst-ostra",
            "--school",
            "sku-rydsgard",
            "--count",
            "4",
            "--max-latency",
            "5",
        )
        assert done.returncode == 0, done.stdout + done.stderr + log.read_text()[-3000:]
        assert "quarantined 0, lost 0" in done.stdout and "OK" in done.stdout
    finally:
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=30)

    # The collector stopped: the same check (in this process) reports the loss.
    store = open_store(store_url, sensor_tags=registry.sensor_tags)
    try:
        result = run_verify(
            registry,
            parse_mqtt_url(mosquitto.url_for(SIMULATOR_USER)),
            store,
            ["yst-ostra-main-inner-dirt", "sku-rydsgard-main-inner-moisture"],
            count=3,
            timeout_s=1.5,
        )
    finally:
        store.close()
    # dirt: 3 readings; the Elsys leak sensor: moisture and temperature per uplink.
    assert (result.sent, result.stored, result.lost) == (9, 0, 9)
    assert not result.ok(max_latency_s=60)
