"""Readings: raw pages that join up exactly, downsampling, and refused ranges and parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.conftest import Api
from tests.api.pilot_data import HISTORY_END, HISTORY_START, WET_ENTRANCE

ENTRANCE = f"/api/v1/entrances/{WET_ENTRANCE}/readings"
SENSOR = f"/api/v1/sensors/{WET_ENTRANCE}-inner-moisture/readings"
SPAN = {"start": HISTORY_START.isoformat(), "end": HISTORY_END.isoformat()}


def test_pages_join_up_to_every_reading_exactly_once(api: Api) -> None:
    rows: list[tuple[str, str, str]] = []
    cursor = None
    pages = 0
    while True:
        params = {**SPAN, "limit": 700}
        if cursor:
            params["cursor"] = cursor
        body = api.get("admin", ENTRANCE, **params).json()
        assert len(body["readings"]) <= 700
        rows.extend((r["time"], r["sensor_id"], r["kind"]) for r in body["readings"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages > 5
    assert len(rows) == len(set(rows)) == api.filled.history_rows[WET_ENTRANCE]
    assert rows == sorted(rows)


def test_readings_of_one_sensor_and_filters(api: Api) -> None:
    body = api.get("admin", SENSOR, start="2026-09-29T00:00:00Z", end="2026-09-29T01:00:00Z").json()
    assert [r["time"] for r in body["readings"]][:2] == [
        "2026-09-29T00:00:00Z",
        "2026-09-29T00:05:00Z",
    ]
    assert len(body["readings"]) == 12 and body["next_cursor"] is None
    assert {r["kind"] for r in body["readings"]} == {"moisture"}
    inner = api.get("admin", ENTRANCE, **SPAN, zone="inner", limit=10).json()
    assert {r["sensor_id"].split("-")[-2] for r in inner["readings"]} == {"inner"}
    dirt = api.get("admin", ENTRANCE, **SPAN, kind="dirt", limit=10).json()
    assert {r["kind"] for r in dirt["readings"]} == {"dirt"}
    none = api.get("admin", SENSOR, **SPAN, kind="footfall").json()
    assert none["readings"] == [] and none["next_cursor"] is None


def test_downsampling_means_and_sums_per_bucket(api: Api) -> None:
    body = api.get(
        "admin", ENTRANCE, start="2026-09-29T00:00:00Z", end="2026-09-29T02:00:00Z", every="15m"
    ).json()
    assert body["every"] == "15m"
    footfall = [r for r in body["readings"] if r["kind"] == "footfall"]
    assert len(footfall) == 8  # 2 h of 15-minute buckets, one footfall sensor
    assert all(r["value"] == 9.0 and r["count"] == 3 for r in footfall)  # 3 reports x 3 passages
    moisture = [r for r in body["readings"] if r["sensor_id"].endswith("inner-moisture")]
    assert moisture[0]["time"] == "2026-09-29T00:00:00Z"
    assert moisture[0]["value"] == 11.0  # mean of 10, 11, 12
    assert moisture[1]["time"] == "2026-09-29T00:15:00Z"


def test_downsampled_pages_join_up(api: Api) -> None:
    whole = api.get("admin", ENTRANCE, **SPAN, every="1h", limit=10000).json()
    assert whole["next_cursor"] is None
    rows = []
    cursor = None
    while True:
        params = {**SPAN, "every": "1h", "limit": 50}
        if cursor:
            params["cursor"] = cursor
        body = api.get("admin", ENTRANCE, **params).json()
        rows.extend(body["readings"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert rows == whole["readings"]
    assert len(rows) == 4 * 24 * 6  # four days of hours, six sensors


def test_too_large_ranges_and_pages_are_refused_clearly(api: Api) -> None:
    year = {"start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"}
    raw = api.get("admin", SENSOR, **year)
    assert raw.status_code == 422 and "range too large" in raw.json()["detail"]
    assert api.get("admin", SENSOR, **year, every="1d").status_code == 200
    buckets = api.get("admin", SENSOR, **year, every="1m")
    assert buckets.status_code == 422 and "too many buckets" in buckets.json()["detail"]
    page = api.get("admin", SENSOR, **SPAN, limit=100_000)
    assert page.status_code == 422 and "limit" in page.json()["detail"]


def test_bad_parameters_get_a_clear_422(api: Api) -> None:
    cases = [
        ({"start": "yesterday", "end": "2026-09-30T00:00:00Z"}, "start"),
        ({"start": "2026-09-30T00:00:00", "end": "2026-09-30T01:00:00"}, "UTC offset"),
        ({"start": "2026-09-30T02:00:00Z", "end": "2026-09-30T01:00:00Z"}, "end must be after"),
        ({**SPAN, "every": "15x"}, "every"),
        ({**SPAN, "every": "30s"}, "at least 1m"),
        ({**SPAN, "cursor": "bm9wZQ"}, "cursor"),
        ({**SPAN, "kind": "mud"}, "kind"),
        ({"end": "2026-09-30T01:00:00Z"}, "start"),
        ({"start": "1900-01-01T00:00:00Z", "end": "2026-09-30T01:00:00Z"}, "between 2000"),
    ]
    for params, words in cases:
        response = api.get("admin", SENSOR, **params)
        assert response.status_code == 422, (params, response.text)
        assert words in response.json()["detail"], (params, response.json())
    assert api.get("admin", "/api/v1/sensors/NOT%20AN%20ID/readings", **SPAN).status_code == 422
    assert api.get("admin", "/api/v1/sensors/no-such-sensor/readings", **SPAN).status_code == 404


def test_times_with_offsets_are_honoured(api: Api) -> None:
    local = api.get(
        "admin", SENSOR, start="2026-09-29T02:00:00+02:00", end="2026-09-29T02:10:00+02:00"
    ).json()
    assert [r["time"] for r in local["readings"]] == [
        "2026-09-29T00:00:00Z",
        "2026-09-29T00:05:00Z",
    ]
    assert datetime.fromisoformat(local["start"]) == datetime(2026, 9, 29, tzinfo=UTC)


def test_a_downsampled_page_too_small_for_one_bucket_is_refused(api: Api) -> None:
    response = api.get("admin", ENTRANCE, **SPAN, every="1h", limit=2)
    assert response.status_code == 422 and "raise limit" in response.json()["detail"]
    one_sensor = api.get("admin", SENSOR, **SPAN, every="1h", limit=2).json()
    assert 1 <= len(one_sensor["readings"]) <= 2 and one_sensor["next_cursor"]


def test_pages_across_long_gaps_find_every_reading(api: Api) -> None:
    # History in late September 2026, live readings now: a long gap between them.
    now = datetime.now(UTC)
    span = {
        "start": (now - timedelta(days=92)).isoformat(),
        "end": (now + timedelta(days=1)).isoformat(),
    }
    whole = api.get("admin", SENSOR, **span, limit=10000).json()
    assert whole["next_cursor"] is None
    paged: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {**span, "limit": 100, **({"cursor": cursor} if cursor else {})}
        body = api.get("admin", SENSOR, **params).json()
        paged.extend(body["readings"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert paged == whole["readings"]
    history = api.filled.history_rows[WET_ENTRANCE] // 6  # one of the entrance's six sensors
    live = 37  # three hours of 5-minute readings up to now
    assert len(paged) in (live, history + live)  # history is in range until early 2027
