"""API fixtures: one real SQLite store filled like the pilot, a key per role, a TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from floorwatch.registry import Registry
from floorwatch.settings import Settings, load_settings
from floorwatch.store import open_store
from tests.api.pilot_data import Filled, fill

# name -> (role, supplier, schools)
KEYS: dict[str, tuple[str, str | None, list[str] | None]] = {
    "admin": ("admin", None, None),
    "procurement": ("procurement", None, None),
    "technician": ("technician", None, None),
    "facility_trb": ("facility", None, ["trb-vastervang"]),
    "facility_yst": ("facility", None, ["yst-ostra"]),
    "supplier_entre": ("supplier", "entre-ren", None),
    "supplier_torr": ("supplier", "torrgolv", None),
}


@dataclass
class Api:
    client: TestClient
    settings: Settings
    filled: Filled
    tokens: dict[str, str]

    def get(self, key: str | None, path: str, **params: Any) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {self.tokens[key]}"} if key else {}
        return self.client.get(path, headers=headers, params=params)


def make_settings(tmp: Path, store_url: str) -> Settings:
    return load_settings(
        store_url=store_url,
        keys_file=tmp / "keys.db",
        reports_dir=tmp / "reports",
        mqtt_url="mqtt://127.0.0.1:1",  # nothing listens: the broker check reports unreachable
    )


def make_keys(settings: Settings) -> dict[str, str]:
    keys = KeyStore(settings.keys_file)
    try:
        return {
            name: keys.create(role, supplier=supplier, schools=schools, label=name)[0]
            for name, (role, supplier, schools) in KEYS.items()
        }
    finally:
        keys.close()


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Iterator[Api]:
    """The API over a real SQLite store filled with pilot readings and results."""
    tmp = tmp_path_factory.mktemp("api")
    settings = make_settings(tmp, f"sqlite:///{tmp / 'floorwatch.db'}")
    store = open_store(settings.store)
    filled = fill(store, registry, datetime.now(UTC), settings.reports_dir)
    store.close()
    tokens = make_keys(settings)
    with TestClient(create_app(settings, registry=registry)) as client:
        yield Api(client, settings, filled, tokens)
