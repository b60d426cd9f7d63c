"""Shared fixtures: real Mosquitto and InfluxDB servers, stores of both backends, the registry."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from floorwatch.registry import Registry, load_registry
from floorwatch.store import Store, open_store
from tests.services import InfluxDB, Mosquitto, start_influxdb, start_mosquitto

# Property-based tests draw the same examples on every run, so CI passes or fails on the code,
# not on the draw; FLOORWATCH_FUZZ=explore draws new ones (how the 1e308 time was found).
hypothesis_settings.register_profile("reproducible", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("FLOORWATCH_FUZZ", "reproducible"))


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The shipped example pilot."""
    return load_registry()


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB]:
    """One real influxd for the session; each test gets its own database (influx_url)."""
    server = start_influxdb(tmp_path_factory.mktemp("influxdb"))
    yield server
    server.stop()


@pytest.fixture
def influx_url(influxdb: InfluxDB) -> str:
    return influxdb.url(f"test_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh real Mosquitto per test (with the shipped config), so sessions never leak."""
    broker = start_mosquitto(tmp_path / "mosquitto")
    yield broker
    broker.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'floorwatch.db'}"


@pytest.fixture(params=["sqlite", "influxdb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store of each backend: tests using it run against both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'floorwatch.db'}"
    server: InfluxDB = request.getfixturevalue("influxdb")
    return server.url(f"test_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(store_url: str, registry: Registry) -> Iterator[Store]:
    """An open store of each backend (sensor location tags from the example pilot)."""
    opened = open_store(store_url, sensor_tags=registry.sensor_tags)
    yield opened
    opened.close()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Subprocesses a test starts (collectors...): killed at the end if still running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
