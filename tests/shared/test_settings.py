"""Settings: from FLOORWATCH_* variables and flags; a bad value fails with one line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from floorwatch.errors import ConfigError
from floorwatch.settings import load_settings, parse_mqtt_url, parse_store_url
from tests.services import REPO


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.store.backend == "sqlite"
    monkeypatch.setenv("FLOORWATCH_STORE_URL", "influxdb://u:p%40ss@db.example:8087/floor")
    monkeypatch.setenv("FLOORWATCH_MQTT_URL", "mqtts://dev:secret@broker.example")
    settings = load_settings()
    assert settings.store.backend == "influxdb"
    assert settings.store.base_url == "http://db.example:8087"
    assert settings.store.password == "p@ss"
    assert settings.mqtt.tls and settings.mqtt.port == 8883 and settings.mqtt.username == "dev"


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOORWATCH_STORE_URL", "sqlite:///from-env.db")
    settings = load_settings(store_url="sqlite:///from-flag.db", mqtt_url=None)
    assert settings.store.path == Path("from-flag.db")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://localhost:1884", "localhost:1884"),
        ("mqtts://h", "h:8883"),
        ("mqtt://h:1?protocol=3.1.1", "h:1"),
    ],
)
def test_mqtt_urls(url: str, expected: str) -> None:
    target = parse_mqtt_url(url)
    assert f"{target.host}:{target.port}" == expected


def test_embedded_is_refused_when_the_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # No command can use it (only the demo runs a broker in-process, and it needs no URL), so it
    # stops every command at start instead of deep inside the collector or the simulator.
    monkeypatch.setenv("FLOORWATCH_MQTT_URL", "embedded")
    with pytest.raises(ConfigError, match="FLOORWATCH_MQTT_URL: 'embedded' is not a broker URL"):
        load_settings()


def test_store_urls() -> None:
    assert parse_store_url("sqlite:////var/lib/fw.db").path == Path("/var/lib/fw.db")
    token = parse_store_url("influxdbs://cloud.example/bucket?token=abc")
    assert token.base_url == "https://cloud.example:8086" and token.token == "abc"
    assert token.database == "bucket"


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [
        ("FLOORWATCH_STORE_URL", "postgres://x/y", "FLOORWATCH_STORE_URL: expected sqlite"),
        ("FLOORWATCH_STORE_URL", "influxdb://host", "FLOORWATCH_STORE_URL: expected one database"),
        ("FLOORWATCH_MQTT_URL", "http://x", "FLOORWATCH_MQTT_URL: expected mqtt://"),
        ("FLOORWATCH_MQTT_URL", "mqtt://h:99999", "FLOORWATCH_MQTT_URL: bad port"),
        ("FLOORWATCH_BATCH_SIZE", "0", "FLOORWATCH_BATCH_SIZE"),
    ],
)
def test_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_cli_lists_subcommands_and_each_has_an_example() -> None:
    def run(*args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "floorwatch", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    root = run("--help")
    commands = _listed(root)
    assert "registry" in commands
    for command in commands:
        text = run(command, "--help")
        if "Commands" in text:
            subs = _listed(text)
            assert subs, command
            for sub in subs:
                assert "Example:" in run(command, sub, "--help"), f"{command} {sub}"
        else:
            assert "Example:" in text, command


def _listed(help_text: str) -> list[str]:
    """Command names in the "Commands" box of a rich help text (not wrapped description lines)."""
    box = help_text[help_text.index("Commands") :] if "Commands" in help_text else ""
    return [
        line.split()[1]
        for line in box.splitlines()
        if line.startswith("│ ")
        and line[2] != " "
        and line.split()[1].replace("-", "_").isidentifier()
    ]
