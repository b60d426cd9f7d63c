# ruff: noqa: E501  (SMHI file lines are as long as SMHI writes them)
"""SMHI's own file layouts into `floorwatch weather import`: the corrected archive's data.csv
(header blocks, `Datum;Tid (UTC);...;Kvalitet;;Tidsutsnitt:` rows with notes in the last
column), data.json of the daily precipitation (parameter 5, values with from/to/ref), values of
quality Y kept apart from G, and a folder with a file that cannot be used.

The layouts follow SMHI's open-data downloads (opendata-download-metobs.smhi.se, API version
1.0: `.../parameter/{7|5}/station/{id}/period/corrected-archive/data.csv` and
`.../period/latest-months/data.json`), written here from SMHI's documentation of the format,
with a few rows each."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.weather import daily_weather, parse_smhi, station_sensor
from floorwatch.localtime import day_bounds
from floorwatch.registry.schema import OpeningHours
from floorwatch.store import open_store
from tests.analytics.test_cli import floorwatch_main

HOURLY_CSV = """\
Stationsnamn;Stationsnummer;Stationsnät;Mäthöjd (meter över marken)
Ystad;53430;SMHIs stationsnät;1.5

Parameternamn;Beskrivning;Enhet
Nederbördsmängd;summa 1 timme, 1 gång/tim;millimeter

Tidsperiod (fr.o.m);Tidsperiod (t.o.m);Höjd (meter över havet);Latitud (decimalgrader);Longitud (decimalgrader)
1995-01-01 00:00:00;2026-08-31 23:59:59;5.0;55.4298;13.8236

Datum;Tid (UTC);Nederbördsmängd;Kvalitet;;Tidsutsnitt:
2026-08-31;18:00:00;0.0;G;;Kvalitetskontrollerade historiska data (utom de senaste 3 mån)
2026-08-31;19:00:00;0.4;G;;Tidsperiod (fr.o.m.) = 1995-01-01 00:00:00 (UTC)
2026-08-31;20:00:00;1.2;G;;Tidsperiod (t.o.m.) = 2026-08-31 23:59:59 (UTC)
2026-08-31;21:00:00;7.9;Y;;Samplingstid = Ja
2026-08-31;22:00:00;;G;;
2026-08-31;23:00:00;0.1;G;;
"""

DAILY_CSV = """\
Stationsnamn;Stationsnummer;Stationsnät;Mäthöjd (meter över marken)
Skurup;53300;SMHIs stationsnät;1.5

Parameternamn;Beskrivning;Enhet
Nederbördsmängd;summa 1 dygn, 1 gång/dygn, kl 06;millimeter

Tidsperiod (fr.o.m);Tidsperiod (t.o.m);Höjd (meter över havet);Latitud (decimalgrader);Longitud (decimalgrader)
1961-01-01 00:00:00;2026-08-31 23:59:59;60.0;55.4800;13.5000

