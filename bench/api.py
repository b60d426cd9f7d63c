"""API latency (p50/p95/p99) at a fixed request rate on loopback against `floorwatch serve`.

The API (uvicorn, one worker, as `floorwatch serve` starts it) serves a SQLite store with the
simulated pilot (bench.pilot_store) and one month scored by analytics (`floorwatch score
--period 2026-10 --write`, set-up). The load is open-loop: requests are started at a fixed rate
whatever the answers do, each from its scheduled time, so a slow answer cannot hide the queue
behind it (no coordinated omission). The load generator is its own process
(`python -m bench.api_load`), so it does not share a core's GIL with the server.
"""

from __future__ import annotations

import json
import math
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.common import Row, child_env, python_module
from bench.pilot_store import prepared
from bench.score import QUICK_DAYS, START, YEAR_DAYS
from tests.services import free_port

SECTION = "api"
RATE = 200  # requests/s
TARGET_MS = 50.0
PERIOD = "2026-10"


def _endpoints(installation: str, entrance: str) -> dict[str, list[str]]:
    """Each benchmarked endpoint group: the paths requested in turn."""
    return {
        "current state": ["/api/v1/state", f"/api/v1/entrances/{entrance}/state"],
        "scorecards": [
            f"/api/v1/scorecards?period={PERIOD}",
            f"/api/v1/scorecards/{installation}/{PERIOD}",
        ],
    }


def _serve(workdir: Path, db: Path, port: int) -> subprocess.Popen[bytes]:
    env = child_env(
        FLOORWATCH_STORE_URL=f"sqlite:///{db}",
        FLOORWATCH_KEYS_FILE=str(workdir / "keys.db"),
        FLOORWATCH_REPORTS_DIR=str(workdir / "reports"),
        FLOORWATCH_MQTT_URL="mqtt://127.0.0.1:1",
        FLOORWATCH_LOG_LEVEL="WARNING",
    )
    return subprocess.Popen(
        python_module("floorwatch", "serve", "--port", str(port)),
        env=env,
        cwd=workdir,
        stdout=(workdir / "serve.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"floorwatch serve exited: {log.read_text()[-2000:]}")
        try:
            httpx.get(f"{base}/health", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError("floorwatch serve did not answer within 60 s")


def _service_ms(base: str, headers: dict[str, str], paths: list[str], rounds: int = 10) -> float:
    """Median latency one request at a time (keep-alive): the server's own service time, which
    bounds what one worker can sustain."""
    times = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for _ in range(rounds):
            for path in paths:
                started = time.perf_counter()
                client.get(path).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(quick: bool, progress: Callable[[str], None]) -> list[Row]:
    from api.keys import KeyStore, Role

    days = QUICK_DAYS if quick else YEAR_DAYS
    duration_s = 5 if quick else 10
    db_source = prepared(START, days, progress)
    workdir = Path(tempfile.mkdtemp(prefix="floorwatch-bench-api-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        db = workdir / "pilot.db"
        shutil.copyfile(db_source, db)  # the score below writes results into it
        progress(f"api: scoring {PERIOD} into the store (set-up)")
        subprocess.run(
            python_module(
                "floorwatch", "score", "--period", PERIOD, "--store-url", f"sqlite:///{db}"
            ),
            env=child_env(FLOORWATCH_REPORTS_DIR=str(workdir / "reports")),
            cwd=workdir,
            check=True,
            capture_output=True,
            timeout=1800,
        )
        keys = KeyStore(workdir / "keys.db")
        try:
            token = keys.create(Role.PROCUREMENT, label="bench")[0]
        finally:
            keys.close()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = _serve(workdir, db, port)
        _wait_healthy(base, server, workdir / "serve.log")
        headers = {"Authorization": f"Bearer {token}"}
        cards = httpx.get(f"{base}/api/v1/scorecards", params={"period": PERIOD}, headers=headers)
        cards.raise_for_status()
        listed = cards.json()
        items = listed["items"] if isinstance(listed, dict) else listed
        if not items:
            raise RuntimeError(f"no scorecards for {PERIOD} in the store")
        installation, entrance = items[0]["installation"], items[0]["entrance"]
        rows = []
        for name, paths in _endpoints(installation, entrance).items():
            progress(f"api: {name} at {RATE} req/s for {duration_s} s")
            for path in paths:  # warm: first-request caches and connections
                httpx.get(base + path, headers=headers, timeout=30).raise_for_status()
            service_ms = _service_ms(base, headers, paths)
            limit_s = duration_s * 3 + 120
            try:
                result = subprocess.run(
                    python_module(
                        "bench.api_load", base, token, str(RATE), str(duration_s), *paths
                    ),
                    env=child_env(),
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=limit_s,
                )
            except subprocess.TimeoutExpired:
                rows.append(
                    Row(
                        SECTION,
                        f"{name} (p95)",
                        None,
                        "ms",
                        target=f"p95 < {TARGET_MS:g} ms at {RATE} req/s",
                        met=False,
                        note=(
                            f"overloaded: the load generator could not finish {limit_s} s after "
                            f"starting; one at a time {service_ms:.1f} ms (median); "
                            f"{', '.join(paths)}"
                        ),
                        detail={"paths": paths, "sequential_median_ms": round(service_ms, 2)},
                    )
                )
                continue
            stats = json.loads(result.stdout.strip().splitlines()[-1])
            p95 = stats["p95_ms"]
            ok = stats["errors"] == 0 and math.isfinite(p95)
            rows.append(
                Row(
                    SECTION,
                    f"{name} (p95)",
                    p95 if math.isfinite(p95) else None,
                    "ms",
                    target=f"p95 < {TARGET_MS:g} ms at {RATE} req/s",
                    met=p95 < TARGET_MS and ok,
                    note=(
                        f"p50 {stats['p50_ms']:.1f} ms, p99 {stats['p99_ms']:.1f} ms, "
                        f"{stats['sent']:,} requests at {stats['achieved_rate']:.0f}/s, "
                        f"{stats['errors']} errors; one at a time {service_ms:.1f} ms (median); "
                        f"{', '.join(paths)}"
                    ),
                    detail={
                        **{
                            k: v if not isinstance(v, float) or math.isfinite(v) else None
                            for k, v in stats.items()
                        },
                        "paths": paths,
                        "days_in_store": days,
                        "sequential_median_ms": round(service_ms, 2),
                    },
                )
            )
        return rows
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(workdir, ignore_errors=True)
