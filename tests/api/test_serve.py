"""`floorwatch serve`: the real command, uvicorn, real HTTP over a socket."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys

import httpx

from tests.api.conftest import Api
from tests.services import _stop, _wait_for_port, free_port


def _serve(api: Api, log_name: str) -> tuple[subprocess.Popen[bytes], str]:
    """`floorwatch serve` on a free port over the api fixture's store and keys; (process, URL)."""
    port = free_port()
    log = api.settings.keys_file.parent / log_name
    env = {
        **os.environ,
        "FLOORWATCH_KEYS_FILE": str(api.settings.keys_file),
        "FLOORWATCH_REPORTS_DIR": str(api.settings.reports_dir),
        "FLOORWATCH_MQTT_URL": "mqtt://127.0.0.1:1",
    }
    command = ["serve", "--port", str(port), "--store-url", api.settings.store_url]
    process = subprocess.Popen(
        [sys.executable, "-m", "floorwatch", *command],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, process, "floorwatch serve", log)
    except BaseException:
        _stop(process)
        raise
    return process, f"http://127.0.0.1:{port}"


def test_serve_answers_over_http(api: Api) -> None:
    process, base = _serve(api, "serve.log")
    try:
        assert httpx.get(f"{base}/health", timeout=10).json()["store"]["ok"] is True
        assert httpx.get(f"{base}/api/v1/schools", timeout=10).status_code == 401
        headers = {"Authorization": f"Bearer {api.tokens['supplier_torr']}"}
        cards = httpx.get(f"{base}/api/v1/scorecards", headers=headers, timeout=10).json()
        assert cards and {c["supplier"] for c in cards} == {"torrgolv"}
    finally:
        _stop(process)


def test_serve_refuses_oversized_headers_and_sends_security_headers(api: Api) -> None:
    """Through the real `floorwatch serve` (uvicorn, httptools): headers over 32 KiB get 431
    and a closed connection before any route runs; HTML has a CSP, every answer nosniff."""
    process, base = _serve(api, "serve-limits.log")
    port = int(base.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
            sent = 0
            with contextlib.suppress(OSError):  # the server closes as soon as it has enough
                while sent < 64 * 1024 * 1024:
                    sock.sendall(b"a" * 65_536)
                    sent += 65_536
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
        assert sent < 16 * 1024 * 1024  # refused long before 64 MB were read
        health = httpx.get(f"{base}/health", headers={"X-Small": "a" * 4_000}, timeout=10)
        assert health.status_code == 200  # ordinary headers pass, the server goes on
        assert health.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in health.headers  # JSON
        docs = httpx.get(f"{base}/docs", timeout=10)
        assert docs.headers["content-type"].startswith("text/html")
        assert "script-src" not in docs.headers["content-security-policy"]  # none at all
        assert "default-src 'none'" in docs.headers["content-security-policy"]
        assert docs.headers["x-content-type-options"] == "nosniff"
    finally:
        _stop(process)
