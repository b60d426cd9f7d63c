"""Store adapters: one interface (`Store`), two backends, opened by URL."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from floorwatch.settings import StoreTarget, parse_store_url
from floorwatch.store.base import READING_COLUMNS, Store

SensorTags = Callable[[str], Mapping[str, str]]


def open_store(target: StoreTarget | str, sensor_tags: SensorTags | None = None) -> Store:
    """Open the store a URL or target names. `sensor_tags(sensor_id)` gives location tags that
    InfluxDB stores with each reading so that dashboards can filter by school and entrance."""
    if isinstance(target, str):
        target = parse_store_url(target)
    if target.backend == "sqlite":
        from floorwatch.store.sqlite import SqliteStore

        assert target.path is not None
        return SqliteStore(target.path)
    from floorwatch.store.influx import InfluxStore

    return InfluxStore(target, sensor_tags=sensor_tags)


__all__ = ["READING_COLUMNS", "SensorTags", "Store", "open_store"]
