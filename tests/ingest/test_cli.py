"""The commands, run as a user runs them: `python -m floorwatch ingest|quarantine`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from floorwatch.cli import main
from floorwatch.readings import QuarantineRecord
from floorwatch.store import open_store
from tests.services import REPO, Mosquitto


def floorwatch(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOORWATCH_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "floorwatch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_quarantine_lists_recent_rejects(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(sqlite_url)
    store.write_quarantine(
        [
            QuarantineRecord(1_795_000_000_000, "floorwatch/up/x", "unknown_sensor", "no x", "{}"),
            QuarantineRecord(1_795_000_060_000, "floorwatch/up/y", "out_of_range", "140", "{}"),
        ]
    )
    store.close()
    result = floorwatch("quarantine", "--limit", "1", "--store-url", sqlite_url)
    assert result.returncode == 0, result.stderr
    assert "out_of_range" in result.stdout and "floorwatch/up/y" in result.stdout
    assert "unknown_sensor" not in result.stdout  # only the newest one
    empty = sqlite_url.replace(".db", "-empty.db")
    assert run_in_process(capsys, "quarantine", "--store-url", empty)[:2] == (
        0,
        "No quarantined input.\n",
    )


def run_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI's own entry point in this process (faster than a subprocess for quick checks)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_helps_have_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("ingest", "quarantine"):
        code, out, _ = run_in_process(capsys, command, "--help")
        assert code == 0
        assert "Example: floorwatch " + command in out


def test_bad_settings_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("FLOORWATCH_")]:
        monkeypatch.delenv(name)
    code, _, err = run_in_process(capsys, "ingest", "--mqtt-url", "http://nowhere")
    assert code == 2
    assert err.strip().splitlines() == [
        "error: FLOORWATCH_MQTT_URL: expected mqtt://host:port or mqtts://host:port, "
        "got 'http://nowhere'"
    ]


def test_wrong_password_stops_with_a_broker_error(mosquitto: Mosquitto, tmp_path: Path) -> None:
    result = floorwatch(
        "ingest",
        "--mqtt-url",
        f"mqtt://floorwatch-collector:wrong@127.0.0.1:{mosquitto.port}",
        "--store-url",
        f"sqlite:///{tmp_path / 'fw.db'}",
        "--spool-dir",
        str(tmp_path / "spool"),
    )
    assert result.returncode == 5
    assert "error: broker 127.0.0.1" in result.stderr
    assert "refused user floorwatch-collector" in result.stderr


def test_unusable_spool_dir_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    code, _, err = run_in_process(
        capsys,
        "ingest",
        "--mqtt-url",
        "mqtt://127.0.0.1:1",
        "--store-url",
        f"sqlite:///{tmp_path / 'fw.db'}",
        "--spool-dir",
        str(blocked),
    )
    assert code == 2
    assert err.startswith("error: FLOORWATCH_SPOOL_DIR: cannot use ")
    assert len(err.strip().splitlines()) == 1
