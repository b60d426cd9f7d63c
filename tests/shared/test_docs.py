"""The docs describe the code as it is: every `floorwatch ...` line in a README, and every help
example, uses only flags its command has; no file cites a document kept outside the repository."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from floorwatch import cli
from tests.services import REPO

# typer's commands and groups are click's (a vendored copy in recent typer): checked by duck type
Command = Any

COMMAND_LINE = re.compile(r"floorwatch((?: [a-z][a-z-]*)+)((?: [^`\n#|]*)?)")


def tracked(*patterns: str) -> list[Path]:
    files = subprocess.run(
        ["git", "ls-files", *patterns], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    return [REPO / name for name in files]


@pytest.fixture
def root(monkeypatch: pytest.MonkeyPatch) -> Command:
    """The `floorwatch` command with every component's commands, as the root CLI builds it."""
    monkeypatch.setattr(cli, "app", typer.Typer())
    cli.app.command("noop")(lambda: None)  # a group of one would collapse into its command
    cli._add_component_commands([])
    group = typer.main.get_command(cli.app)
    assert hasattr(group, "commands")
    return group


def command_lines(text: str) -> Iterator[tuple[str, list[str]]]:
    """(command words, flags) of each `floorwatch <command> --flag ...` in a text."""
    for match in COMMAND_LINE.finditer(text):
        words, rest = match.group(1).split(), match.group(2)
        yield " ".join(words), re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", rest)


def check(root: Command, words: str, flags: list[str], where: str) -> int:
    command: Command = root
    for word in words.split():
        if not hasattr(command, "commands") or word not in command.commands:
            break  # an argument (a path, an id): the command is found
        command = command.commands[word]
    if hasattr(command, "commands"):
        return 0  # `floorwatch registry` in prose: no flags to check
    known = {"--help"}
    for param in command.params:
        if not getattr(param, "hidden", False):
            known |= {*param.opts, *param.secondary_opts}
    unknown = [f for f in flags if f not in known]
    assert not unknown, f"{where}: floorwatch {words} has no {unknown}"
    return len(flags)


def test_readme_command_lines_use_the_commands_flags(root: Command) -> None:
    checked = 0
    for path in tracked("*.md"):
        for words, flags in command_lines(path.read_text(encoding="utf-8")):
            checked += check(root, words, flags, str(path.relative_to(REPO)))
    assert checked > 30  # the READMEs name many flags: the test must have seen them


def test_help_examples_use_the_commands_flags(root: Command) -> None:
    checked = 0
    stack: list[Command] = [root]
    while stack:
        command = stack.pop()
        if hasattr(command, "commands"):
            stack += list(command.commands.values())
        for words, flags in command_lines(command.help or ""):
            checked += check(root, words, flags, f"help of {command.name}")
    assert checked > 15


def test_no_file_cites_a_document_outside_the_repository() -> None:
    outside = re.compile(r"\b(?:DESIGN|FORMATS|DOMAIN)\.md\b|\.\./shared|\bshared/[A-Z]")
    cited = [
        f"{path.relative_to(REPO)}:{number}"
        for path in tracked("*.py", "*.md", "*.yaml", "*.yml", "*.sh", "*.toml", "Dockerfile")
        if path != Path(__file__)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert cited == []
