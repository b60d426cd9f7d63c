"""The one error tree (floorwatch/errors.py): its docstring shows every class where it sits, and
the CLI's one table (floorwatch/cli.py) gives each an exit code."""

from __future__ import annotations

import re

import pytest
import typer

from floorwatch import cli, errors
from floorwatch.errors import FloorwatchError


def classes() -> list[type[FloorwatchError]]:
    found = [getattr(errors, name) for name in dir(errors)]
    return [c for c in found if isinstance(c, type) and issubclass(c, FloorwatchError)]


def test_the_docstring_tree_is_the_class_tree() -> None:
    # "    │   ├── StoreUnavailable  ..." -> depth 2: the parent is the last class one level up
    lines = [line for line in (errors.__doc__ or "").splitlines() if re.search(r"\w", line)]
    tree = [
        line for line in lines if line.startswith("    ") and re.search(r"[├└]── |^    \w", line)
    ]
    parents: dict[int, str] = {}
    drawn: dict[str, str | None] = {}
    for line in tree:
        match = re.match(r"^ {4}((?:[│ ] {3})*)(?:[├└]── )?(\w+)", line)
        assert match, line
        depth = len(match.group(1)) // 4 + (1 if "── " in line else 0)
        name = match.group(2)
        parents[depth] = name
        drawn[name] = parents.get(depth - 1) if depth else None
    actual = {
        c.__name__: (c.__mro__[1].__name__ if c is not FloorwatchError else None) for c in classes()
    }
    assert drawn == actual


@pytest.mark.parametrize("cls", classes(), ids=lambda c: c.__name__)
def test_every_error_exits_with_its_code_from_the_one_table(
    cls: type[FloorwatchError], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    error = cls([]) if cls is errors.RegistryError else cls("what went wrong")
    expected = cli.exit_code_of(error)
    if cls is not FloorwatchError:
        assert expected != 1, f"{cls.__name__} has no row in EXIT_CODES"
    app = typer.Typer()

    @app.command()
    def boom() -> None:
        raise error

    @app.command()
    def other() -> None:  # two commands: `boom` is a subcommand, as the components' are
        pass

    monkeypatch.setattr(cli, "app", app)
    monkeypatch.setattr(cli, "_add_component_commands", lambda args: None)
    with pytest.raises(SystemExit) as ended:
        cli.main(["boom"])
    assert ended.value.code == expected
    assert capsys.readouterr().err.startswith("error: ")


def test_codes_follow_the_tree() -> None:
    assert cli.exit_code_of(errors.WorkerDied("x")) == cli.exit_code_of(errors.ComponentFailed("x"))
    assert (
        cli.exit_code_of(errors.StoreCorrupt("x")) == cli.exit_code_of(errors.StoreError("x")) == 4
    )
    assert cli.exit_code_of(errors.InvalidRequest("x")) == cli.exit_code_of(errors.ConfigError("x"))
