"""A SQLite store holding a span of the simulated example pilot, for the score and API benches.

The readings are the ones a collector would store (`Simulation.readings()`: the sensors' reports
after their faults), written straight to the store: the MQTT path is measured by the ingest
bench. The simulated weather goes in as SMHI-imported readings (sensor `smhi-<station>`).

As a process (the filling is set-up, not measured): ``python -m bench.pilot_store DB START DAYS``.
`prepared()` fills one store per span and keeps it in bench/.cache for later runs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import REPO, child_env, python_module
from floorwatch.readings import Reading

CACHE = REPO / "bench" / ".cache"  # git-ignored
_PREPARED: dict[tuple[str, int], Path] = {}
_CHUNK = 200_000


def _weather_readings(weather: dict[int, pd.DataFrame]) -> Iterator[Reading]:
    for station, frame in weather.items():
        ms = (pd.DatetimeIndex(frame["time"]).as_unit("ns").asi8 // 1_000_000).tolist()
        for kind in ("precipitation", "air_temperature", "snow_depth"):
            for ts_ms, value in zip(ms, frame[kind].astype(float).tolist(), strict=True):
                if np.isfinite(value):
                    yield Reading(f"smhi-{station}", kind, ts_ms, value)


def fill(path: Path, start: date, days: int) -> int:
    """Simulate `days` of the pilot from `start` into the SQLite file; returns readings stored."""
    from floorwatch.registry import load_registry
    from floorwatch.store import open_store
    from simulators import load_scenario, simulate

    sim = simulate(load_registry(None), load_scenario(), start, days=days, seed=2026)
    store = open_store(f"sqlite:///{path}")
    stored = 0
    try:
        for source in (sim.readings(), _weather_readings(sim.weather)):
            while chunk := list(islice(source, _CHUNK)):
                store.write_readings(chunk)
                stored += len(chunk)
    finally:
        store.close()
    return stored


def _inputs_digest() -> str:
    """What the filled store depends on: the simulator, the pilot registry, the SQLite schema."""
    digest = hashlib.sha256()
    files = [
        *sorted((REPO / "simulators").rglob("*.py")),
        *sorted((REPO / "simulators").rglob("*.yaml")),
    ]
    files += [
        *sorted((REPO / "floorwatch" / "pilot").glob("*.yaml")),
        REPO / "floorwatch" / "store" / "sqlite.py",
    ]
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def prepared(start: date, days: int, progress: Callable[[str], None]) -> Path:
    """The store for this span: filled in a child process on first use and kept in CACHE (it
    takes minutes for a school year), keyed by the span and the simulator's and pilot's code."""
    key = (start.isoformat(), days)
    if key not in _PREPARED:
        CACHE.mkdir(parents=True, exist_ok=True)
        path = CACHE / f"pilot-{start.isoformat()}-{days}d-{_inputs_digest()}.db"
        if not path.exists():
            progress(f"filling a store with {days} simulated days of the pilot (set-up, not timed)")
            partial = path.with_suffix(".partial")
            for leftover in CACHE.glob(partial.name + "*"):
                leftover.unlink()
            subprocess.run(
                python_module("bench.pilot_store", str(partial), start.isoformat(), str(days)),
                env=child_env(),
                check=True,
                timeout=3600,
            )
            os.replace(partial, path)
        else:
            progress(f"using the cached store {path.name}")
        _PREPARED[key] = path
    return _PREPARED[key]


def main() -> None:
    path, start, days = sys.argv[1:4]
    stored = fill(Path(path), date.fromisoformat(start), int(days))
    print(f"stored {stored:,} readings in {path}", flush=True)


if __name__ == "__main__":
    main()
