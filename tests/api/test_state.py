"""Current state: latest values per zone, wet now and since when, from a short cache."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from api.state import entrance_state
from floorwatch.registry import Registry
from floorwatch.store import open_store
from tests.api.conftest import Api
from tests.api.pilot_data import DRY_ENTRANCE, WET_ENTRANCE, Reading


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_a_wet_entrance_says_since_when(api: Api) -> None:
    state = api.get("admin", f"/api/v1/entrances/{WET_ENTRANCE}/state").json()
    assert state["wet"] is True
    assert state["judged_zone"] == "inner"
    assert state["wet_threshold"] == 20.0
    assert _ms(state["wet_since"]) == api.filled.wet_from_ms
    assert state["wet_since_before"] is False
    assert _ms(state["as_of"]) == api.filled.now_ms
    assert state["supplier"] == "entre-ren"
    zones = {z["zone"]: z for z in state["zones"]}
    assert set(zones) == {"outside", "entry", "inner"}
    assert zones["inner"]["moisture"]["value"] == 35.0
    assert zones["inner"]["moisture"]["stale"] is False
    assert zones["entry"]["footfall"]["value"] == 3.0
    assert zones["entry"]["passages_last_hour"] == 36.0  # 12 reports x 3 passages
    assert zones["entry"]["dirt"] is not None


def test_a_dry_entrance_is_not_wet(api: Api) -> None:
    state = api.get("admin", f"/api/v1/entrances/{DRY_ENTRANCE}/state").json()
    assert state["wet"] is False and state["wet_since"] is None
    assert state["supplier"] == "torrgolv"


def test_an_entrance_without_readings_has_an_empty_state(api: Api) -> None:
    state = api.get("admin", "/api/v1/entrances/sku-rydsgard-main/state").json()
    assert state["wet"] is None and state["as_of"] is None
    assert all(z["moisture"] is None for z in state["zones"])


def test_the_state_of_all_entrances_and_of_one_school(api: Api) -> None:
    every = api.get("admin", "/api/v1/state").json()
    assert len(every) == 15
    school = api.get("procurement", "/api/v1/state", school="yst-ostra").json()
    assert {s["entrance"] for s in school} == {DRY_ENTRANCE, "yst-ostra-main"}
    supplier = api.get("supplier_torr", "/api/v1/state").json()
    assert {s["supplier"] for s in supplier} == {"torrgolv"}


def test_the_state_is_cached_for_a_few_seconds(api: Api) -> None:
    path = f"/api/v1/entrances/{DRY_ENTRANCE}/state"
    before = api.get("admin", path).json()
    store = open_store(api.settings.store)
    later = api.filled.now_ms + 300_000
    store.write_readings([Reading(f"{DRY_ENTRANCE}-inner-moisture", "moisture", later, 50.0)])
    store.close()
    cached = api.get("admin", path).json()
    assert cached == before  # from the cache: the store was not read again
    api.client.app.state.context.state_cache.clear()  # type: ignore[attr-defined]
    fresh = api.get("admin", path).json()
    assert fresh["wet"] is True and _ms(fresh["wet_since"]) == later
    assert fresh["as_of"] != before["as_of"]
    assert datetime.fromisoformat(fresh["as_of"]) > datetime(2026, 1, 1, tzinfo=UTC)


def test_the_installation_of_the_local_day_decides_at_half_past_midnight(
    tmp_path: Path, registry: Registry
) -> None:
    # 00:30 in Sweden on the installations' first day is 22:30 UTC the day before: the state
    # must name the new installation's supplier, not the UTC date's (none: baseline).
    entrance, school = registry.entrance("trb-vastervang-main")
    store = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        first_day = datetime(2026, 10, 1, 0, 30, tzinfo=ZoneInfo("Europe/Stockholm"))
        state = entrance_state(store, registry, entrance, school, first_day.astimezone(UTC))
        assert state.supplier == "entre-ren"
        day_before = datetime(2026, 9, 30, 23, 30, tzinfo=ZoneInfo("Europe/Stockholm"))
        state = entrance_state(store, registry, entrance, school, day_before.astimezone(UTC))
        assert state.supplier is None
    finally:
        store.close()
