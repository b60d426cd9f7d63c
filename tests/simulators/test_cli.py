"""`floorwatch simulate` to files: JSON lines, truth, weather; bad input is one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from simulators.cli import app


def test_simulate_to_files(tmp_path: Path) -> None:
    out, truth, weather = tmp_path / "w.jsonl", tmp_path / "t.csv.gz", tmp_path / "weather"
    args = ["--start", "2026-10-12", "--days", "1", "--seed", "3", "--out", str(out)]
    result = CliRunner().invoke(
        app, [*args, "--truth", str(truth), "--weather-out", str(weather)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "readings/s" in result.output and "seed 3" in result.output
    lines = out.read_text().splitlines()
    first = json.loads(lines[0])
    assert set(first) == {"topic", "payload"} and isinstance(first["payload"], str)
    assert truth.exists() and (tmp_path / "t.json").exists()
    assert len(list(weather.glob("smhi-*-*.json"))) == 9  # 3 stations x 3 parameters
    # Same seed: the same bytes.
    again = tmp_path / "again.jsonl"
    result = CliRunner().invoke(app, [*args[:-1], str(again)], catch_exceptions=False)
    assert result.exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "floorwatch",
            "simulate",
            "--scenario",
            str(tmp_path / "missing.yaml"),
            "--out",
            str(tmp_path / "x.jsonl"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert done.stderr.startswith("error: scenario") and "missing.yaml" in done.stderr
