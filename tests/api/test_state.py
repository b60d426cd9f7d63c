"""Current state: latest values per zone, wet now and since when, from a short cache."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from analytics.kpis import wet_episodes
from analytics.minutes import state_on_minutes
from api.state import entrance_state, wet_since
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


def _moisture(values: list[float], start_ms: int = 1_790_838_000_000) -> pd.DataFrame:
    """Inner-zone moisture readings every 5 minutes, as the store returns them."""
    times = pd.to_datetime(
        [start_ms + i * 300_000 for i in range(len(values))], unit="ms", utc=True
    )
    return pd.DataFrame(
        {"time": times, "sensor_id": "s-inner", "kind": "moisture", "value": values}
    )


def test_wet_since_has_the_kpis_hysteresis() -> None:
    start_ms = 1_790_838_000_000
    # 19 % is at or below the 20 % threshold but above 20 - 2: the floor is still drying, the
    # episode that began with the first 25 % goes on.
    assert wet_since(_moisture([10, 25, 19, 25, 26]), 20.0) == (True, start_ms + 300_000, False)
    # 17 % is dry (<= 18 %): a new episode begins with the next 25 %.
    assert wet_since(_moisture([10, 25, 17, 25, 26]), 20.0) == (True, start_ms + 900_000, False)
    assert wet_since(_moisture([25, 19, 24]), 20.0) == (True, start_ms, True)  # before the lookback
    assert wet_since(_moisture([25, 19]), 20.0)[0] is True  # drying, not yet dry
    assert wet_since(_moisture([25, 18]), 20.0) == (False, None, False)
    assert wet_since(_moisture([10, 19.5]), 20.0) == (False, None, False)  # never rose above 20


def test_the_live_view_and_the_scorecard_agree_on_when_an_episode_began() -> None:
    values = [5, 22, 19, 21, 18.5, 19.5, 23, 20, 17.5, 20.5, 24, 19, 18.1, 22, 21]
    readings = _moisture(values)
    index = pd.date_range(readings["time"].iloc[0], periods=len(values) * 5, freq="min")
    minutes = state_on_minutes(index, readings["time"], readings["value"], gap_limit_min=10)
    episodes = wet_episodes(minutes, np.ones(len(index), dtype=bool), 20.0)
    last = int(episodes["start"].iloc[-1])
    assert last + int(episodes["minutes"].iloc[-1]) == len(index)  # still wet at the end
    wet, since_ms, _ = wet_since(readings, 20.0)
    assert wet is True and since_ms == index[last].value // 1_000_000
    assert len(episodes) == 2  # 17.5 ended the first; 18.5 and 18.1 ended neither
