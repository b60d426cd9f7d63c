"""An unwritable spool (a full disk, or a file where the spool folder should be) while the store
is down: the collector stops acknowledging, says why in one log line, keeps running, and loses
nothing; when the store answers again everything is stored once and acknowledged.

(tests/ingest covers a spool full at its configured bound; this is the spool failing to write.)
Root ignores file permissions, so the spool folder is replaced by a regular file: every write
into it fails with NotADirectoryError, as it would with ENOSPC, whoever runs the test.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from floorwatch.registry import Registry
from floorwatch.store import open_store
from tests.ingest.helpers import collector_settings, publisher, running_collector, wait_until
from tests.ingest.messages import native_batches
from tests.services import SIMULATOR_USER, Mosquitto


def test_unwritable_spool_holds_acks_and_loses_nothing(
    mosquitto: Mosquitto,
    sqlite_url: str,
    registry: Registry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ingest.collector")
    messages = native_batches(registry, 500, per_message=10)
    settings = collector_settings(
        mosquitto, sqlite_url, tmp_path, store_timeout_s=0.2, batch_size=100
    )
    path = settings.store.path
    assert path is not None
    store = open_store(sqlite_url)  # the schema exists before the store is locked
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            shutil.rmtree(collector.spool_dir)
            collector.spool_dir.write_text("a file where the spool folder should be\n")
            blocker.execute("BEGIN EXCLUSIVE")  # the store stops answering
            pub.publish_all(messages)
            wait_until(
                lambda: "reason=spool_unwritable" in caplog.text, 15, "the back-pressure line"
            )
            time.sleep(1.0)
            held = collector.counters.snapshot()
            assert held.received == len(messages)
            assert held.acknowledged == 0  # nothing is durable anywhere: nothing is acked
            assert held.spooled == 0
            line = next(r for r in caplog.records if "reason=spool_unwritable" in r.getMessage())
            assert line.levelno == logging.WARNING
            assert "Not a directory" in line.getMessage()  # says why
            assert "event=writer_failed" not in caplog.text  # held, not crashed

            blocker.execute("COMMIT")  # the store answers again
            wait_until(lambda: store.count_readings() == 500, 30, "all readings stored")
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == len(messages), 15, "acks"
            )
            assert "event=backpressure_released" in caplog.text
        assert store.count_readings() == 500
        assert store.read_quarantine() == []
    finally:
        blocker.close()
        store.close()
