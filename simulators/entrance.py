"""The entrance model: footfall, outside conditions, the installed solution, and the state of the
floor in each zone, minute by minute, vectorised over the whole span.

Zones, from the street inwards: `outside` (the path in front of the door), `entry` (the floor
just inside the door, where the solution's matting lies: it sees everything shoes bring in) and
`inner` (the floor beyond the solution, where the contract judges the outcome).

Per minute:
- passages: Poisson draws around the school's day profile (arrival peak before the first lesson,
  breaks, lunch, departure and after-school care until closing; staff). Zero at night and on
  weekends; staff only on weekdays without school (breaks, holidays).
- outside wetness (0..1) follows rain (0.4 mm/h wets the path fully), slush and falling snow, and
  dries with a half-life that grows in the cold. Winter gritting (frost from November to March)
  raises the dirt shoes pick up; grit wears off over days, faster in rain.
- tracked in per passage: water = water_per_passage_g x wetness; dirt = dirt_per_passage_g x
  (0.35 + 1.2 grit + 0.6 wetness).
- the solution captures a share: capture_efficiency, reduced as its water load nears its
  saturation (it is wet) and as its dirt load nears its capacity (it is full). Its water dries
  with a few hours' half-life; maintenance every maintenance_interval_days (06:00 local) empties
  it. The mat state is updated hourly (a short sequential loop); everything else per minute.
- water on a floor dries with a half-life (entry: physics; inner: the profile's
  drying_half_life_min, longer below 15 degC). moisture % = 100 (1 - exp(-water / scale)).
- dirt builds up and stays until cleaning: scheduled each weekday evening (leaving a residual
  share) and on demand when the dirt index passes a limit during opening hours.
  dirt index = 100 (1 - exp(-dirt / scale)).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from floorwatch.registry import Registry
from floorwatch.registry.schema import Calendar, Entrance, School
from simulators.recursion import decay_series
from simulators.scenario import BASELINE, Profile, Scenario, rng_for
from simulators.timegrid import Span
from simulators.weather import StationWeather

ZONES = ("outside", "entry", "inner")
GRIT_MONTHS = (11, 12, 1, 2, 3)
FULL_WET_RAIN_MMH = 0.4
MAINTENANCE_HOUR = 6


@dataclass(frozen=True)
class ProfilePeriod:
    """Which profile acted at an entrance on which days (end exclusive)."""

    start: date
    end: date
    name: str  # "baseline" or the supplier id
    installation: str | None
    profile: Profile


@dataclass
class EntranceTruth:
    """The noise-free, fault-free state of one entrance, per minute of the span."""

    entrance: str
    school: str
    passages: np.ndarray  # int32, passages in the minute
    moisture: dict[str, np.ndarray]  # zone -> float32 %
    dirt: dict[str, np.ndarray]  # zone -> float32 index
    temperature: np.ndarray  # float32 degC inside the entrance (for sensors that also report it)
    periods: list[ProfilePeriod]
    on_demand_cleanings: np.ndarray  # minute indices (inner zone)
    capture_water: np.ndarray = field(repr=False)  # hourly effective capture share
    capture_dirt: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Outside:
    """Per-minute outside conditions at a station."""

    temperature: np.ndarray  # degC
    wetness: np.ndarray  # 0..1
    dirt_level: np.ndarray  # multiplier of dirt_per_passage_g
    raining: np.ndarray  # bool


def _half_life_factor(half_life_min: np.ndarray) -> np.ndarray:
    return np.asarray(np.power(0.5, 1.0 / half_life_min))


def _cold_factor(temperature: np.ndarray, per_degree: float) -> np.ndarray:
    """Drying slows in the cold: 1 at 15 degC and above, 1 + per_degree per degree below."""
    return 1.0 + per_degree * np.clip(15.0 - temperature, 0.0, 40.0)


def outside_conditions(weather: StationWeather, span: Span, scenario: Scenario) -> Outside:
    """Outside wetness, dirt and temperature per minute at a station (module docstring)."""
    physics = scenario.physics
    rain = span.per_minute(weather.precipitation)
    temperature = span.per_minute(weather.temperature)
    snow = span.per_minute(weather.snow_depth)
    snowing = (rain > 0) & (temperature < 0.5)
    slush = (snow > 0) & (temperature > -1.5)
    target = np.clip(
        np.where(snowing, 0.5, rain / FULL_WET_RAIN_MMH) + np.where(slush, 0.6, 0.0), 0.0, 1.0
    )
    a = _half_life_factor(physics.outside_drying_half_life_min * _cold_factor(temperature, 0.08))
    wetness = np.clip(decay_series(a, (1 - a) * target), 0.0, 1.0)

    # Grit: the municipality grits on frosty winter hours; it wears off over days.
    hour_month = span.month[::60]
    frost = (weather.temperature < 1.0) & np.isin(hour_month[: weather.hours], GRIT_MONTHS)
    wet_hour = weather.precipitation > 0
    keep_dry = 0.5 ** (1 / (physics.grit_half_life_days * 24))
    keep_wet = 0.5 ** (3 / (physics.grit_half_life_days * 24))
    grit_h = np.zeros(weather.hours)
    level = 0.0
    for h, (frosty, wet) in enumerate(zip(frost.tolist(), wet_hour.tolist(), strict=True)):
        level = 1.0 if frosty else level * (keep_wet if wet else keep_dry)
        grit_h[h] = level
    grit = span.per_minute(grit_h)
    return Outside(
        temperature=temperature,
        wetness=wetness,
        dirt_level=0.35 + 1.2 * grit + 0.6 * wetness,
        raining=rain > 0,
    )


def _gauss(minutes: np.ndarray, centre: float, sd: float) -> np.ndarray:
    weights = np.exp(-0.5 * ((minutes - centre) / sd) ** 2)
    return np.asarray(weights / weights.sum())


def _uniform(minutes: np.ndarray, lo: float, hi: float) -> np.ndarray:
    inside = ((minutes >= lo) & (minutes < hi)).astype(np.float64)
    return inside / max(inside.sum(), 1.0)


def day_profiles(calendar: Calendar, scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Expected passages per pupil per local minute of the day: (school day, weekday off)."""
    cfg = scenario.footfall
    m = np.arange(1440, dtype=np.float64)
    hours = calendar.opening_hours
    open_m = hours.open.hour * 60 + hours.open.minute
    close_m = hours.close.hour * 60 + hours.close.minute
    first = calendar.first_lesson.hour * 60 + calendar.first_lesson.minute
    last = calendar.last_lesson_end.hour * 60 + calendar.last_lesson_end.minute
    breaks = cfg.break_out_share
    lunch = cfg.lunch_out_share
    school = (
        0.85 * _gauss(m, first - 12, 9)  # arrival peak before the first lesson
        + 0.15 * _uniform(m, open_m, first - 25)  # early arrivals to after-school care
        + breaks * (_gauss(m, first + 105, 5) + _gauss(m, first + 125, 5))  # morning break
        + lunch * (_gauss(m, 11 * 60 + 40, 12) + _gauss(m, 12 * 60 + 20, 10))  # lunch
        + 0.6 * breaks * (_gauss(m, last - 60, 5) + _gauss(m, last - 45, 5))  # afternoon break
        + 0.7 * _gauss(m, last + 8, 10)  # departure
        + 0.3 * _uniform(m, last + 30, close_m - 5)  # picked up from after-school care
    )
    staff = cfg.staff_per_pupil * (_gauss(m, first - 45, 25) + _gauss(m, last + 75, 40))
    inside = (m >= open_m) & (m < close_m)
    school_day = np.where(inside, school + staff, 0.0)
    off_day = np.where(inside, staff * cfg.off_day_staff_share, 0.0)
    return school_day, off_day


