"""The `floorwatch score` and `floorwatch weather import` commands, run as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from analytics.cli import score, weather_app
from analytics.payment import bonus_malus, weighted_score
from analytics.scorecard import Scorer, write_results
from floorwatch.cli import exit_code_of, main
from floorwatch.errors import FloorwatchError
from floorwatch.localtime import day_bounds, period_bounds
from floorwatch.registry import Registry
from floorwatch.registry.schema import BonusMalus
from floorwatch.store import open_store
from tests.analytics.synthetic import pilot_readings, to_readings

RAIN = {52230: 2.0, 53300: 1.0, 54290: 0.5}
CAPTURE = {"entre-ren": 0.8, "torrgolv": 0.6, "skrapzon": 0.4}


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def floorwatch_main(capsys: pytest.CaptureFixture[str], *args: str) -> Done:
    """The real `floorwatch` entry point (error mapping, exit codes), in this process."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Done(code, captured.out, captured.err)


def floorwatch(*args: str, cwd: Path) -> Done:
    """The analytics commands in this process (fast): typer's runner on the same functions."""
    app = typer.Typer()
    app.command("score")(score)
    app.add_typer(weather_app, name="weather")
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(
            app, list(args), env={"FLOORWATCH_REPORTS_DIR": str(cwd / "reports")}
        )
    finally:
        os.chdir(old)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error = result.exception
        code = exit_code_of(error) if isinstance(error, FloorwatchError) else 1
        return Done(code, result.stdout, f"error: {result.exception}")
    return Done(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def two_days(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "floorwatch.db"
    start, end = day_bounds(date(2026, 10, 1), date(2026, 10, 2))
    readings, _ = pilot_readings(registry, start, end, RAIN, CAPTURE)
    store = open_store(f"sqlite:///{path}")
    store.write_readings(to_readings(readings))
    store.close()
    return f"sqlite:///{path}"


def test_score_from_to_writes_points_report_and_csv(two_days: str, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    done = floorwatch(
        "score", "--from", "2026-10-01", "--to", "2026-10-02", "--format", "csv",
        "--out", str(out), "--store-url", two_days, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 12 * 6
    assert {r["status"] for r in rows} <= {"pass", "fail", "insufficient"}
    assert "12 scorecards" in done.stderr
    report = tmp_path / "reports" / "report-2026-10-01..2026-10-02.html"
    assert report.exists() and "data:image/png;base64," in report.read_text()
    store = open_store(two_days)
    cards = store.read_points("scorecard", tags={"period": "2026-10-01..2026-10-02"})
    store.close()
    assert len(cards) == 12


def test_score_lang_overrides_the_registrys_language(two_days: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = floorwatch(
        "score", "--from", "2026-10-01", "--to", "2026-10-02", "--format", "html", "--lang", "en",
        "--out", str(out), "--store-url", two_days, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '<html lang="en">' in out.read_text() and "League table" in out.read_text()
    reports = tmp_path / "reports"
    default = (reports / "report-2026-10-01..2026-10-02.html").read_text()
    assert default == (reports / "report-2026-10-01..2026-10-02.en.html").read_text()
    swedish = (reports / "report-2026-10-01..2026-10-02.sv.html").read_text()
    assert '<html lang="sv">' in swedish and "Rangordning" in swedish  # the pilot's language


def test_an_unknown_language_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    done = floorwatch_main(
        capsys, "score", "--period", "2026-10", "--lang", "de", "--store-url", "sqlite:///x.db"
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "error: language 'de' has no catalogue; available: en, sv"
    ]


def test_score_json_to_stdout_is_canonical(two_days: str, tmp_path: Path) -> None:
    done = floorwatch(
        "score", "--from", "2026-10-01", "--to", "2026-10-02", "--no-write",
        "--store-url", two_days, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert len(document["scorecards"]) == 12
    comparison = document["comparisons"]["skane-entrance-2026"]
    # two days and no baseline before them: no effect to compare, and the document says why
    assert comparison["ranking"] == [] and comparison["no_difference_shown"] is True
    assert {r["reason"] for r in comparison["left_out"]} == {"no baseline model"}
    assert not (tmp_path / "reports").exists()  # --no-write


def test_bad_period_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = floorwatch_main(capsys, "score", "--period", "2026-13", "--store-url", "sqlite:///x.db")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: period must look like 2026-10 (year-month), got '2026-13'"
    ]
    done = floorwatch("score", "--store-url", "sqlite:///x.db", cwd=tmp_path)
    assert done.returncode == 2 and "--period" in done.stderr
    assert "Example: floorwatch score" in floorwatch("score", "--help", cwd=tmp_path).stdout


def test_a_period_without_data_is_insufficient_never_a_fail(
    registry: Registry, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    start, end = period_bounds("2026-10")
    result = Scorer(store, registry, resamples=50).score("2026-10", start, end)
    store.close()
    assert len(result.scorecards) == 12
    for card in result.scorecards:
        doc = card.document
        assert {k["status"] for k in doc["kpis"].values()} == {"insufficient"}
        assert doc["score"] is None or doc["status"] == "insufficient"
        assert doc["payment"]["bonus_malus_sek"] == 0.0
        assert doc["payment"]["payment_sek"] == 18000.0
    assert {h.status for h in result.sensor_health.values()} == {"silent"}


def test_weighted_score_and_bonus_malus_by_hand() -> None:
    weights = {"a": 0.3, "b": 0.2, "c": 0.5}
    assert weighted_score({"a": "pass", "b": "fail", "c": "insufficient"}, weights) == 0.6
    assert weighted_score({"a": "insufficient"}, {"a": 1.0}) != weighted_score({}, {})  # NaN
    rule = BonusMalus(base_payment_sek=18000.0)  # bonus from 0.8 (max 10 %), malus below 0.6
    assert bonus_malus(1.0, rule, 18000.0) == pytest.approx(1800.0)
    assert bonus_malus(0.9, rule, 18000.0) == pytest.approx(900.0)
    assert bonus_malus(0.7, rule, 18000.0) == 0.0
    assert bonus_malus(0.3, rule, 18000.0) == pytest.approx(-0.5 * 0.15 * 18000.0)
    assert bonus_malus(0.0, rule, 18000.0) == pytest.approx(-2700.0)
    assert bonus_malus(float("nan"), rule, 18000.0) == 0.0


def smhi_document(station: int | None, parameter: int | None, values: list[tuple[int, str]]) -> str:
    document: dict[str, object] = {
        "value": [{"date": ms, "value": v, "quality": "G"} for ms, v in values]
    }
    if station is not None:
        document["station"] = {"key": str(station), "name": "Test"}
    if parameter is not None:
        document["parameter"] = {"key": str(parameter), "name": "Test", "unit": "mm"}
    return json.dumps(document)


def test_weather_import_by_file_name_and_by_json_keys(tmp_path: Path) -> None:
    folder = tmp_path / "smhi"
    folder.mkdir()
    hour = 1_790_000_000_000
    (folder / "smhi-52230-7.json").write_text(
        smhi_document(
            None, None, [(hour, "0.4"), (hour + 3_600_000, "1.2"), (hour + 7_200_000, "x")]
        )
    )
    (folder / "temperature.json").write_text(smhi_document(53300, 1, [(hour, "-2.5")]))
    store_url = f"sqlite:///{tmp_path / 'w.db'}"
    done = floorwatch("weather", "import", str(folder), "--store-url", store_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "imported 3 readings from 2 files" in done.stderr
    store = open_store(store_url)
    start, end = day_bounds(date(2026, 1, 1), date(2027, 1, 1))
    frame = store.read_readings(start, end)
    store.close()
    assert sorted(zip(frame["sensor_id"], frame["kind"], frame["value"], strict=True)) == [
        ("smhi-52230", "precipitation", 0.4),
        ("smhi-52230", "precipitation", 1.2),
        ("smhi-53300", "air_temperature", -2.5),
    ]
    (folder / "wind.json").write_text(smhi_document(53300, 4, [(hour, "3")]))
    done = floorwatch("weather", "import", str(folder), "--store-url", store_url, cwd=tmp_path)
    assert done.returncode == 2 and "parameter 4 not supported" in done.stderr


@pytest.fixture(scope="module")
def insufficient_october(registry: Registry, tmp_path_factory: pytest.TempPathFactory):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('empty') / 'empty.db'}")
    start, end = period_bounds("2026-10")
    result = Scorer(store, registry, resamples=50).score("2026-10", start, end)
    store.close()
    return result


def test_results_round_trip_through_both_stores(insufficient_october, registry, store) -> None:
    written = write_results(store, insufficient_october, registry)
    assert written == 12 * 6 + 12 + 1 + 91 + len(store.read_points("trend"))
    kpi = store.read_points("kpi", tags={"installation": "inst-yst-ostra-main"})
    assert len(kpi) == 6 and set(kpi["status"]) == {"insufficient"}
    assert set(kpi["period"]) == {"2026-10"}
    assert (kpi["time"] == pd.Timestamp("2026-09-30 22:00", tz="UTC")).all()
    card = store.read_points("scorecard", tags={"installation": "inst-yst-ostra-main"})
    assert card["payment_sek"].iloc[0] == 18000.0 and card["insufficient"].iloc[0] == 5.0
    document = json.loads(card["document"].iloc[0])
    assert document["installation"] == "inst-yst-ostra-main" and document["score"] is None
    health = store.read_points("sensor_health", tags={"period": "2026-10"})
    assert len(health) == 91 and set(health["status"]) == {"silent"}