Från Datum Tid (UTC);Till Datum Tid (UTC);Representativt dygn;Nederbördsmängd;Kvalitet;;Tidsutsnitt:
2026-08-29 06:00:01;2026-08-30 06:00:00;2026-08-29;3.2;G;;Kvalitetskontrollerade historiska data (utom de senaste 3 mån)
2026-08-30 06:00:01;2026-08-31 06:00:00;2026-08-30;0.0;G;;
2026-08-31 06:00:01;2026-09-01 06:00:00;2026-08-31;12.5;Y;;
"""


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def daily_json(station: int, days: list[tuple[str, str, str]]) -> str:
    """SMHI data.json of parameter 5: values `{from, to, ref, value, quality}`."""
    values = [
        {
            "from": ms(f"{ref}T06:00:01"),
            "to": ms(f"{ref}T06:00:00") + 86_400_000,
            "ref": ref,
            "value": value,
            "quality": quality,
        }
        for ref, value, quality in days
    ]
    return json.dumps(
        {
            "value": values,
            "updated": ms("2026-09-02T06:00:00"),
            "parameter": {
                "key": "5",
                "name": "Nederbördsmängd",
                "summary": "summa 1 dygn, 1 gång/dygn, kl 06",
                "unit": "millimeter",
            },
            "station": {"key": str(station), "name": "Trelleborg A", "owner": "SMHI"},
            "period": {"key": "latest-months", "from": ms("2026-05-01T00:00:00")},
            "position": [
                {"from": 0, "to": 0, "height": 5.0, "latitude": 55.37, "longitude": 13.15}
            ],
        }
    )


def test_a_corrected_archive_csv_imports_with_its_counts(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(HOURLY_CSV, encoding="utf-8")
    item = parse_smhi(path)
    assert (item.station, item.kind, item.error) == (53430, "precipitation", None)
    assert len(item.readings) == 5 and item.skipped == 1 and item.suspect == 1
    by_sensor = {(r.sensor_id, r.ts_ms): r.value for r in item.readings}
    assert by_sensor[("smhi-53430", ms("2026-08-31T20:00:00"))] == 1.2
    assert by_sensor[("smhi-53430-suspect", ms("2026-08-31T21:00:00"))] == 7.9


def test_older_windows_1252_downloads_read_too(tmp_path: Path) -> None:
    path = tmp_path / "smhi-opendata_7_53430_20260901_101010.csv"
    path.write_bytes(HOURLY_CSV.encode("cp1252"))
    assert len(parse_smhi(path).readings) == 5


@pytest.mark.parametrize("layout", ["json", "csv"])
def test_daily_precipitation_imports_by_its_representative_day(tmp_path: Path, layout: str) -> None:
    if layout == "json":
        path = tmp_path / "data.json"
        path.write_text(
            daily_json(
                53300,
                [
                    ("2026-08-29", "3.2", "G"),
                    ("2026-08-30", "0.0", "G"),
                    ("2026-08-31", "12.5", "Y"),
                ],
            )
        )
    else:
        path = tmp_path / "data.csv"
        path.write_text(DAILY_CSV, encoding="utf-8")
    item = parse_smhi(path)
    assert (item.station, item.kind) == (53300, "precipitation_day")
    assert sorted((r.sensor_id, r.ts_ms, r.value) for r in item.readings) == [
        ("smhi-53300", ms("2026-08-29T12:00:00"), 3.2),
        ("smhi-53300", ms("2026-08-30T12:00:00"), 0.0),
        ("smhi-53300-suspect", ms("2026-08-31T12:00:00"), 12.5),
    ]


def test_daily_sums_stand_in_where_there_is_no_hourly_data() -> None:
    hours = OpeningHours()  # 07:30 to 16:30: with the three hours before, 12 of 24 hours
    weather = pd.DataFrame(
        {
            "time": pd.to_datetime(
                [ms("2026-09-01T12:00:00"), ms("2026-09-02T12:00:00"), ms("2026-09-03T09:00:00")],
                unit="ms",
                utc=True,
            ),
            "kind": ["precipitation_day", "precipitation_day", "precipitation"],
            "value": [6.0, 2.0, 0.5],
        }
    )
    days = np.array(["2026-09-01", "2026-09-02", "2026-09-03"], dtype="datetime64[D]")
    out = daily_weather(weather, hours, days)
    assert out["precip_day_mm"].tolist() == [6.0, 2.0, 0.5]
    assert out["precip_open_mm"].tolist() == [3.0, 1.0, 0.5]
    assert out["precip_prev_day_mm"].iloc[1:].tolist() == [6.0, 2.0]


def test_a_folder_with_an_unusable_file_imports_the_rest_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "smhi"
    folder.mkdir()
    (folder / "ystad-hourly.csv").write_text(HOURLY_CSV, encoding="utf-8")
    (folder / "trelleborg-daily.json").write_text(
        daily_json(52230, [("2026-08-30", "1.5", "G"), ("2026-08-31", "4.0", "G")])
    )
    (folder / "wind.csv").write_text(
        HOURLY_CSV.replace("Nederbördsmängd;summa 1 timme", "Vindhastighet;medelvärde 10 min"),
        encoding="utf-8",
    )
    (folder / "broken.json").write_text('{"value": [', encoding="utf-8")
    store_url = f"sqlite:///{tmp_path / 'w.db'}"
    done = floorwatch_main(capsys, "weather", "import", str(folder), "--store-url", store_url)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert any(
        line.startswith("not imported:") and "wind.csv: SMHI parameter not supported" in line
        for line in lines
    )
    assert any(
        line.startswith("not imported:") and "broken.json: not a readable JSON" in line
        for line in lines
    )
    assert "imported 7 readings from 2 files" in done.stderr
    (error,) = [line for line in lines if line.startswith("error:")]
    assert "2 of 4 files could not be used:" in error
    assert "broken.json: not a readable JSON" in error and "wind.csv: SMHI parameter" in error
    assert "1 of quality other than G, kept apart" in done.stderr
    store = open_store(store_url)
    start, end = day_bounds(date(2026, 8, 1), date(2026, 10, 1))
    frame = store.read_readings(start, end)
    # what the fairness model reads: the approved values of a station only
    approved = store.read_readings(start, end, sensor_ids=[station_sensor(53430)])
    store.close()
    assert sorted(set(frame["sensor_id"])) == ["smhi-52230", "smhi-53430", "smhi-53430-suspect"]
    assert len(frame) == 7
    assert sorted(approved["value"]) == [0.0, 0.1, 0.4, 1.2]