def entrance_shares(school: School, scenario: Scenario) -> dict[str, float]:
    """Share of the school's pupils using each entrance (weights from the scenario)."""
    cfg = scenario.footfall
    weights = {
        e.id: cfg.entrance_weight.get(e.id, cfg.main_entrance_weight if "main" in e.id else 1.0)
        for e in school.entrances
    }
    total = sum(weights.values())
    return {key: value / total for key, value in weights.items()}


def expected_passages(
    registry: Registry, school: School, share: float, span: Span, scenario: Scenario
) -> np.ndarray:
    """Expected passages per minute of the span at an entrance with that share of the pupils."""
    calendar = registry.school_days[school.id]
    school_day, off_day = day_profiles(calendar.calendar, scenario)
    kind = np.array(
        [1 if calendar.is_school_day(d) else (2 if d.weekday() < 5 else 0) for d in span.dates],
        dtype=np.int8,
    )
    table = np.stack([np.zeros(1440), school_day, off_day]) * school.pupils * share
    return np.asarray(table[kind[span.day_index], span.minute_of_day])


def profile_periods(
    registry: Registry,
    entrance: Entrance,
    span: Span,
    scenario: Scenario,
    treatment: str | None = None,
) -> list[ProfilePeriod]:
    """The profile acting at the entrance per day, merged into periods.

    `treatment` None: as the registry says (the installation's own profile where the scenario
    overrides it). A counterfactual otherwise: BASELINE, the entrance never treated; a supplier
    id, that supplier's profile on every day an installation acts at the entrance (same
    installation id, so the same maintenance days), baseline on the other days."""
    periods: list[ProfilePeriod] = []
    for day in span.dates:
        inst = None if entrance.reference else registry.installation_on(entrance.id, day)
        if inst is None or treatment == BASELINE:
            name, inst_id, profile = BASELINE, None, scenario.profile(BASELINE)
        elif treatment is not None:
            name, inst_id, profile = treatment, inst.id, scenario.profile(treatment)
        else:
            name, inst_id = inst.supplier, inst.id
            profile = scenario.installation_profiles.get(inst.id) or scenario.profile(inst.supplier)
        if periods and periods[-1].installation == inst_id and periods[-1].name == name:
            last = periods[-1]
            periods[-1] = ProfilePeriod(last.start, span.end_date, name, inst_id, profile)
        else:
            if periods:
                last = periods[-1]
                periods[-1] = ProfilePeriod(
                    last.start, day, last.name, last.installation, last.profile
                )
            periods.append(ProfilePeriod(day, span.end_date, name, inst_id, profile))
    return periods


