"""A simulation run: weather, entrances, sensors, faults and messages for a registry and a span.

`simulate(registry, scenario, start, days, seed)` computes the weather, the true state of every
entrance and every sensor's reports eagerly (vectorised); the messages are encoded lazily, one
local day at a time, in the order they are sent, so a school year streams in bounded memory.

Truth file (`write_truth`): CSV, gzip-compressed when the name ends in `.gz`, one row per minute,
entrance and zone, sorted by time, entrance, zone:
    time      epoch milliseconds, UTC, start of the minute
    entrance  entrance id
    zone      outside | entry | inner
    moisture  % (0..100), noise-free
    dirt      soiling index (0..100), noise-free
    passages  passages through the entrance in that minute (the same on all zones' rows)
and a JSON sidecar beside it (same name with `.json` instead of `.csv[.gz]`) with the seed, span,
scenario hash, the profiles acting at each entrance and period (baseline, reference, or the
installation and its supplier's true profile), the on-demand cleanings and the faults injected.
`read_truth(path)` loads both.
"""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from floorwatch.readings import Reading
from floorwatch.registry import Registry
from simulators.entrance import (
    ZONES,
    EntranceTruth,
    Outside,
    entrance_shares,
    outside_conditions,
    simulate_entrance,
)
from simulators.faults import FaultLog, MessageFaults, apply_reading_faults
from simulators.formats import Encoder
from simulators.scenario import Scenario
from simulators.sensors import SensorSeries, sample_sensor
from simulators.timegrid import Span
from simulators.weather import StationWeather, generate_weather, read_smhi, write_smhi


@dataclass(frozen=True)
class Chunk:
    """The messages of one local day in send order: (send time epoch s, topic, payload JSON)."""

    day: date
    timed: list[tuple[int, str, str]]
    readings: int

    @property
    def messages(self) -> list[tuple[str, str]]:
        return [(topic, payload) for _, topic, payload in self.timed]


