"""`floorwatch serve`: the real command, uvicorn, real HTTP over a socket."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from tests.api.conftest import Api
from tests.services import _stop, _wait_for_port, free_port


def test_serve_answers_over_http(api: Api) -> None:
    port = free_port()
    log = api.settings.keys_file.parent / "serve.log"
    env = {
        **os.environ,
        "FLOORWATCH_KEYS_FILE": str(api.settings.keys_file),
        "FLOORWATCH_REPORTS_DIR": str(api.settings.reports_dir),
        "FLOORWATCH_MQTT_URL": "mqtt://127.0.0.1:1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "floorwatch",
            "serve",
            "--port",
            str(port),
            "--store-url",
            api.settings.store_url,
        ],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, process, "floorwatch serve", log)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/health", timeout=10).json()["store"]["ok"] is True
        assert httpx.get(f"{base}/api/v1/schools", timeout=10).status_code == 401
        headers = {"Authorization": f"Bearer {api.tokens['supplier_torr']}"}
        cards = httpx.get(f"{base}/api/v1/scorecards", headers=headers, timeout=10).json()
        assert cards and {c["supplier"] for c in cards} == {"torrgolv"}
    finally:
        _stop(process)