def _mat_capture(
    water_h: np.ndarray,
    dirt_h: np.ndarray,
    temperature_h: np.ndarray,
    period_of_hour: np.ndarray,
    maintenance_h: np.ndarray,
    periods: list[ProfilePeriod],
    scenario: Scenario,
) -> tuple[np.ndarray, np.ndarray]:
    """Effective capture shares of water and dirt per hour, from the solution's loads."""
    physics = scenario.physics
    keep = np.power(0.5, 1.0 / (physics.mat_drying_half_life_h * _cold_factor(temperature_h, 0.05)))
    hours = len(water_h)
    eff_w = np.empty(hours)
    eff_d = np.empty(hours)
    params = [
        (
            p.profile.capture_efficiency,
            p.profile.saturation_l * 1000,
            p.profile.dirt_capacity_kg * 1000,
        )
        for p in periods
    ]
    water_load = dirt_load = 0.0
    current = -1
    water, dirt, kept = water_h.tolist(), dirt_h.tolist(), keep.tolist()
    for h, (period, service) in enumerate(
        zip(period_of_hour.tolist(), maintenance_h.tolist(), strict=True)
    ):
        if period != current or service:  # a new solution, or the supplier empties it
            water_load = dirt_load = 0.0
            current = period
        ce, saturation, capacity = params[period]
        wet = min(water_load / saturation, 1.0)
        full = min(dirt_load / capacity, 1.0)
        ew = ce * (1 - wet * wet) * (1 - 0.4 * full)
        ed = ce * (1 - full * full) * (1 - 0.3 * wet)
        eff_w[h], eff_d[h] = ew, ed
        water_load = water_load * kept[h] + ew * water[h]
        dirt_load += ed * dirt[h]
    return eff_w, eff_d


def accumulate_dirt(
    inflow: np.ndarray,
    cleaning_at: np.ndarray,
    on_demand_allowed: np.ndarray,
    limit: float,
    residual: float,
) -> tuple[np.ndarray, list[int]]:
    """Dirt on a floor per minute: inflow adds up; at each scheduled cleaning minute, and at the
    first minute above `limit` where on-demand cleaning is allowed, only `residual` is left."""
    n = len(inflow)
    level = np.empty(n)
    events: list[int] = []
    bounds = [0, *sorted(int(i) for i in cleaning_at if 0 < i < n), n]
    carry = 0.0
    for s, e in itertools.pairwise(bounds):
        if s > 0:
            carry *= residual
        c = carry + np.cumsum(inflow[s:e])
        allowed = on_demand_allowed[s:e]
        offset = 0
        while True:
            over = (c[offset:] > limit) & allowed[offset:]
            if not over.any():
                break
            k = offset + int(np.argmax(over))
            c[k:] -= c[k] * (1 - residual)
            events.append(s + k)
            offset = k + 1
        level[s:e] = c
        carry = float(c[-1]) if e > s else carry
    return level, events


