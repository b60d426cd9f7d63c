"""Simulator generation rate: a school year of the example pilot, 5-minute reports, to a file.

Runs `floorwatch simulate --out` as a child process (the command a technician runs, with its
default `--workers`), timed end to end from here: start-up, weather, physics and encoding.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.common import Row, child_env, python_module, run_measured

SECTION = "simulate"
START = "2026-08-17"
TARGET = 100_000  # readings/s
_SUMMARY = re.compile(r"([\d,]+) messages, ([\d,]+) readings in ([\d.]+) s")


def run(quick: bool, progress: Callable[[str], None]) -> list[Row]:
    days = 14 if quick else 300
    workdir = Path(tempfile.mkdtemp(prefix="floorwatch-bench-simulate-"))
    try:
        out = workdir / "readings.jsonl"
        progress(f"simulate: {days} days of the pilot from {START} to a file")
        result = run_measured(
            python_module(
                "floorwatch", "simulate", "--start", START, "--days", str(days), "--out", str(out)
            ),
            child_env(),
            workdir,
            timeout_s=1800,
        )
        match = _SUMMARY.search(result.output)
        if result.returncode != 0 or match is None:
            raise RuntimeError(f"floorwatch simulate failed: {result.output[-1500:]}")
        messages = int(match.group(1).replace(",", ""))
        readings = int(match.group(2).replace(",", ""))
        inner_s = float(match.group(3))
        rate = readings / result.seconds
        return [
            Row(
                SECTION,
                f"{days} days of the pilot to a file",
                round(rate),
                "readings/s",
                target=">= 100,000 readings/s",
                met=rate >= TARGET,
                note=(
                    f"{readings:,} readings ({messages:,} messages) in {result.seconds:.1f} s "
                    f"end to end ({readings / inner_s:,.0f}/s as the command reports it); "
                    f"peak RSS {result.peak_rss_mb:,.0f} MB"
                ),
                detail={
                    "days": days,
                    "start": START,
                    "messages": messages,
                    "readings": readings,
                    "seconds": round(result.seconds, 2),
                    "command_seconds": inner_s,
                    "file_bytes": out.stat().st_size,
                    "peak_rss_mb": round(result.peak_rss_mb),
                },
            )
        ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
