"""Faults, each switchable and seeded (scenario `faults`), so analytics can prove its sensor
health checks and KPIs withstand them.

Reading faults change a sensor's reports before encoding:
- dropouts: reports lost in gaps (seq numbers show the gap);
- stuck: the value freezes for some hours;
- spikes: single implausible values (a dry floor reads ~90 %, a wet one ~5 %; footfall +200..1000);
- drift: moisture/dirt readings drift away from the truth by per_day units a day;
- clock_skew: the sensor's clock is off by skew_s seconds (its timestamps, not its timing);
- dead_battery: the battery runs down over a day, then the sensor falls silent.
Message faults change the stream:
- duplicates: a message is delivered twice; out_of_order: a message arrives up to max_delay_s
  late, after messages sent later;
- malformed: the payload is truncated, not JSON, empty, or (native) has a non-number value.

Every fault draws from its own random stream (simulators.scenario.rng_for), so switching one on
changes nothing else. `FaultLog` counts what was injected, per fault.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from floorwatch.readings import MEASURED_KINDS, Kind
from simulators.scenario import Faults, rng_for
from simulators.sensors import SensorSeries, quantise

READING_FAULTS = ("drift", "stuck", "spikes", "clock_skew", "dropouts", "dead_battery")
MESSAGE_FAULTS = ("malformed", "duplicates", "out_of_order")


@dataclass
class FaultLog:
    """What was injected: counts per fault and the sensors hit by sensor-wide faults."""

    counts: Counter[str] = field(default_factory=Counter)
    sensors: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"counts": dict(sorted(self.counts.items())), "sensors": self.sensors}


def _chosen(series: list[SensorSeries], share: float, seed: int, name: str) -> list[int]:
    """Indices of the sensors a sensor-wide fault hits: the share, at least one, of the
    sensors the KPIs read (climate sensors are left as they are)."""
    measuring = [i for i, s in enumerate(series) if s.kind in MEASURED_KINDS]
    if not measuring:
        return []
    rng = rng_for(seed, "fault", name)
    count = min(len(measuring), max(1, round(share * len(measuring))))
    return sorted(measuring[int(i)] for i in rng.choice(len(measuring), count, replace=False))


def _spike(values: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == Kind.FOOTFALL:
        return values + rng.integers(200, 1000, len(values))
    high = rng.uniform(85.0, 100.0, len(values))
    low = rng.uniform(0.0, 8.0, len(values))
    return np.where(values < 50.0, high, low)


def apply_reading_faults(
    series: list[SensorSeries],
    faults: Faults,
    seed: int,
    start_s: int,
    log: FaultLog,
    before_loss: Callable[[], object] | None = None,
) -> None:
    """Apply the enabled reading faults to the sensors' reports, in place. `before_loss` runs
    after the value faults and before reports are lost (people counters keep counting)."""
    if faults.drift.enabled:
        candidates = [s for s in series if s.kind in (Kind.MOISTURE, Kind.DIRT)]
        for index in _chosen(candidates, faults.drift.sensor_share, seed, "drift"):
            s = candidates[index]
            rng = rng_for(seed, "fault", "drift", s.sensor_id)
            sign = 1.0 if rng.random() < 0.5 else -1.0
            if faults.drift.direction != "random":
                sign = 1.0 if faults.drift.direction == "up" else -1.0
            days = (s.sent_s - start_s) / 86400.0
            drifted = np.clip(s.values[s.kind] + sign * faults.drift.per_day * days, 0.0, 100.0)
            s.values[s.kind] = quantise(drifted, 0.1)
            log.sensors.setdefault("drift", []).append(s.sensor_id)
            log.counts["drift"] += len(s)

    if faults.stuck.enabled:
        for index in _chosen(series, faults.stuck.sensor_share, seed, "stuck"):
            s = series[index]
            if len(s) < 2:
                continue
            rng = rng_for(seed, "fault", "stuck", s.sensor_id)
            span_s = int(s.sent_s[-1] - s.sent_s[0])
            length_s = int(faults.stuck.duration_h * 3600)
            begin = int(s.sent_s[0]) + int(rng.integers(0, max(1, span_s - length_s)))
            window = np.flatnonzero((s.sent_s >= begin) & (s.sent_s < begin + length_s))
            if len(window) < 2:
                continue
            s.values[s.kind][window] = s.values[s.kind][window[0]]
            log.sensors.setdefault("stuck", []).append(s.sensor_id)
            log.counts["stuck"] += len(window)

    if faults.spikes.enabled:
        for s in series:
            rng = rng_for(seed, "fault", "spikes", s.sensor_id)
            hit = rng.random(len(s)) < faults.spikes.rate
            if hit.any():
                values = s.values[s.kind]
                values[hit] = quantise(_spike(values[hit], s.kind, rng), 0.1)
                log.counts["spikes"] += int(hit.sum())

    if faults.clock_skew.enabled:
        for index in _chosen(series, faults.clock_skew.sensor_share, seed, "clock_skew"):
            s = series[index]
            rng = rng_for(seed, "fault", "clock_skew", s.sensor_id)
            sign = 1 if rng.random() < 0.5 else -1
            s.ts_s = s.ts_s + sign * int(faults.clock_skew.skew_s)
            log.sensors.setdefault("clock_skew", []).append(s.sensor_id)
            log.counts["clock_skew"] += len(s)

    if before_loss is not None:
        before_loss()

    if faults.dropouts.enabled:
        cfg = faults.dropouts
        for s in series:
            rng = rng_for(seed, "fault", "dropouts", s.sensor_id)
            starts = np.flatnonzero(rng.random(len(s)) < cfg.rate / cfg.mean_length)
            if not len(starts):
                continue
            lengths = rng.geometric(1.0 / cfg.mean_length, len(starts))
            lost = np.zeros(len(s) + 1, dtype=np.int64)
            np.add.at(lost, starts, 1)
            np.add.at(lost, np.minimum(starts + lengths, len(s)), -1)
            gone = np.cumsum(lost)[: len(s)] > 0
            s.keep(~gone)
            log.counts["dropouts"] += int(gone.sum())

    if faults.dead_battery.enabled:
        for index in _chosen(series, faults.dead_battery.sensor_share, seed, "dead_battery"):
            s = series[index]
            rng = rng_for(seed, "fault", "dead_battery", s.sensor_id)
            death = start_s + int((faults.dead_battery.after_days + rng.random()) * 86400)
            if Kind.BATTERY in s.values:
                fading = np.clip((death - s.sent_s) / 86400.0, 0.0, 1.0)
                s.values[Kind.BATTERY] = np.round(s.values[Kind.BATTERY] * fading)
            alive = s.sent_s < death
            log.sensors.setdefault("dead_battery", []).append(s.sensor_id)
            log.counts["dead_battery"] += int((~alive).sum())
            s.keep(alive)


class MessageFaults:
    """The stream faults, applied chunk by chunk (a local day), each chunk with its own random
    streams, so chunks can be made in any order or in parallel with the same result."""

    def __init__(self, faults: Faults, seed: int, log: FaultLog):
        self.faults = faults
        self.seed = seed
        self.log = log
        self.rng: dict[str, np.random.Generator] = {}

    def apply(
        self,
        messages: list[tuple[int, str, str]],
        chunk: int = 0,
        sent: np.ndarray | None = None,
    ) -> list[tuple[int, str, str]]:
        """Apply to (send time, topic, payload) triples in send order; returns the new list.
        `sent`: the send times as an array, if the caller has them (saves gathering them)."""
        if sent is None:
            sent = np.fromiter((m[0] for m in messages), dtype=np.int64, count=len(messages))
        faults = self.faults
        self.rng = {name: rng_for(self.seed, "fault", name, chunk) for name in MESSAGE_FAULTS}
        if faults.malformed.enabled and messages:
            rng = self.rng["malformed"]
            for i in np.flatnonzero(rng.random(len(messages)) < faults.malformed.rate).tolist():
                at, topic, payload = messages[i]
                messages[i] = (at, topic, self._malform(payload, rng))
                self.log.counts["malformed"] += 1
        if faults.duplicates.enabled and messages:
            rng = self.rng["duplicates"]
            hits = np.flatnonzero(rng.random(len(messages)) < faults.duplicates.rate).tolist()
            for i in sorted(hits, reverse=True):  # from the end, so indices stay valid
                messages.insert(i + 1, messages[i])
            if hits:
                sent = np.insert(sent, np.array(hits) + 1, sent[hits])
            self.log.counts["duplicates"] += len(hits)
        if faults.out_of_order.enabled and len(messages) > 1:
            rng = self.rng["out_of_order"]
            cfg = faults.out_of_order
            late = np.flatnonzero(rng.random(len(messages)) < cfg.rate)
            delays = rng.integers(1, cfg.max_delay_s + 1, len(late))
            # Where each late message lands: after the last one sent before it is delivered.
            lands = np.searchsorted(sent, sent[late] + delays, side="right")
            moves = {
                int(i): int(k)
                for i, k in zip(late.tolist(), lands.tolist(), strict=True)
                if k > i + 1
            }
            if moves:
                # A late message sorts just before the one it lands in front of.
                position = np.arange(len(messages), dtype=np.float64)
                for i, k in moves.items():
                    position[i] = k - 0.5
                order = np.argsort(position, kind="stable")
                messages = [messages[i] for i in order.tolist()]
                self.log.counts["out_of_order"] += len(moves)
        return messages

    @staticmethod
    def _malform(payload: str, rng: np.random.Generator) -> str:
        variant = int(rng.integers(0, 4))
        if variant == 0:
            return payload[: max(1, len(payload) // 2)]  # truncated
        if variant == 1:
            return "#" + payload[::-1]  # not JSON at all
        if variant == 2 and '"value":' in payload:
            head, _, tail = payload.partition('"value":')
            rest = tail.split(",", 1)
            return head + '"value":"wet"' + ("," + rest[1] if len(rest) > 1 else "}")
        return ""  # empty
