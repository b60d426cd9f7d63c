"""The simulator's scenario: supplier profiles, weather, footfall, cleaning, sensors, faults.

A scenario is a YAML file validated by `Scenario`. The shipped default for the example pilot is
`simulators/scenarios/pilot.yaml`; `load_scenario(None)` returns it. Supplier solutions are
profiles here, not in the contract: the contract says what is measured, the scenario says what
is true.

Units: capture_efficiency 0..1 (share of tracked-in water and dirt a fresh, dry, empty solution
removes); saturation_l litres of water the solution holds before it stops capturing;
dirt_capacity_kg kilograms of dirt it holds before it is full; drying_half_life_min the inner
floor's drying half-life in minutes at 15 degC and above; maintenance_interval_days how often
the supplier empties and dries the solution.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import time
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from floorwatch.errors import ConfigError

DEFAULT_SCENARIO = Path(__file__).parent / "scenarios" / "pilot.yaml"

# The profile used before an entrance's installation (its baseline) and at reference entrances.
BASELINE = "baseline"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Profile(_Model):
    """An entrance solution's true behaviour (module docstring for units)."""

    capture_efficiency: float = Field(ge=0, le=1)
    saturation_l: float = Field(default=2.0, gt=0)
    dirt_capacity_kg: float = Field(default=2.0, gt=0)
    drying_half_life_min: float = Field(default=30.0, gt=0, le=24 * 60)
    maintenance_interval_days: int = Field(default=14, ge=1, le=365)


class Station(_Model):
    """Per SMHI station: wetness scales how often it rains (the wet-hour share) and, by its square
    root, how hard; temperature_offset shifts the temperature (degC)."""

    wetness: float = Field(default=1.0, gt=0, le=5)
    temperature_offset: float = Field(default=0.0, ge=-15, le=15)


class Footfall(_Model):
    """Who passes. Shares per entrance (weights, normalised per school; main entrances default 3,
    others 1). Per pupil and school day: trips out and in at the breaks and at lunch."""

    entrance_weight: dict[str, float] = Field(default_factory=dict)
    main_entrance_weight: float = Field(default=3.0, gt=0)
    break_out_share: float = Field(default=0.4, ge=0, le=1)
    lunch_out_share: float = Field(default=0.6, ge=0, le=1)
    staff_per_pupil: float = Field(default=0.08, ge=0, le=1)
    off_day_staff_share: float = Field(
        default=0.1, ge=0, le=1, description="staff passages on weekdays off school, vs school days"
    )


class Cleaning(_Model):
    """Scheduled cleaning each weekday at `scheduled_at` (local), leaving `residual_share` of
    the dirt; on demand during opening hours when the inner dirt index passes the limit."""

    scheduled_at: time = time(17, 45)
    residual_share: float = Field(default=0.05, ge=0, le=1)
    on_demand_dirt_index: float = Field(default=70.0, gt=0, le=100)


class Physics(_Model):
    """Constants of the entrance model. Water and dirt per passage at full outside wetness and
    dirt, grams; the scale is the amount that gives a reading of 63 % (1 - 1/e)."""

    water_per_passage_g: float = Field(default=2.0, gt=0)
    dirt_per_passage_g: float = Field(default=0.15, gt=0)
    moisture_scale_g: float = Field(default=120.0, gt=0)
    dirt_scale_g: float = Field(default=40.0, gt=0)
    entry_drying_half_life_min: float = Field(default=40.0, gt=0)
    mat_drying_half_life_h: float = Field(default=5.0, gt=0)
    outside_drying_half_life_min: float = Field(default=45.0, gt=0)
    grit_half_life_days: float = Field(default=6.0, gt=0)


class SensorModel(_Model):
    """Measurement noise (standard deviation in the kind's unit), quantisation step and battery."""

    noise: dict[str, float] = Field(
        default_factory=lambda: {"moisture": 1.0, "dirt": 1.5, "temperature": 0.2}
    )
    step: dict[str, float] = Field(
        default_factory=lambda: {"moisture": 0.1, "dirt": 0.1, "temperature": 0.1, "battery": 1.0}
    )
    battery_start: tuple[float, float] = (85.0, 100.0)
    battery_per_day: float = Field(default=0.03, ge=0, description="% lost per day")


class Formats(_Model):
    """Which wire format each sensor uses. LoRaWAN sensors (with `lorawan` in the registry) go
    through their municipality's network server; other sensors of `senml_schools` send SenML,
    the rest native JSON. `batch` > 1 packs that many consecutive readings of a native or SenML
    sensor into one message. A municipality's network `native` sends its LoRaWAN sensors'
    readings as native JSON on their own topic instead (as a gateway bridge would): the demo
    uses it to push a compressed season through the slow embedded broker in batches."""

    senml_schools: list[str] = Field(default_factory=list)
    lorawan_network: dict[str, Literal["chirpstack", "tts", "native"]] = Field(default_factory=dict)
    default_network: Literal["chirpstack", "tts"] = "chirpstack"
    chirpstack_application: str = "floorwatch"
    tts_application: str = "floorwatch"
    tts_tenant: str = "ttn"
    batch: int = Field(default=1, ge=1, le=1000)


