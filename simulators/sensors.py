"""Sensors: what each sensor reports, when, from the true state of its entrance and zone.

A sensor reports every `report_interval` seconds from a random phase (seeded per sensor), so
sensors of one entrance do not all speak at once. Moisture and dirt are the zone's state at the
minute of the report plus Gaussian noise, clipped to 0..100 and quantised; footfall is the
passages since the previous report; temperature (Elsys) is the air inside the entrance; battery
(%) declines linearly from a random start. Link quality (rssi, snr) of LoRaWAN uplinks is
drawn per message by the encoder (simulators.formats).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from floorwatch.readings import Kind
from floorwatch.registry.model import SensorPlace
from simulators.entrance import EntranceTruth
from simulators.scenario import Scenario, rng_for
from simulators.timegrid import Span


@dataclass
class SensorSeries:
    """One sensor's reports over the span, in time order.

    sent_s: when the report really left the sensor (epoch s, orders the stream); ts_s: the time
    the sensor writes into it (differs under clock skew); seq: the report counter (gaps show
    lost reports); values: kind -> value per report, the sensor's own kind first; totals: running
    in/out counts of a people counter (freeze_totals).
    """

    place: SensorPlace
    sent_s: np.ndarray
    ts_s: np.ndarray
    seq: np.ndarray
    values: dict[str, np.ndarray]
    totals: dict[str, np.ndarray] = field(default_factory=dict)
    tag_ms: int = 0  # milliseconds added to every timestamp (marks a commissioning burst)

    @property
    def sensor_id(self) -> str:
        return self.place.sensor.id

    @property
    def kind(self) -> str:
        return str(self.place.sensor.kind)

    def __len__(self) -> int:
        return len(self.sent_s)

    def keep(self, mask: np.ndarray) -> None:
        """Drop the reports where mask is False (lost)."""
        sent_before = self.sent_s
        self.sent_s = self.sent_s[mask]
        self.ts_s = self.sent_s if self.ts_s is sent_before else self.ts_s[mask]
        self.seq = self.seq[mask]
        self.values = {kind: values[mask] for kind, values in self.values.items()}
        self.totals = {name: total[mask] for name, total in self.totals.items()}

    def freeze_totals(self, seed: int) -> None:
        """Running totals of passages in and out, as a people counter keeps them.

        Taken after value faults and before reports are lost, so that a lost uplink's passages
        still show in the next total. Totals start at a random count (seeded).
        """
        if Kind.FOOTFALL not in self.values:
            return
        rng = rng_for(seed, "counter", self.sensor_id)
        counts = np.maximum(self.values[Kind.FOOTFALL], 0).astype(np.int64)
        inward = rng.binomial(counts, 0.5)
        start_in, start_out = (int(v) for v in rng.integers(0, 60_000, 2))
        self.totals = {
            "in": start_in + np.cumsum(inward),
            "out": start_out + np.cumsum(counts - inward),
        }

    @property
    def readings(self) -> int:
        return len(self.sent_s) * len(self.values)


def quantise(values: np.ndarray, step: float) -> np.ndarray:
    """Round to the sensor's resolution (and to a short decimal representation)."""
    if step >= 1:
        return np.round(values / step) * step
    decimals = max(0, round(-np.log10(step)))
    return np.round(np.round(values / step) * step, decimals)


def sample_sensor(
    place: SensorPlace, truth: EntranceTruth, span: Span, scenario: Scenario, seed: int
) -> SensorSeries:
    """The noise-added, quantised reports of one sensor over the span (module docstring)."""
    sensor = place.sensor
    model = scenario.sensors
    rng = rng_for(seed, "sensor", sensor.id)
    interval = sensor.report_interval
    phase = int(rng.integers(0, interval))
    sent = np.arange(span.start_s + phase, span.end_s, interval, dtype=np.int64)
    minute = (sent - span.start_s) // 60
    count = len(sent)
    zone = str(sensor.zone)

    values: dict[str, np.ndarray] = {}
    kinds = [str(sensor.kind), *(str(k) for k in sensor.also)]
    for kind in kinds:
        noise = model.noise.get(kind, 0.0)
        step = model.step.get(kind, 0.1)
        if kind == Kind.FOOTFALL:
            total = np.concatenate([[0], np.cumsum(truth.passages, dtype=np.int64)])
            at = total[minute + 1]
            values[kind] = np.diff(at, prepend=0).astype(np.float64)
        elif kind in (Kind.MOISTURE, Kind.DIRT):
            state = (truth.moisture if kind == Kind.MOISTURE else truth.dirt)[zone][minute]
            noisy = state + rng.normal(0.0, noise, count)
            values[kind] = quantise(np.clip(noisy, 0.0, 100.0), step)
        elif kind == Kind.TEMPERATURE:
            noisy = truth.temperature[minute] + rng.normal(0.0, noise, count)
            values[kind] = quantise(noisy, step)
        elif kind == Kind.BATTERY:
            start = rng.uniform(*model.battery_start)
            days = (sent - span.start_s) / 86400.0
            values[kind] = quantise(np.clip(start - model.battery_per_day * days, 0, 100), step)
        else:  # humidity and other extras: a plausible indoor value
            values[kind] = quantise(np.clip(45 + rng.normal(0, 3, count), 0, 100), step)
    return SensorSeries(
        place=place,
        sent_s=sent,
        ts_s=sent,  # the same array until a clock is skewed
        seq=np.arange(count, dtype=np.int64),
        values=values,
    )
