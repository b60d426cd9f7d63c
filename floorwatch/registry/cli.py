"""`floorwatch registry ...`: check registry and contract files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from floorwatch.registry.loader import load_registry

app = typer.Typer(
    help="Registry and contract files.\n\nExample: floorwatch registry validate floorwatch/pilot",
    no_args_is_help=True,
)


@app.command("validate")
def validate(
    path: Annotated[Path, typer.Argument(help="A registry YAML file or a folder of them.")],
) -> None:
    """Validate registry and contract files; print a summary, or every error with its place.

    Example: floorwatch registry validate floorwatch/pilot
    """
    registry = load_registry(path)
    typer.echo(f"{path}: valid ({len(registry.files)} files, {registry.content_hash})")
    for name, count in registry.summary().items():
        typer.echo(f"  {name:20} {count}")
    for problem in registry.warnings:
        typer.echo(f"warning: {problem}", err=True)