class Simulation:
    """One simulated span (module docstring). Build it with `simulate(...)`."""

    def __init__(
        self,
        registry: Registry,
        scenario: Scenario,
        start: date,
        days: int,
        seed: int | None = None,
    ):
        if days < 1:
            from floorwatch.errors import InvalidRequest

            raise InvalidRequest(f"days must be at least 1, got {days}")
        self.registry = registry
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.span = Span(start, days)
        self.station_weather = self._weather()
        self.entrances = self.entrance_truths()
        self.fault_log = FaultLog()
        self.series: list[SensorSeries] = [
            sample_sensor(place, self.entrances[place.entrance.id], self.span, scenario, self.seed)
            for place in registry.sensors.values()
        ]
        apply_reading_faults(
            self.series,
            scenario.faults,
            self.seed,
            self.span.start_s,
            self.fault_log,
            before_loss=self._freeze_totals,
        )
        self.encoders = [Encoder(s.place, scenario) for s in self.series]

    def entrance_truths(self, treatment: str | None = None) -> dict[str, EntranceTruth]:
        """The true state of every entrance, as registered (None) or with the counterfactual
        `treatment` (`simulators.entrance.profile_periods`): the same weather and footfall."""
        outside = self._outside
        truths: dict[str, EntranceTruth] = {}
        for school in self.registry.document.schools:
            shares = entrance_shares(school, self.scenario)
            for entrance in school.entrances:
                truths[entrance.id] = simulate_entrance(
                    self.registry,
                    entrance,
                    school,
                    shares[entrance.id],
                    outside[school.weather_station],
                    self.span,
                    self.scenario,
                    self.seed,
                    treatment,
                )
        return truths

    @cached_property
    def _outside(self) -> dict[int, Outside]:
        return {
            station: outside_conditions(w, self.span, self.scenario)
            for station, w in self.station_weather.items()
        }

    def _freeze_totals(self) -> None:
        for series in self.series:
            series.freeze_totals(self.seed)

    def _weather(self) -> dict[int, StationWeather]:
        stations = sorted({s.weather_station for s in self.registry.document.schools})
        span = self.span
        if self.scenario.weather_dir is not None:
            return {
                st: read_smhi(self.scenario.weather_dir, st, span.start_s, span.hours)
                for st in stations
            }
        return {
            st: generate_weather(st, self.scenario.station(st), span.start_s, span.hours, self.seed)
            for st in stations
        }

    # --- what the analytics tests use ----------------------------------------------------------
    @property
    def weather(self) -> dict[int, pd.DataFrame]:
        """Station id -> hourly DataFrame (time, precipitation, air_temperature, snow_depth)."""
        return {station: w.frame() for station, w in self.station_weather.items()}

    @cached_property
    def truth(self) -> pd.DataFrame:
        """The noise-free state: time (UTC), entrance, zone, moisture, dirt, passages."""
        return pd.concat(list(self._truth_frames()), ignore_index=True)

    def _truth_frames(self, day_range: tuple[int, int] | None = None) -> Iterator[pd.DataFrame]:
        span = self.span
        lo, hi = (
            (0, span.minutes)
            if day_range is None
            else (
                int(span.day_starts[day_range[0]]),
                int(span.day_starts[day_range[1]]),
            )
        )
        minutes = hi - lo
        time_ms = (span.start_s + 60 * np.arange(lo, hi, dtype=np.int64)) * 1000
        names = list(self.entrances)
        n_rows = minutes * len(names) * len(ZONES)
        # Rows sorted by time, then entrance, then zone.
        moisture = np.empty((minutes, len(names), len(ZONES)), dtype=np.float32)
        dirt = np.empty_like(moisture)
        passages = np.empty((minutes, len(names), len(ZONES)), dtype=np.int32)
        for e, name in enumerate(names):
            truth = self.entrances[name]
            for z, zone in enumerate(ZONES):
                moisture[:, e, z] = truth.moisture[zone][lo:hi]
                dirt[:, e, z] = truth.dirt[zone][lo:hi]
                passages[:, e, z] = truth.passages[lo:hi]
        yield pd.DataFrame(
            {
                "time": pd.to_datetime(
                    np.repeat(time_ms, len(names) * len(ZONES)), unit="ms", utc=True
                ),
                "entrance": pd.Categorical(
                    np.tile(np.repeat(names, len(ZONES)), minutes), categories=names
                ),
                "zone": pd.Categorical(
                    np.tile(ZONES, minutes * len(names)), categories=list(ZONES)
                ),
                "moisture": moisture.reshape(n_rows),
                "dirt": dirt.reshape(n_rows),
                "passages": passages.reshape(n_rows),
            }
        )

    # --- messages ----------------------------------------------------------------------------
    @property
    def readings_planned(self) -> int:
        """Readings in the stream before message faults (duplicates, malformed) change it."""
        return sum(s.readings for s in self.series)

    @cached_property
    def _message_times(self) -> list[np.ndarray]:
        return [enc.message_times(s) for enc, s in zip(self.encoders, self.series, strict=True)]

    def chunk(self, d: int) -> Chunk:
        """The messages of local day d of the span, in send order (ties: registry order), with
        the message faults of that day (their counts go to `fault_log`)."""
        span = self.span
        times = self._message_times
        lo_s = span.start_s + 60 * int(span.day_starts[d])
        hi_s = span.start_s + 60 * int(span.day_starts[d + 1])
        sent_parts, order_parts, payloads, topics = [], [], [], []
        readings = 0
        for index, (enc, series) in enumerate(zip(self.encoders, self.series, strict=True)):
            first, last = np.searchsorted(times[index], [lo_s, hi_s])
            if last <= first:
                continue
            sent, texts = enc.encode(series, int(first), int(last), times[index])
            readings += enc.readings_in(series, int(first), int(last))
            sent_parts.append(sent)
            order_parts.append(np.full(len(texts), index, dtype=np.int32))
            payloads.extend(texts)
            topics.extend([enc.topic] * len(texts))
        day = span.dates[d]
        if not payloads:
            return Chunk(day, [], 0)
        sent_all = np.concatenate(sent_parts)
        who = np.concatenate(order_parts)
        order = np.lexsort((np.arange(len(payloads)), who, sent_all))
        sent_sorted = sent_all[order]
        messages = list(
            zip(
                sent_sorted.tolist(),
                [topics[i] for i in order.tolist()],
                [payloads[i] for i in order.tolist()],
                strict=True,
            )
        )
        faults = MessageFaults(self.scenario.faults, self.seed, self.fault_log)
        return Chunk(day, faults.apply(messages, d, sent_sorted), readings)

    def chunks(self) -> Iterator[Chunk]:
        """The message stream, one local day at a time, in send order."""
        for d in range(self.span.days):
            yield self.chunk(d)

    def readings_frame(self) -> pd.DataFrame:
        """The readings a collector stores from the stream, without the delivery faults.

        Columns time (UTC), sensor_id, kind, value, sorted by time then sensor: the sensors'
        reports after the reading faults (dropouts, stuck, spikes, drift, clock skew, dead
        battery) and the wire formats' own effects (simulators.formats.Encoder.stored_readings).
        Not in it: the message faults (a malformed message's readings are quarantined,
        duplicates and late delivery change nothing once stored); use `messages()` for those.
        Handy to fill a store for tests without a broker: `store.write_readings(...)`.
        """
        parts = []
        for encoder, series in zip(self.encoders, self.series, strict=True):
            for kind, (times, values) in encoder.stored_readings(series).items():
                parts.append(
                    pd.DataFrame(
                        {
                            "time": times,
                            "sensor_id": series.sensor_id,
                            "kind": kind,
                            "value": values.astype(np.float64),
                        }
                    )
                )
        frame = pd.concat(parts, ignore_index=True)
        frame = frame.sort_values(["time", "sensor_id", "kind"], kind="stable", ignore_index=True)
        frame["time"] = pd.to_datetime(frame["time"], unit="ms", utc=True)
        return frame

    def readings(self) -> Iterator[Reading]:
        """`readings_frame()` as Reading objects (ts in ms), for `Store.write_readings`."""
        frame = self.readings_frame()
        epoch = pd.Timestamp(0, tz="UTC")
        stamps = ((frame["time"] - epoch) // pd.Timedelta(milliseconds=1)).tolist()
        for sensor, kind, ts_ms, value in zip(
            frame["sensor_id"].tolist(),
            frame["kind"].tolist(),
            stamps,
            frame["value"].tolist(),
            strict=True,
        ):
            yield Reading(sensor, kind, int(ts_ms), float(value))

    def messages(self) -> Iterator[tuple[str, bytes]]:
        """Every message as (topic, payload bytes), in send order."""
        for chunk in self.chunks():
            for _, topic, payload in chunk.timed:
                yield topic, payload.encode()

    def write_jsonl(
        self,
        out: IO[str],
        on_chunk: Callable[[Chunk], None] | None = None,
        workers: int = 1,
    ) -> tuple[int, int]:
        """Write `{"topic": ..., "payload": "<JSON text>"}` lines; return (messages, readings).

        With `workers` > 1, days are encoded in forked worker processes (the same bytes, in the
        same order); `on_chunk` then gets chunks without their messages (counts only).
        """
        messages = readings = 0
        if workers > 1 and self.span.days > 1:
            global _FORKED
            _FORKED = self
            context = multiprocessing.get_context("fork")
            with context.Pool(workers) as pool:
                for text, chunk, counts in pool.imap(_jsonl_day, range(self.span.days)):
                    out.write(text)
                    self.fault_log.counts.update(counts)
                    messages += len(chunk.timed) if chunk.timed else text.count("\n")
                    readings += chunk.readings
                    if on_chunk is not None:
                        on_chunk(chunk)
            _FORKED = None
            return messages, readings
        for chunk in self.chunks():
            out.write(_jsonl(chunk))
            messages += len(chunk.timed)
            readings += chunk.readings
            if on_chunk is not None:
                on_chunk(chunk)
        return messages, readings

    # --- truth, profiles, weather files --------------------------------------------------------
    def profiles_document(self) -> dict[str, Any]:
        """The JSON sidecar of the truth file (module docstring)."""
        span = self.span
        entrances = {}
        for name, truth in self.entrances.items():
            entrance, school = self.registry.entrance(name)
            entrances[name] = {
                "school": school.id,
                "municipality": school.municipality,
                "weather_station": school.weather_station,
                "reference": entrance.reference,
                "periods": [
                    {
                        "start": p.start.isoformat(),
                        "end": p.end.isoformat(),
                        "profile": p.name,
                        "installation": p.installation,
                        **p.profile.model_dump(),
                    }
                    for p in truth.periods
                ],
                "on_demand_cleanings_ms": [
                    (span.start_s + 60 * int(i)) * 1000 for i in truth.on_demand_cleanings.tolist()
                ],
                "mean_capture_water": round(float(np.mean(truth.capture_water)), 4),
                "mean_capture_dirt": round(float(np.mean(truth.capture_dirt)), 4),
            }
        return {
            "format": "floorwatch-truth/1",
            "seed": self.seed,
            "start": span.start.isoformat(),
            "days": span.days,
            "start_ms": span.start_s * 1000,
            "end_ms": span.end_s * 1000,
            "registry_hash": self.registry.content_hash,
            "scenario_hash": self.scenario.content_hash,
            "stations": {
                str(st): self.scenario.station(st).model_dump() for st in self.station_weather
            },
            "entrances": entrances,
            "faults": self.fault_log.as_dict(),
        }

    def write_truth(self, path: Path) -> Path:
        """Write the truth CSV (gzip if `.gz`) and its JSON sidecar; return the sidecar path."""
        raw: IO[bytes]
        with open(path, "wb") as raw:
            if path.suffix == ".gz":
                with gzip.GzipFile(
                    filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=5
                ) as packed:
                    self._write_truth_csv(io.TextIOWrapper(packed, encoding="utf-8", newline=""))
            else:
                self._write_truth_csv(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        sidecar = truth_sidecar(path)
        sidecar.write_text(json.dumps(self.profiles_document(), indent=1, sort_keys=True) + "\n")
        return sidecar

    def _write_truth_csv(self, text: io.TextIOWrapper) -> None:
        text.write("time,entrance,zone,moisture,dirt,passages\n")
        span = self.span
        names = list(self.entrances)
        for d in range(span.days):
            lo, hi = int(span.day_starts[d]), int(span.day_starts[d + 1])
            columns = []
            for name in names:
                truth = self.entrances[name]
                for zone in ZONES:
                    columns.append(
                        (
                            f"{name},{zone},",
                            np.char.mod("%.2f", truth.moisture[zone][lo:hi]).tolist(),
                            np.char.mod("%.2f", truth.dirt[zone][lo:hi]).tolist(),
                            truth.passages[lo:hi].tolist(),
                        )
                    )
            lines = []
            for m in range(hi - lo):
                stamp = f"{(span.start_s + 60 * (lo + m)) * 1000},"
                for label, moist, dirt, passes in columns:
                    lines.append(f"{stamp}{label}{moist[m]},{dirt[m]},{passes[m]}\n")
            text.write("".join(lines))
        text.flush()
        text.detach()

    def write_weather(self, directory: Path) -> list[Path]:
        """The weather the entrances saw, as SMHI JSON files (simulators.weather)."""
        paths: list[Path] = []
        for weather in self.station_weather.values():
            paths.extend(write_smhi(weather, directory))
        return paths


_FORKED: Simulation | None = None  # the simulation forked workers encode (write_jsonl)


def _jsonl(chunk: Chunk) -> str:
    return "".join(
        f'{{"topic":"{topic}","payload":{encode_basestring(payload)}}}\n'
        for _, topic, payload in chunk.timed
    )


def _jsonl_day(d: int) -> tuple[str, Chunk, Counter[str]]:
    """In a forked worker: day d as JSON lines, its chunk (counts only) and its fault counts."""
    sim = _FORKED
    assert sim is not None
    before = Counter(sim.fault_log.counts)
    chunk = sim.chunk(d)
    counts = sim.fault_log.counts - before
    return _jsonl(chunk), Chunk(chunk.day, [], chunk.readings), counts


def truth_sidecar(path: Path) -> Path:
    name = path.name
    for suffix in (".gz", ".csv"):
        name = name.removesuffix(suffix)
    return path.with_name(name + ".json")


def read_truth(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A truth file and its sidecar: (DataFrame with time as UTC timestamps, profiles document)."""
    frame = pd.read_csv(path, dtype={"entrance": "category", "zone": "category"})
    frame["time"] = pd.to_datetime(frame["time"], unit="ms", utc=True)
    return frame, json.loads(truth_sidecar(path).read_text())


def simulate(
    registry: Registry, scenario: Scenario, start: date, days: int, seed: int | None = None
) -> Simulation:
    """Simulate `days` local days from `start` (module docstring of `simulators`)."""
    return Simulation(registry, scenario, start, days, seed)