class RateFault(_Model):
    """A fault that hits single readings or messages with probability `rate`."""

    enabled: bool = False
    rate: float = Field(default=0.002, ge=0, le=1)


class Dropouts(_Model):
    """Gaps: a share `rate` of readings is lost, in gaps of `mean_length` readings on average."""

    enabled: bool = False
    rate: float = Field(default=0.01, ge=0, le=1)
    mean_length: float = Field(default=6.0, ge=1)


class SensorFault(_Model):
    """A fault of whole sensors: a share of them (at least one when enabled) is affected."""

    enabled: bool = False
    sensor_share: float = Field(default=0.05, ge=0, le=1)


class Stuck(SensorFault):
    """The value freezes for `duration_h` hours at a random time."""

    duration_h: float = Field(default=12.0, gt=0)


class Drift(SensorFault):
    """The reading drifts away from the truth by `per_day` units per day, up or down (random
    per sensor unless `direction` says)."""

    per_day: float = Field(default=0.5, ge=0)
    direction: Literal["random", "up", "down"] = "random"


class ClockSkew(SensorFault):
    """The sensor's clock is off by `skew_s` seconds (sign chosen at random per sensor)."""

    skew_s: float = Field(default=900.0, gt=0)


class DeadBattery(SensorFault):
    """The battery dies after `after_days` (at a random time on that day): silence follows."""

    after_days: float = Field(default=1.0, ge=0)


class OutOfOrder(_Model):
    """A share `rate` of messages is delivered late: up to `max_delay_s` seconds after it was
    sent, behind messages sent later (the same sensor's next reports among them)."""

    enabled: bool = False
    rate: float = Field(default=0.002, ge=0, le=1)
    max_delay_s: int = Field(default=1800, ge=1)


class Faults(_Model):
    dropouts: Dropouts = Dropouts()
    stuck: Stuck = Stuck()
    spikes: RateFault = RateFault()
    drift: Drift = Drift()
    duplicates: RateFault = RateFault()
    out_of_order: OutOfOrder = OutOfOrder()
    malformed: RateFault = RateFault()
    clock_skew: ClockSkew = ClockSkew()
    dead_battery: DeadBattery = DeadBattery()

    @property
    def names(self) -> list[str]:
        return list(type(self).model_fields)

    def enabled(self) -> list[str]:
        return [name for name in self.names if getattr(self, name).enabled]

    def only(self, *names: str) -> Faults:
        """These faults switched on and every other off (tests, commissioning)."""
        update = {
            n: getattr(self, n).model_copy(update={"enabled": n in names}) for n in self.names
        }
        return self.model_copy(update=update)


class Scenario(_Model):
    """What is true in a simulation (module docstring)."""

    version: Literal[1] = 1
    seed: int = 2026
    profiles: dict[str, Profile] = Field(default_factory=dict)
    installation_profiles: dict[str, Profile] = Field(
        default_factory=dict, description="per installation id, overrides its supplier's profile"
    )
    stations: dict[int, Station] = Field(default_factory=dict)
    weather_dir: Path | None = Field(
        default=None, description="read SMHI JSON files from here instead of generating weather"
    )
    footfall: Footfall = Footfall()
    cleaning: Cleaning = Cleaning()
    physics: Physics = Physics()
    sensors: SensorModel = SensorModel()
    formats: Formats = Formats()
    faults: Faults = Faults()

    def profile(self, name: str) -> Profile:
        """A profile by supplier id (or `baseline`); an unknown supplier gets the baseline."""
        return self.profiles.get(name) or self.profiles.get(BASELINE) or _FALLBACK_BASELINE

    def station(self, station_id: int) -> Station:
        return self.stations.get(station_id, Station())

    def without_faults(self) -> Scenario:
        return self.model_copy(update={"faults": self.faults.only()})

    @property
    def content_hash(self) -> str:
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


_FALLBACK_BASELINE = Profile(
    capture_efficiency=0.3,
    saturation_l=0.8,
    dirt_capacity_kg=0.8,
    drying_half_life_min=45,
    maintenance_interval_days=28,
)


def load_scenario(path: Path | str | None = None) -> Scenario:
    """Read and validate a scenario YAML file (None = the shipped pilot default).

    Raises ConfigError with the file and the first problem.
    """
    where = Path(path) if path is not None else DEFAULT_SCENARIO
    try:
        data = yaml.safe_load(where.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"scenario {where}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"scenario {where}: not valid YAML: {exc}") from exc
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"scenario {where}: {loc}: {err['msg']}") from exc
    if scenario.weather_dir is not None and not scenario.weather_dir.is_absolute():
        scenario = scenario.model_copy(update={"weather_dir": where.parent / scenario.weather_dir})
    return scenario


def rng_for(seed: int, *names: str | int) -> np.random.Generator:
    """An independent random stream per purpose (weather of a station, a sensor's noise, a fault),
    so switching one fault on never changes the truth or another sensor's readings."""
    keys = [zlib.crc32(str(name).encode()) for name in names]
    return np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, *keys]))
