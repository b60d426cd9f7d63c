"""The `floorwatch` command: the root of the CLI.

Each component contributes its own subcommands through the `floorwatch.commands` entry-point
group (see pyproject.toml), so this shared package never imports the components. Errors from the
library are mapped to one clear line and an exit code here, in one place.
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import entry_points
from typing import Annotated

import typer

from floorwatch import __version__
from floorwatch.errors import (
    AccessDenied,
    BrokerError,
    ComponentFailed,
    ConfigError,
    FloorwatchError,
    GrafanaError,
    InvalidRequest,
    NotFound,
    RegistryError,
    StoreError,
    Unauthenticated,
)

# Exit codes, the one place they are decided: the first class an error is an instance of gives
# its code (subclasses share their base's: every StoreError exits 4). Anything else exits 1.
EXIT_CODES: list[tuple[type[FloorwatchError], int]] = [
    (ConfigError, 2),  # a bad setting or argument: the caller can fix it
    (InvalidRequest, 2),
    (RegistryError, 3),
    (StoreError, 4),
    (BrokerError, 5),
    (NotFound, 6),
    (AccessDenied, 7),
    (Unauthenticated, 7),
    (ComponentFailed, 8),
    (GrafanaError, 9),
]


def exit_code_of(exc: FloorwatchError) -> int:
    """The exit code `floorwatch` ends with for this error (see EXIT_CODES)."""
    return next((code for cls, code in EXIT_CODES if isinstance(exc, cls)), 1)


app = typer.Typer(
    name="floorwatch",
    help=(
        "Floorwatch: measure clean and dry school entrance floors, score suppliers by outcome."
        "\n\n"
        "Example: floorwatch registry validate floorwatch/pilot"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"floorwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Floorwatch command line."""


def _add_component_commands(args: list[str]) -> None:
    """Add the components' commands. Only the one being run is imported (start-up stays fast:
    components import pandas, scikit-learn, FastAPI...); all of them for the root help."""
    entries = sorted(entry_points(group="floorwatch.commands"), key=lambda e: e.name)
    wanted = next((arg for arg in args if not arg.startswith("-")), None)
    if any(entry.name == wanted for entry in entries):
        entries = [entry for entry in entries if entry.name == wanted]
    for entry in entries:
        sub = entry.load()
        if isinstance(sub, typer.Typer):
            app.add_typer(sub, name=entry.name)
        else:  # a plain function is a single command
            app.command(name=entry.name)(sub)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; library errors become one line on stderr and a non-zero exit code."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = list(sys.argv[1:] if argv is None else argv)
    _add_component_commands(args)
    try:
        # Without standalone mode click returns a command's exit code (typer.Exit) instead of
        # exiting: pass it on.
        code = app(args=args, standalone_mode=False)
        if isinstance(code, int) and code != 0:
            sys.exit(code)
    except FloorwatchError as exc:
        if isinstance(exc, RegistryError) and len(exc.problems) > 1:
            for problem in exc.problems:
                typer.echo(f"error: {problem}", err=True)
        else:
            typer.echo(f"error: {exc}", err=True)
        sys.exit(exit_code_of(exc))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
