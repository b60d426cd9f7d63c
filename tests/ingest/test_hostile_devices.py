"""Hostile devices and faults of the collector's own, through the real services: Mosquitto with
the shipped config and ACL, the collector, both stores, and the API. No device can stop ingest,
and nothing valid is lost or doubled."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from floorwatch.readings import QuarantineRecord
from floorwatch.registry import Registry
from floorwatch.settings import load_settings
from floorwatch.store import open_store
from ingest.rejects import message_digest
from tests.ingest.helpers import collector_settings, publisher, running_collector, wait_until
from tests.ingest.messages import DIRT, MOISTURE, dumps, native_topic
from tests.services import SIMULATOR_USER, start_mosquitto

DEVICE_PASSWORD = "device-secret"


@dataclass(frozen=True)
class Hostile:
    """A message a device may send, and what its quarantine record must show (escaped)."""

    name: str
    topic: str
    payload: bytes
    shows: str  # visible in the record's topic, detail or payload
    by_device: bool = True  # sent by the sensor's own account (else the simulator's)


def hostile_messages(now_s: int) -> list[Hostile]:
    own = native_topic(MOISTURE)
    return [
        Hostile("lone surrogate in a SenML name", own, b'[{"n":"\\ud800","vs":"x"}]', "\\ud800"),
        Hostile(
            "lone surrogate as a kind",
            own,
            b'{"ts":%d,"kind":"\\udfff","value":1}' % now_s,
            "\\udfff",
        ),
        Hostile("NUL in a name (JSON escape)", own, b'[{"n":"a\\u0000b","vs":"x"}]', "a\\x00b"),
        Hostile("raw NUL byte", own, b'{"kind":"a\x00b"}', "\\x00"),
        Hostile("invalid UTF-8", own, b'{"ts":1,"kind":"\xff\xfe","value":1}', "\\xff\\xfe"),
        Hostile("overlong encoding of /", own, b'{"kind":"\xc0\xaf"}', "\\xc0\\xaf"),
        Hostile("UTF-8 encoded surrogate", own, b'{"kind":"\xed\xa0\x80"}', "\\xed\\xa0\\x80"),
        Hostile("64 KiB name", own, b'[{"n":"%s","v":1}]' % (b"n" * 60_000), "unknown kind 'nnnn"),
        Hostile(
            "terminal control characters",
            own,
            b'[{"n":"\\u001b[2J\\u0085\\u007f","vs":"x"}]',
            "\\x1b[2J\\x85\\x7f",
        ),
        Hostile("RTL override", own, b'[{"n":"\\u202egnp.exe","vs":"x"}]', "\\u202egnp.exe"),
        # Mosquitto refuses control characters in topics (a malformed packet: the publisher is
        # disconnected); these Unicode topics it passes on.
        Hostile(
            "RTL override in the topic",
            native_topic("evil\u202etxt.exe"),
            dumps({"ts": now_s, "kind": "moisture", "value": 1}),
            "evil\\u202etxt.exe",
            by_device=False,
        ),
        Hostile(
            "byte order mark in the topic",
            native_topic("\ufeff" + MOISTURE),
            dumps({"ts": now_s, "kind": "moisture", "value": 1}),
            "\\ufeff",
            by_device=False,
        ),
        Hostile(
            "64 KiB topic",
            native_topic("t" * 65_000),
            dumps({"ts": now_s, "kind": "moisture", "value": 1}),
            "more characters",
            by_device=False,
        ),
    ]


def _text_of(record: QuarantineRecord) -> str:
    return "\n".join((record.topic, record.reason, record.detail, record.payload, record.key))


def test_hostile_texts_are_quarantined_into_every_store_and_ingest_goes_on(
    store_url: str, tmp_path: Path, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    broker = start_mosquitto(tmp_path / "mosquitto", extra_users={MOISTURE: DEVICE_PASSWORD})
    now_s = int(time.time())
    hostile = hostile_messages(now_s)
    valid = [
        (native_topic(DIRT), dumps({"ts": now_s - 10 * i, "kind": "dirt", "value": i % 90}))
        for i in range(1, 201)
    ]
    store = open_store(store_url)
    caplog.set_level(logging.INFO, logger="ingest")
    try:
        settings = collector_settings(broker, store_url, tmp_path)
        with running_collector(settings) as collector:
            with (
                publisher(f"mqtt://{MOISTURE}:{DEVICE_PASSWORD}@127.0.0.1:{broker.port}") as dev,
                publisher(broker.url_for(SIMULATOR_USER)) as simulator,
            ):
                for message in hostile:  # in order, each between valid readings
                    sender = dev if message.by_device else simulator
                    codes = sender.publish_all([(message.topic, message.payload)])
                    assert not codes[0].is_failure, (message.name, codes)
                    simulator.publish_all(valid[: len(valid) // len(hostile)])
                    del valid[: len(valid) // len(hostile)]
                simulator.publish_all(valid)
            wait_until(lambda: store.count_readings() >= 200, 20, "the 200 valid readings")
            wait_until(lambda: len(store.read_quarantine(1000)) >= len(hostile), 20, "every reject")
            time.sleep(0.3)  # anything doubled would show now
            assert collector.counters.snapshot().errors == 0
        assert store.count_readings() == 200
        records = store.read_quarantine(1000)
        assert len(records) == len(hostile)
        by_message = {record.key.split(":")[0]: record for record in records}
        for message in hostile:
            record = by_message[message_digest(message.topic, message.payload)]
            text = _text_of(record)
            text.encode("utf-8")  # strict: would raise on a lone surrogate
            assert message.shows in text, (message.name, record)
            assert len(record.topic) < 400 and len(record.detail) < 1_200, message.name
        for logged in caplog.records:
            logged.getMessage().encode("utf-8")

        # The API's JSON carries them too.
        api_settings = load_settings(
            store_url=store_url, keys_file=tmp_path / "keys.db", reports_dir=tmp_path / "r"
        )
        keys = KeyStore(api_settings.keys_file)
        token = keys.create("technician", label="hostile test")[0]
        keys.close()
        with TestClient(create_app(api_settings, registry=registry)) as client:
            answer = client.get(
                "/api/v1/quarantine",
                params={"limit": 1000},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert answer.status_code == 200
        shown = answer.json()
        assert sorted(r["detail"] for r in shown) == sorted(r.detail for r in records)
        assert sorted(r["topic"] for r in shown) == sorted(r.topic for r in records)
    finally:
        store.close()
        broker.stop()
