"""Errors to HTTP statuses (api/errors.py): a corrupt stored document is our data's fault (500),
not the store's (502); an unauthenticated caller gets 401 with a Bearer challenge."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import STATUS, status_of
from floorwatch import errors
from floorwatch.errors import FloorwatchError, StoreCorrupt, StoreRejected, Unauthenticated
from floorwatch.readings import Point
from floorwatch.registry import Registry
from floorwatch.store import open_store
from tests.api.conftest import make_keys, make_settings


def test_a_corrupt_stored_document_is_an_internal_error(tmp_path: Path, registry: Registry) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'floorwatch.db'}")
    store = open_store(settings.store)
    point = Point(
        "comparison", {"contract": "skane-entrance-2026", "period": "2026-10"}, 0, {"document": "{"}
    )
    store.write_points([point])
    store.close()
    admin = make_keys(settings)["admin"]
    with TestClient(create_app(settings, registry=registry)) as client:
        answer = client.get(
            "/api/v1/comparisons/skane-entrance-2026/2026-10",
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert answer.status_code == 500
        assert answer.json() == {"detail": "internal error (see the service log)"}
        anonymous = client.get("/api/v1/comparisons")
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"] == "Bearer"


def test_every_error_has_its_status_in_the_one_table() -> None:
    assert status_of(StoreCorrupt("x")) == 500 and status_of(StoreRejected("x")) == 502
    assert status_of(Unauthenticated("x")) == 401
    mapped = {cls for cls, _ in STATUS}
    # classes answered with the default 500 on purpose: our fault, never the caller's
    internal = {"FloorwatchError", "StoreError", "BrokerError", "GrafanaError", "ComponentFailed",
                "WorkerDied"}  # fmt: skip
    for name in dir(errors):
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, FloorwatchError) and name not in internal:
            assert any(issubclass(cls, m) for m in mapped), name
