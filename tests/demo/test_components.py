"""The demo's own parts, without running a whole season: which registry it uses, and what a
component that dies is."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import httpx
import pytest
import yaml

from floorwatch.cli import exit_code_of
from floorwatch.errors import ComponentFailed, InvalidRequest
from floorwatch.registry import load_registry
from showcase.demo import Demo, DemoOptions
from tests.demo.test_demo import start_demo
from tests.services import REPO

SCHOOL = "trb-vastervang"


def one_school_registry(folder: Path) -> Path:
    """The shipped pilot cut down to one school (and the installations at its entrances)."""
    shutil.copytree(REPO / "floorwatch" / "pilot", folder)
    organisation = yaml.safe_load((folder / "organisation.yaml").read_text(encoding="utf-8"))
    organisation["schools"] = [s for s in organisation["schools"] if s["id"] == SCHOOL]
    entrances = {e["id"] for e in organisation["schools"][0]["entrances"]}
    (folder / "organisation.yaml").write_text(yaml.safe_dump(organisation), encoding="utf-8")
    suppliers = yaml.safe_load((folder / "suppliers.yaml").read_text(encoding="utf-8"))
    suppliers["installations"] = [
        i for i in suppliers["installations"] if i["entrance"] in entrances
    ]
    (folder / "suppliers.yaml").write_text(yaml.safe_dump(suppliers), encoding="utf-8")
    return folder


def test_the_demo_uses_the_registry_the_settings_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = one_school_registry(tmp_path / "registry")
    monkeypatch.setenv("FLOORWATCH_REGISTRY", str(small))
    demo = Demo(DemoOptions(folder=tmp_path / "demo"))
    assert demo.registry.content_hash == load_registry(small).content_hash
    assert set(demo.registry.schools) == {SCHOOL}


def test_the_whole_demo_runs_on_that_registry(tmp_path: Path) -> None:
    # One simulated day of one school: the simulator, the collector, analytics and the API all
    # see the same registry (before, the demo scored and served the shipped pilot whatever
    # FLOORWATCH_REGISTRY said, while its simulator published the named one).
    small = one_school_registry(tmp_path / "registry")
    registry = load_registry(small)
    running, reader = start_demo(tmp_path, "2026-10-05", 1, FLOORWATCH_REGISTRY=str(small))
    try:
        running.wait_for("ready", 240.0)
        sensors, entrances = len(registry.sensors), len(registry.entrances)
        assert f"of the registry {small}: {sensors} sensors, {entrances} entrances" in (
            running.output
        )
        simulated = re.search(r"simulated\s+([\d,]+) readings", running.output)
        stored = re.search(r"stored\s+([\d,]+) readings; (\d+) rejects", running.output)
        assert simulated and stored, running.output
        # every simulated reading is of a sensor the collector knows: nothing lost
        assert int(stored.group(1).replace(",", "")) > 0 and int(stored.group(2)) < 10
        key = re.search(r"admin key\s+(fwk_\S+)", running.output)
        assert key, running.output
        schools = httpx.get(
            f"{running.url}/api/v1/schools",
            headers={"Authorization": f"Bearer {key.group(1)}"},
            timeout=10,
        ).json()
        assert [s["id"] for s in schools] == [SCHOOL]
    finally:
        assert running.interrupt() == 0, running.output
        reader.join(timeout=10)


def test_a_component_that_dies_is_a_component_failure_not_a_bad_argument(
    tmp_path: Path,
) -> None:
    demo = Demo(DemoOptions(folder=tmp_path / "demo"))
    dead = threading.Thread(target=lambda: None, name="api")
    dead.start()
    dead.join()
    demo._server_thread = dead  # the API's server thread, ended on its own
    with pytest.raises(ComponentFailed, match="the API stopped unexpectedly") as caught:
        demo.serve_until_stopped(poll_s=0.01)
    assert exit_code_of(caught.value) == 8 != exit_code_of(InvalidRequest("--port 1"))