def _index(grams: np.ndarray, scale: float) -> np.ndarray:
    return (100.0 * (1.0 - np.exp(-grams / scale))).astype(np.float32)


def simulate_entrance(
    registry: Registry,
    entrance: Entrance,
    school: School,
    share: float,
    outside: Outside,
    span: Span,
    scenario: Scenario,
    seed: int,
    treatment: str | None = None,
) -> EntranceTruth:
    """The true state of one entrance over the span (module docstring for the model).

    `treatment` (`profile_periods`) swaps the solution for a counterfactual; footfall and
    weather are drawn from their own streams, so they stay the same."""
    physics = scenario.physics
    cleaning = scenario.cleaning
    rng = rng_for(seed, "footfall", entrance.id)
    rate = expected_passages(registry, school, share, span, scenario)
    passages = rng.poisson(rate).astype(np.int32)

    water_in = passages * physics.water_per_passage_g * outside.wetness
    dirt_in = passages * physics.dirt_per_passage_g * outside.dirt_level

    periods = profile_periods(registry, entrance, span, scenario, treatment)
    day_period = np.empty(span.days, dtype=np.int32)
    maintenance_day = np.zeros(span.days, dtype=bool)
    for index, period in enumerate(periods):
        first = (period.start - span.start).days
        last = (period.end - span.start).days
        day_period[first:last] = index
        interval = period.profile.maintenance_interval_days
        anchor = period.start.toordinal() if period.installation else 0
        for d in range(first, last):
            maintenance_day[d] = (span.dates[d].toordinal() - anchor) % interval == 0
    hour_first_minute = np.arange(span.hours) * 60
    hour_day = span.day_index[hour_first_minute]
    hour_local = span.minute_of_day[hour_first_minute] // 60
    maintenance_h = maintenance_day[hour_day] & (hour_local == MAINTENANCE_HOUR)
    temperature_h = outside.temperature[hour_first_minute]
    eff_w, eff_d = _mat_capture(
        span.hourly(water_in),
        span.hourly(dirt_in),
        temperature_h,
        day_period[hour_day],
        maintenance_h,
        periods,
        scenario,
    )
    pass_w = 1.0 - span.per_minute(eff_w)
    pass_d = 1.0 - span.per_minute(eff_d)

    # Water on the floors.
    inner_half_life = np.array([p.profile.drying_half_life_min for p in periods])[
        day_period[span.day_index]
    ] * _cold_factor(outside.temperature, 0.03)
    a_inner = _half_life_factor(inner_half_life)
    a_entry = _half_life_factor(
        physics.entry_drying_half_life_min * _cold_factor(outside.temperature, 0.03)
    )
    water_entry = decay_series(a_entry, water_in)
    water_inner = decay_series(a_inner, water_in * pass_w)

    # Dirt on the floors: cleaned each weekday evening, and on demand (inner and entry).
    weekday = np.array([d.weekday() < 5 for d in span.dates])
    at = cleaning.scheduled_at.hour * 60 + cleaning.scheduled_at.minute
    cleaning_at = np.flatnonzero(weekday[span.day_index] & (span.minute_of_day == at))
    occupied = rate > 0
    limit = -physics.dirt_scale_g * math.log(1 - cleaning.on_demand_dirt_index / 100.0)
    dirt_entry, _ = accumulate_dirt(dirt_in, cleaning_at, occupied, limit, cleaning.residual_share)
    dirt_inner, events = accumulate_dirt(
        dirt_in * pass_d, cleaning_at, occupied, limit, cleaning.residual_share
    )

    indoor = (19.5 + 0.12 * (outside.temperature - 10.0)).astype(np.float32)
    return EntranceTruth(
        entrance=entrance.id,
        school=school.id,
        passages=passages,
        moisture={
            "outside": (100.0 * outside.wetness).astype(np.float32),
            "entry": _index(water_entry, physics.moisture_scale_g),
            "inner": _index(water_inner, physics.moisture_scale_g),
        },
        dirt={
            "outside": _index(outside.dirt_level, 1.2),
            "entry": _index(dirt_entry, physics.dirt_scale_g),
            "inner": _index(dirt_inner, physics.dirt_scale_g),
        },
        temperature=indoor,
        periods=periods,
        on_demand_cleanings=np.array(events, dtype=np.int64),
        capture_water=eff_w,
        capture_dirt=eff_d,
    )
