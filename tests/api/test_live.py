"""The live chain: simulator -> real Mosquitto -> the real collector -> SQLite -> the API.
`/health` and `/metrics` show the collector's own counters as it stored them."""

from __future__ import annotations

import itertools
import re
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from floorwatch.registry import Registry
from simulators import load_scenario, simulate
from tests.api.conftest import make_keys, make_settings
from tests.ingest.helpers import collector_settings, publisher, running_collector, wait_until
from tests.services import SIMULATOR_USER, Mosquitto

MESSAGES = 400


def test_health_and_metrics_follow_the_running_collector(
    tmp_path: Path, registry: Registry, mosquitto: Mosquitto
) -> None:
    store_url = f"sqlite:///{tmp_path / 'floorwatch.db'}"
    collector = collector_settings(mosquitto, store_url, tmp_path, counters_interval_s=0.2)
    api_settings = make_settings(tmp_path, store_url).model_copy(
        update={"mqtt_url": mosquitto.url, "api_cache_s": 0.1}
    )
    token = make_keys(api_settings)["technician"]
    sim = simulate(registry, load_scenario(), date(2026, 10, 1), days=1, seed=3)
    messages = [
        (topic, payload if isinstance(payload, bytes) else str(payload).encode())
        for topic, payload in itertools.islice(sim.messages(), MESSAGES)
    ]
    messages.append(("floorwatch/up/yst-ostra-main-inner-moisture", b"{not json"))
    headers = {"Authorization": f"Bearer {token}"}

    with (
        running_collector(collector),
        publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        TestClient(create_app(api_settings, registry=registry)) as client,
    ):
        pub.publish_all(messages)

        def received() -> float:
            text = client.get("/metrics", headers=headers).text
            found = re.search(
                rf'floorwatch_collector_received_total{{collector="{collector.client_id}"}} (\S+)',
                text,
            )
            return float(found.group(1)) if found else 0.0

        quarantined = (
            f'floorwatch_collector_quarantined_by_reason_total{{collector="{collector.client_id}",'
            'reason="malformed_json"}'
        )
        wait_until(lambda: received() >= len(messages), 20, "the collector's counters")
        # A message is counted as received on arrival and as quarantined once decoded: the
        # periodic counter report may fall between the two, so wait for the next one.
        wait_until(
            lambda: quarantined in client.get("/metrics", headers=headers).text,
            20,
            "the quarantine counter",
        )
        health = client.get("/health", headers=headers).json()  # with a key: names too
        assert health["status"] == "ok", health
        assert health["broker"]["ok"] is True and health["store"]["ok"] is True
        [reported] = [c for c in health["collectors"] if c["collector"] == collector.client_id]
        assert reported["report_age_s"] < 30 and reported["lag_s"] is not None
        rejects = client.get("/api/v1/quarantine", headers=headers).json()
        assert rejects[0]["reason"] == "malformed_json"
        assert rejects[0]["topic"] == "floorwatch/up/yst-ostra-main-inner-moisture"
        state = client.get("/api/v1/state", headers=headers).json()
        assert any(s["as_of"] is not None for s in state)
