"""The line-protocol encoder: the same points as the general `line()`, escaping that InfluxDB
reads back as written, and text no device can make it fail on."""

from __future__ import annotations

import math

from floorwatch.readings import Point, Reading
from floorwatch.store import open_store
from floorwatch.store.influx import InfluxStore
from floorwatch.store.lineprotocol import ReadingLines, body, line

MS0 = 1_791_180_000_000
HOSTILE = "a b,c=d\\e\"f'g"  # every character line protocol escapes, and quotes


def _tags(sensor_id: str) -> dict[str, str]:
    return {"school": f"school {sensor_id}", "zone": HOSTILE, "entrance": "", "municipality": "y"}


def test_cached_prefixes_give_the_lines_line_gives() -> None:
    readings = [
        Reading("s1", "moisture", MS0, 3),
        Reading("s1", "moisture", MS0 + 60_000, 12.5),
        Reading(HOSTILE, "dirt", MS0, 1e16),
        Reading("s1", "footfall", MS0, 0.1),
    ]
    encoder = ReadingLines(_tags)
    for _ in range(2):  # the second pass comes from the cache
        expected = [
            line(
                "reading",
                {**_tags(r.sensor_id), "sensor_id": r.sensor_id, "kind": r.kind},
                {"value": r.value},
                r.ts_ms,
            )
            for r in readings
        ]
        assert encoder.lines(readings) == expected
    assert encoder.lines(readings)[0] == (
        "reading,kind=moisture,municipality=y,school=school\\ s1,sensor_id=s1,"
        "zone=a\\ b\\,c\\=d\\\\e\"f'g value=3.0 1791180000000"
    )


def test_a_non_finite_value_is_written_as_line_writes_it() -> None:
    encoder = ReadingLines()
    for value in (math.nan, math.inf, -math.inf):
        reading = Reading("s1", "moisture", MS0, value)
        assert encoder.lines([reading]) == [
            line("reading", {"sensor_id": "s1", "kind": "moisture"}, {"value": value}, MS0)
        ]


def test_forget_rebuilds_the_tags_after_a_registry_change() -> None:
    zone = {"now": "inner"}
    encoder = ReadingLines(lambda sensor_id: {"zone": zone["now"]})
    reading = Reading("s1", "moisture", MS0, 1.0)
    assert "zone=inner" in encoder.lines([reading])[0]
    zone["now"] = "outer"
    assert "zone=inner" in encoder.lines([reading])[0]  # cached until told
    encoder.forget()
    assert "zone=outer" in encoder.lines([reading])[0]


def test_a_lone_surrogate_does_not_stop_a_write() -> None:
    text = line("quarantine", {"reason": "bad\ud800"}, {"detail": 'x\udfff"y'}, MS0)
    assert body([text]) == b'quarantine,reason=bad\\ud800 detail="x\\udfff\\"y" 1791180000000\n'


def test_hostile_tags_and_fields_round_trip_through_influxdb(influx_url: str) -> None:
    opened = open_store(influx_url, sensor_tags=_tags)
    assert isinstance(opened, InfluxStore)
    try:
        opened.write_readings(
            [Reading(HOSTILE, "moisture", MS0, 7), Reading("s\ud800", "dirt", MS0, 2)]
        )
        series = opened.query(
            'SELECT "value", "sensor_id", "kind", "zone", "school", "entrance" FROM "reading"'
        )
        rows = sorted(tuple(row[1:]) for one in series for row in one["values"])
        # InfluxDB 1.x unescapes only "\,", "\=" and "\ " in tags and keeps "\\" as two
        # backslashes (registry ids are slugs, so no reading's tags hold one); an empty tag
        # value is left out.
        kept = HOSTILE.replace("\\", "\\\\")
        assert rows == [
            (2.0, "s\\ud800", "dirt", kept, "school s\\ud800", None),
            (7.0, kept, "moisture", kept, f"school {kept}", None),
        ]
        # string fields come back exactly as written, quotes and backslashes included
        opened.write_points([Point("note", {"about": "x"}, MS0, {"text": HOSTILE + "\ud800"})])
        assert opened.read_points("note")["text"].tolist() == [HOSTILE + "\\ud800"]
    finally:
        opened.close()
