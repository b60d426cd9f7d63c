"""The collector SIGKILLed at several random moments of one stream (once while it is still
starting and resuming its session), restarted each time: the store ends with exactly the
readings published, none lost, none doubled.

(tests/ingest covers one SIGKILL mid-stream; this kills it repeatedly, at seeded random moments.)
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path

from floorwatch.registry import Registry
from floorwatch.store import open_store
from tests.ingest.helpers import Publisher, collector_process, wait_until
from tests.ingest.messages import native_batches
from tests.services import COLLECTOR_USER, SIMULATOR_USER, Mosquitto

SEED = 20_261_126  # the moments are random but reproducible
TOTAL = 20_000


def test_repeated_sigkill_at_random_moments_loses_and_doubles_nothing(
    mosquitto: Mosquitto,
    sqlite_url: str,
    registry: Registry,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    rng = random.Random(SEED)
    env = {
        "FLOORWATCH_MQTT_URL": mosquitto.url_for(COLLECTOR_USER),
        "FLOORWATCH_STORE_URL": sqlite_url,
        "FLOORWATCH_SPOOL_DIR": str(tmp_path / "spool"),
        "FLOORWATCH_CLIENT_ID": "collector-killed-repeatedly",
        "FLOORWATCH_BATCH_SIZE": "1000",
        "FLOORWATCH_BATCH_WAIT_MS": "50",
    }
    log = tmp_path / "collector.log"
    messages = native_batches(registry, TOTAL, per_message=50)
    processes.append(collector_process(env, log))
    wait_until(lambda: "event=subscribed" in log.read_text(errors="replace"), 20, "subscribed")

    store = open_store(sqlite_url)
    pub = Publisher(mosquitto.url_for(SIMULATOR_USER))
    published: list[int] = []
    stream = threading.Thread(
        target=lambda: published.append(len(pub.publish_all(messages, timeout=90, pause_s=0.02)))
    )
    stream.start()
    kills: list[str] = []
    try:
        # Kill each time the store has grown by a random amount, a random instant later...
        at_kill = 0
        for _ in range(3):
            target = at_kill + rng.randint(1_000, 3_000)
            wait_until(lambda: store.count_readings() >= target, 60, f"{target} stored")  # noqa: B023
            time.sleep(rng.uniform(0.0, 0.2))
            processes[-1].send_signal(signal.SIGKILL)
            processes[-1].wait()
            at_kill = store.count_readings()
            assert at_kill < TOTAL, "the collector should die with readings still to come"
            kills.append(f"after {at_kill} stored")
            processes.append(collector_process(env, log))
        # ...and once while the restarted collector is still starting up.
        time.sleep(rng.uniform(0.1, 0.8))
        processes[-1].send_signal(signal.SIGKILL)
        processes[-1].wait()
        kills.append("during start-up")
        processes.append(collector_process(env, log))

        stream.join(timeout=90)
        assert published == [len(messages)], "the broker did not take every message"
        wait_until(lambda: store.count_readings() >= TOTAL, 60, f"all {TOTAL} readings")
        time.sleep(0.5)  # late duplicates, if any, would show now
        assert store.count_readings() == TOTAL, kills
        assert store.read_quarantine() == []
        processes[-1].send_signal(signal.SIGTERM)
        assert processes[-1].wait(timeout=20) == 0
    finally:
        pub.close()
        store.close()
    assert len(kills) == 4
    assert "session_present=True" in log.read_text()  # restarts resumed the persistent session
