"""One flag per setting across every command (floorwatch/options.py): the store is --store-url,
the broker --mqtt-url, the registry --registry everywhere; the old --store and --broker still
work, hidden, with a warning."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer

from floorwatch import cli
from floorwatch.store import open_store

# setting (the parameter's name as the command passes it on) -> its one flag
FLAGS = {"store_url": "--store-url", "mqtt_url": "--mqtt-url", "registry": "--registry"}


def commands(
    monkeypatch: pytest.MonkeyPatch, groups: bool = False
) -> Iterator[tuple[str, typer.core.TyperCommand]]:
    """Every command of `floorwatch` (and with `groups` every group), with its full name, as the
    root CLI assembles them."""
    monkeypatch.setattr(cli, "app", typer.Typer())
    cli.app.command("noop")(lambda: None)  # a group of one would collapse into its command
    cli._add_component_commands([])
    stack = [("floorwatch", typer.main.get_command(cli.app))]
    while stack:
        name, command = stack.pop()
        subs = getattr(command, "commands", None)
        if subs:
            stack += [(f"{name} {sub}", cmd) for sub, cmd in subs.items() if sub != "noop"]
            if groups and name != "floorwatch":
                yield name, command  # type: ignore[misc]
        else:
            yield name, command  # type: ignore[misc]


def test_each_setting_has_one_flag_in_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, set[str]] = {}
    for name, command in commands(monkeypatch):
        for param in command.params:
            opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
            if getattr(param, "hidden", False):
                assert opts in (["--store"], ["--broker"]), f"{name}: hidden {opts}"
                continue
            assert not {"--store", "--broker"} & set(opts), f"{name}: {opts}"
            setting = {"registry_path": "registry"}.get(param.name or "", param.name or "")
            if setting in FLAGS:
                assert opts == [FLAGS[setting]], f"{name}: {param.name} is {opts}"
                seen.setdefault(setting, set()).add(name)
    # the commands that take each setting (so the test cannot pass by finding none)
    assert {"floorwatch score", "floorwatch ingest", "floorwatch demo"} <= seen["store_url"]
    assert {"floorwatch ingest", "floorwatch simulate verify", "floorwatch demo"} <= seen[
        "mqtt_url"
    ]
    assert {"floorwatch score", "floorwatch ingest"} <= seen["registry"]


def test_every_command_help_has_an_example(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, command in commands(monkeypatch, groups=True):
        assert "Example: floorwatch " in (command.help or ""), name


def test_the_old_store_flag_still_works_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "smhi").mkdir()
    rain = {"value": [{"date": 1_790_000_000_000, "value": "0.4", "quality": "G"}]}
    (tmp_path / "smhi" / "smhi-52230-7.json").write_text(json.dumps(rain))
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cli.main(["weather", "import", str(tmp_path / "smhi"), "--store", url])
    err = capsys.readouterr().err
    assert "warning: --store is deprecated, use --store-url" in err
    assert "imported 1 readings from 1 files" in err
    store = open_store(url)  # the old flag's value was used
    try:
        september = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
        assert len(store.read_readings(*september)) == 1
    finally:
        store.close()
    with pytest.raises(SystemExit) as ended:
        cli.main(["weather", "import", str(tmp_path), "--store", url, "--store-url", url + "x"])
    assert ended.value.code == 2
    assert "--store is the old name of --store-url" in capsys.readouterr().err
