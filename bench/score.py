"""Scoring time and peak memory for a school year of the example pilot from SQLite.

The store holds the simulated pilot (bench.pilot_store, filled once, not timed). The timed part is
the command procurement runs, `floorwatch score --from ... --to ... --no-write`, as a child
process: wall time end to end (start-up, reading, health, fairness model, bootstrap, scorecards)
and its peak resident memory (ru_maxrss from wait4).
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from bench.common import Row, child_env, not_available, python_module, run_measured

SECTION = "score"
START = date(2026, 8, 17)  # the first day of the school year 2026/27
YEAR_DAYS = 300  # to 2027-06-12, past the last day of term
QUICK_DAYS = 30
TARGET_S = 30.0
TARGET_MB = 2048.0


def available() -> bool:
    return importlib.util.find_spec("analytics.scorecard") is not None


def run(quick: bool, progress: Callable[[str], None]) -> list[Row]:
    target = f"<= {TARGET_S:g} s and <= 2 GB"
    if not available():
        return [not_available(SECTION, "a school year of the pilot", target, "no analytics")]
    from bench.pilot_store import prepared

    days = QUICK_DAYS if quick else YEAR_DAYS
    db = prepared(START, days, progress)
    last = START + timedelta(days=days - 1)
    workdir = Path(tempfile.mkdtemp(prefix="floorwatch-bench-score-"))
    try:
        progress(f"score: {START} to {last} from SQLite")
        result = run_measured(
            python_module(
                "floorwatch",
                "score",
                "--from",
                START.isoformat(),
                "--to",
                last.isoformat(),
                "--store-url",
                f"sqlite:///{db}",
                "--format",
                "json",
                "--out",
                str(workdir / "scorecards.json"),
                "--no-write",
            ),
            child_env(),
            workdir,
            timeout_s=3600,
        )
        if result.returncode != 0:
            raise RuntimeError(f"floorwatch score failed: {result.output[-1500:]}")
        met = result.seconds <= TARGET_S and result.peak_rss_mb <= TARGET_MB
        span = "a school year" if not quick else f"{days} days"
        return [
            Row(
                SECTION,
                f"{span} of the pilot ({START}..{last})",
                round(result.seconds, 1),
                "s",
                target=target,
                met=met,
                note=(
                    f"peak RSS {result.peak_rss_mb:,.0f} MB; "
                    f"store {db.stat().st_size / 1e6:,.0f} MB"
                ),
                detail={
                    "seconds": round(result.seconds, 2),
                    "peak_rss_mb": round(result.peak_rss_mb),
                    "days": days,
                    "store_bytes": db.stat().st_size,
                },
            )
        ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
