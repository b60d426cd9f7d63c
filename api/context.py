"""What the API's requests share: settings, the registry, the keys, the store and the caches.

Built once by `create_app`. The store is opened on first use, so the service starts (and `/health`
answers) even while the store is down; a store that cannot be reached gives 503 answers.
"""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd

from api.cache import TtlCache
from api.keys import KeyStore
from api.metrics import RequestCounter
from api.points import records
from api.schemas import EntranceState
from floorwatch.registry import Registry
from floorwatch.settings import Settings
from floorwatch.store import Store, open_store

STALE_TTLS = 3  # how many cache periods (api_cache_s) an expired entry may still be served


class ApiContext:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        keys: KeyStore,
        store: Store | None = None,
    ):
        self.settings = settings
        self.registry = registry
        self.keys = keys
        self._store = store
        self._owns_store = store is None
        self._lock = threading.Lock()
        # Stored results and current state may be served up to STALE_TTLS cache periods old
        # while they are refreshed (api/cache.py): a busy API never waits for the store.
        stale_s = STALE_TTLS * settings.api_cache_s
        self.points_cache: TtlCache[list[dict[str, Any]]] = TtlCache(
            settings.api_cache_s, stale_s=stale_s
        )
        self.recent_cache: TtlCache[pd.DataFrame] = TtlCache(settings.api_cache_s, max_items=8)
        self.state_cache: TtlCache[EntranceState] = TtlCache(settings.api_cache_s, stale_s=stale_s)
        self.health_cache: TtlCache[Any] = TtlCache(min(settings.api_cache_s, 2.0), max_items=4)
        self.requests = RequestCounter()

    @property
    def store(self) -> Store:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = open_store(
                        self.settings.store, sensor_tags=self.registry.sensor_tags
                    )
        return self._store

    async def apoints(self, measurement: str, **tags: str | None) -> list[dict[str, Any]]:
        """Stored results of a measurement with the given tag values (None = any), as records
        (tags and fields; `time` a UTC datetime), cached; a cache hit never leaves the event
        loop and costs no pandas work."""
        given = {k: v for k, v in tags.items() if v is not None}
        key = (measurement, tuple(sorted(given.items())))
        return await self.points_cache.aget(
            key, lambda: records(self.store.read_points(measurement, tags=given))
        )

    def close(self) -> None:
        for cache in (self.points_cache, self.recent_cache, self.state_cache, self.health_cache):
            cache.close()
        if self._store is not None and self._owns_store:
            self._store.close()
        self.keys.close()
