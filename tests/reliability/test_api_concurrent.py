"""The API under concurrent load from every role at once, over real HTTP (uvicorn on loopback):
no 5xx, and no cross-role leak: each answer given under load is the one that key gets alone
(same status, and the same entrances, installations, suppliers and schools in the body).

(tests/api checks every role on every endpoint one request at a time; this interleaves them, so
caches or per-request state shared between callers would show.)
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from floorwatch.registry import Registry
from floorwatch.store import open_store
from tests.api.conftest import KEYS, make_keys, make_settings
from tests.api.pilot_data import fill
from tests.api.test_access import MATRIX
from tests.services import free_port

SCOPE_FIELDS = frozenset(
    {"id", "entrance", "entrance_id", "installation", "supplier", "school", "municipality"}
)
Request = tuple[str, str, tuple[tuple[str, str], ...]]  # key name, path, params
Answer = tuple[int, frozenset[str]]


def scope(document: Any) -> frozenset[str]:
    """Every entrance, installation, supplier, school, municipality and id named in a body."""
    found: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in SCOPE_FIELDS and isinstance(value, str):
                    found.add(f"{key}={value}")
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(found)


def answer(response: httpx.Response) -> Answer:
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, scope(response.json())
    return response.status_code, frozenset()


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, registry: Registry
) -> Iterator[tuple[str, dict[str, str]]]:
    """The API over a pilot-like SQLite store, served by uvicorn in a thread."""
    tmp: Path = tmp_path_factory.mktemp("api-concurrent")
    settings = make_settings(tmp, f"sqlite:///{tmp / 'floorwatch.db'}")
    store = open_store(settings.store)
    fill(store, registry, datetime.now(UTC), settings.reports_dir)
    store.close()
    tokens = make_keys(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, registry=registry), host="127.0.0.1", port=port, log_level="error"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", tokens
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def test_every_role_at_once_gets_only_its_own_answers(
    served: tuple[str, dict[str, str]],
) -> None:
    base, tokens = served
    requests: list[Request] = [
        (key, path, tuple(sorted(params.items())))
        for path, params, _ in MATRIX
        if path != "/metrics"  # its counters change with every request
        for key in KEYS
    ]
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    with httpx.Client(base_url=base, limits=limits, timeout=60) as client:

        def ask(request: Request) -> Answer:
            key, path, params = request
            headers = {"Authorization": f"Bearer {tokens[key]}"}
            return answer(client.get(path, params=dict(params), headers=headers))

        alone = {request: ask(request) for request in requests}
        assert not [r for r, (status, _) in alone.items() if status >= 500]

        mixed = requests * 2
        random.Random(7).shuffle(mixed)
        with ThreadPoolExecutor(max_workers=24) as pool:
            together = list(pool.map(ask, mixed))

    # The fingerprints have teeth: a supplier's view of the state is narrower than the admin's.
    state_admin = alone[("admin", "/api/v1/state", ())][1]
    state_supplier = alone[("supplier_torr", "/api/v1/state", ())][1]
    assert state_supplier and state_supplier < state_admin

    errors = [(r, a[0]) for r, a in zip(mixed, together, strict=True) if a[0] >= 500]
    assert not errors, errors[:5]
    differing = [
        (request, alone[request], got)
        for request, got in zip(mixed, together, strict=True)
        if got != alone[request]
    ]
    assert not differing, differing[:3]
    # And the single answers are the access rules (200 for those allowed, 403 for the rest).
    for path, params, allowed in MATRIX:
        for key in KEYS:
            if path == "/metrics":
                continue
            status = alone[(key, path, tuple(sorted(params.items())))][0]
            assert status == (200 if key in allowed else 403), (key, path, status)
