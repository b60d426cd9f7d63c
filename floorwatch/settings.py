"""The one settings object. Read from `FLOORWATCH_*` environment variables, overridden by CLI flags.

Never built at import time: the CLI calls `load_settings(...)` once and passes the object down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from floorwatch.errors import ConfigError

ENV_PREFIX = "FLOORWATCH_"


@dataclass(frozen=True)
class MqttTarget:
    """Where the broker is."""

    host: str = "localhost"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    protocol_v5: bool = True  # False for MQTT 3.1.1 brokers such as the embedded amqtt


@dataclass(frozen=True)
class StoreTarget:
    """Which store: a SQLite file, or InfluxDB through its v1-compatible HTTP API."""

    backend: Literal["sqlite", "influxdb"]
    path: Path | None = None  # sqlite
    base_url: str = ""  # influxdb, e.g. http://localhost:8086
    database: str = ""
    username: str | None = None
    password: str | None = None
    token: str | None = None


def parse_mqtt_url(url: str) -> MqttTarget:
    """`mqtt://[user:pass@]host[:port]` or `mqtts://...` (TLS, default port 8883).

    `?protocol=3.1.1` selects MQTT 3.1.1 for brokers without MQTT 5 (default: 5). There is no
    `embedded`: every command that takes a broker needs one it can reach, and the demo's
    in-process broker is what `floorwatch demo` starts when given no `--mqtt-url`."""
    if url.strip() == "embedded":
        raise ValueError(
            "'embedded' is not a broker URL: the embedded broker is started by floorwatch demo "
            "(without --mqtt-url); give mqtt://host:port"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"expected mqtt://host:port or mqtts://host:port, got {url!r}")
    if not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {url!r}") from exc
    tls = parts.scheme == "mqtts"
    protocol = parse_qs(parts.query).get("protocol", ["5"])[0]
    if protocol not in ("5", "3.1.1"):
        raise ValueError(f"protocol must be 5 or 3.1.1 in {url!r}")
    return MqttTarget(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
        protocol_v5=protocol == "5",
    )


def parse_store_url(url: str) -> StoreTarget:
    """`sqlite:///path.db` or `influxdb[s]://[user:pass@]host[:port]/db[?token=...]`."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db -> "relative.db"; sqlite:////abs/path.db -> "/abs/path.db"
        raw = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not raw:
            raise ValueError(f"expected sqlite:///path/to/file.db, got {url!r}")
        return StoreTarget(backend="sqlite", path=Path(raw))
    if parts.scheme in ("influxdb", "influxdbs"):
        if not parts.hostname:
            raise ValueError(f"no host in {url!r}")
        database = parts.path.strip("/")
        if not database or "/" in database:
            raise ValueError(f"expected one database name after the host in {url!r}")
        try:
            port = parts.port or 8086
        except ValueError as exc:
            raise ValueError(f"bad port in {url!r}") from exc
        http = "https" if parts.scheme == "influxdbs" else "http"
        token = parse_qs(parts.query).get("token", [None])[0]
        return StoreTarget(
            backend="influxdb",
            base_url=f"{http}://{parts.hostname}:{port}",
            database=database,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            token=token,
        )
    raise ValueError(f"expected sqlite:///file.db or influxdb://host:port/db, got {url!r}")


class Settings(BaseSettings):
    """Everything configurable, one place. Each field is `FLOORWATCH_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    mqtt_url: str = "mqtt://localhost:1883"
    store_url: str = "sqlite:///floorwatch.db"
    registry: Path | None = Field(
        default=None, description="Registry file or folder; unset means the shipped example pilot"
    )

    # Collector
    client_id: str = "floorwatch-collector"
    share_group: str | None = None
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    receive_maximum: int = Field(default=10_000, ge=1, le=65_535)
    batch_size: int = Field(default=5_000, ge=1)
    batch_wait_ms: int = Field(default=200, ge=1)
    max_payload_bytes: int = Field(default=64 * 1024, ge=64)
    max_future_s: int = Field(default=300, ge=0)
    max_past_days: int = Field(default=400, ge=1)
    spool_dir: Path = Path("spool")
    spool_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    counters_interval_s: float = Field(default=10.0, gt=0)
    store_timeout_s: float = Field(
        default=5.0, gt=0, description="collector: a store slower than this counts as down (spool)"
    )
    influx_gzip_level: int = Field(
        default=0,
        ge=0,
        le=9,
        description="gzip level of the collector's InfluxDB writes: 0 (off) for loopback or a "
        "LAN, where compressing costs more CPU than it saves; 1 over a slow link",
    )
    influx_writes_in_flight: int = Field(
        default=2,
        ge=1,
        le=2,
        description="collector: batches being written to InfluxDB at once, acknowledged in "
        "order; 2 lets InfluxDB write one while the next is encoded and sent (SQLite: always 1)",
    )
    mqtt_ca_file: Path | None = Field(
        default=None, description="CA certificates for mqtts:// (unset: the system's)"
    )
    # The quarantine's bounds: records per device (topic) and in all per hour (0: no limit;
    # rejections over it are still counted), and how long records are kept (0: for ever).
    quarantine_per_device_per_hour: int = Field(default=60, ge=0)
    quarantine_per_hour: int = Field(default=6_000, ge=0)
    quarantine_retention_days: int = Field(default=90, ge=0)

    # Analytics: where `floorwatch score` writes report-<period>.html (the API serves them)
    reports_dir: Path = Path("reports")
    score_workers: int = Field(
        default=2, ge=1, le=64, description="processes that read and prepare entrance months"
    )

    # API
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=0, le=65_535)
    keys_file: Path = Field(
        default=Path("api_keys.db"),
        description="SQLite file with the API keys (salted hashes only, never the keys)",
    )
    api_cache_s: float = Field(
        default=5.0, ge=0, description="how long current state and stored results are cached"
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str) -> str:
        parse_mqtt_url(value)
        return value

    @field_validator("store_url")
    @classmethod
    def _check_store_url(cls, value: str) -> str:
        parse_store_url(value)
        return value

    @property
    def mqtt(self) -> MqttTarget:
        return parse_mqtt_url(self.mqtt_url)

    @property
    def store(self) -> StoreTarget:
        return parse_store_url(self.store_url)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment and the given overrides (CLI flags; None = unset).

    A bad value raises ConfigError with one line naming the setting, e.g.
    ``FLOORWATCH_STORE_URL: expected sqlite:///file.db or influxdb://host:port/db, got 'x'``.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}: {message}") from exc
