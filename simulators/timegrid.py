"""The minute grid a simulation runs on, with local (Europe/Stockholm) calendar time per minute.

A span starts at local midnight of its first day and ends at local midnight after its last,
so a day is 1,380 or 1,500 minutes on DST change days. Index i is the minute starting at
`start_s + 60 * i` (epoch seconds, UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import numpy as np
import pandas as pd

from floorwatch.localtime import LOCAL_TZ as LOCAL
from floorwatch.localtime import local_midnight_s


@dataclass(frozen=True)
class Span:
    """`days` local days from `start` (a date). Arrays are per minute of the span."""

    start: date
    days: int

    @property
    def start_s(self) -> int:
        return local_midnight_s(self.start)

    @property
    def end_s(self) -> int:
        return local_midnight_s(self.start + timedelta(days=self.days))

    @property
    def minutes(self) -> int:
        return (self.end_s - self.start_s) // 60

    @property
    def hours(self) -> int:
        return -(-self.minutes // 60)

    @cached_property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=d) for d in range(self.days)]

    @cached_property
    def _local(self) -> pd.DatetimeIndex:
        utc = pd.date_range(
            pd.Timestamp(self.start_s, unit="s", tz="UTC"), periods=self.minutes, freq="min"
        )
        return utc.tz_convert(LOCAL)

    @cached_property
    def minute_of_day(self) -> np.ndarray:
        """Local minute of the day (0..1439) per minute."""
        local = self._local
        return (local.hour * 60 + local.minute).to_numpy().astype(np.int32)

    @cached_property
    def day_index(self) -> np.ndarray:
        """Index into `dates` of the local day each minute belongs to."""
        local_days = self._local.normalize().tz_localize(None).to_numpy().astype("datetime64[D]")
        return (local_days - np.datetime64(self.start, "D")).astype(np.int32)

    @cached_property
    def day_starts(self) -> np.ndarray:
        """Minute index where each local day starts, plus the end (len days + 1)."""
        return np.array(
            [(local_midnight_s(d) - self.start_s) // 60 for d in [*self.dates, self.end_date]],
            dtype=np.int64,
        )

    @property
    def end_date(self) -> date:
        return self.start + timedelta(days=self.days)

    @cached_property
    def month(self) -> np.ndarray:
        """Local calendar month (1..12) per minute."""
        return self._local.month.to_numpy().astype(np.int8)

    def hourly(self, per_minute: np.ndarray) -> np.ndarray:
        """Per-minute values summed per hour of the span (the last hour may be partial)."""
        pad = self.hours * 60 - len(per_minute)
        padded = np.concatenate([per_minute, np.zeros(pad, dtype=per_minute.dtype)])
        return padded.reshape(self.hours, 60).sum(axis=1)

    def per_minute(self, per_hour: np.ndarray) -> np.ndarray:
        """Hourly values held over each minute of their hour."""
        return np.repeat(per_hour, 60)[: self.minutes]
