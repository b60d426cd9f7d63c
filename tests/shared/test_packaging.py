"""Packaging: building the project and running its tests print no deprecation warning caused by
the project's own configuration (pyproject.toml, the pinned test dependencies)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from tests.services import REPO


def test_build_prints_no_deprecation_warning(tmp_path: Path) -> None:
    # What `pip install .` runs: a wheel built by setuptools in an isolated build environment,
    # from a copy (setuptools builds in the source tree: build/, *.egg-info).
    source = tmp_path / "source"
    skip = (".*", "build", "dist", "demo", "tests", "*.egg-info", "__pycache__", "*.db*")
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*skip))
    wheels = tmp_path / "wheels"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(wheels)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "Deprecat" not in output and "deprecated" not in output, output
    (wheel,) = wheels.glob("floorwatch-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    assert "License-Expression: MIT" in metadata.splitlines()


def test_license_is_an_spdx_string() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    assert any(r.startswith("setuptools>=77") for r in project["build-system"]["requires"])


def test_starlette_test_client_imports_without_warning() -> None:
    # starlette's TestClient warns (StarletteDeprecationWarning) when it finds httpx, not httpx2
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import fastapi.testclient"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_the_image_copies_every_package_the_distribution_has() -> None:
    # `floorwatch --help` loads every component's commands: a package missing from the image
    # breaks the image's CLI, not just one command.
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", dockerfile, re.MULTILINE))
    assert packages == copied
    entry_points = project["project"]["entry-points"]["floorwatch.commands"].values()
    assert {target.split(".")[0] for target in entry_points} <= packages
