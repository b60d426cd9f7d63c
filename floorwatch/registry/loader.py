"""Load registry and contract YAML files, validate them, and report every problem with its place.

A registry is one YAML file or a folder of them (merged in name order: each top-level list is
concatenated). The content hash over all files is recorded in every scorecard.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from floorwatch.errors import Problem, RegistryError
from floorwatch.registry.model import Registry
from floorwatch.registry.schema import RegistryDocument

PILOT = Path(__file__).resolve().parent.parent / "pilot"

LIST_SECTIONS = (
    "municipalities",
    "schools",
    "suppliers",
    "installations",
    "calendars",
    "contracts",
)


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads 07:30 as the string "07:30", not YAML 1.1's sexagesimal 450."""


_CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
for _digit in "0123456789":
    _Loader.yaml_implicit_resolvers.setdefault(_digit, [])
    _Loader.yaml_implicit_resolvers[_digit] = [
        ("tag:yaml.org,2002:str", _CLOCK),
        *_Loader.yaml_implicit_resolvers[_digit],
    ]

Path_ = tuple[str | int, ...]


def _positions(node: yaml.Node, path: Path_, out: dict[Path_, tuple[int, int]]) -> None:
    """Record the (line, column), 1-based, of every node by its path in the document."""
    out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _positions(value_node, (*path, key), out)
            # Keep the key's position too, for "field required" errors below this mapping.
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _positions(item, (*path, index), out)


class _Sources:
    """Where each merged path came from: file name and (line, column)."""

    def __init__(self) -> None:
        self.places: dict[Path_, tuple[str, int, int]] = {}
        self.files: dict[Path_, str] = {}

    def add(self, file: str, positions: dict[Path_, tuple[int, int]], offsets: dict[str, int]):
        for path, (line, column) in positions.items():
            merged = path
            if len(path) >= 2 and path[0] in offsets and isinstance(path[1], int):
                merged = (path[0], path[1] + offsets[str(path[0])], *path[2:])
            self.places.setdefault(merged, (file, line, column))

    def locate(self, path: Path_, default_file: str) -> tuple[str, int | None, int | None]:
        """The place of `path`, or of its nearest ancestor that exists in the files."""
        for cut in range(len(path), -1, -1):
            place = self.places.get(path[:cut])
            if place is not None and (cut > 0 or len(path) == 0):
                return place
        # Only the top level itself: report the file of the section if known.
        return (default_file, None, None)


def registry_files(path: Path) -> list[Path]:
    """The YAML files of a registry: the file itself, or a folder's *.yaml/*.yml in name order."""
    if path.is_dir():
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        if not files:
            raise RegistryError([Problem(str(path), None, None, "", "no .yaml files in folder")])
        return files
    if not path.exists():
        raise RegistryError([Problem(str(path), None, None, "", "no such file or folder")])
    return [path]


def content_hash(files: list[Path]) -> str:
    """sha256 over the files' names and bytes, in order: the registry's version identity."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def _read(files: list[Path]) -> tuple[dict[str, Any], _Sources, list[Problem]]:
    merged: dict[str, Any] = {}
    sources = _Sources()
    problems: list[Problem] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:  # a registry is text: refuse it with its place
            problems.append(Problem(str(file), None, None, "", f"not UTF-8 text: {exc}"))
            continue
        try:
            node = yaml.compose(text, Loader=_Loader)
            data = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else None
            column = mark.column + 1 if mark else None
            reason = getattr(exc, "problem", None) or str(exc)
            problems.append(Problem(str(file), line, column, "", f"bad YAML: {reason}"))
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(str(file), 1, 1, "", "top level must be a mapping"))
            continue
        offsets = {
            key: len(merged.get(key, []))
            for key in LIST_SECTIONS
            if isinstance(data.get(key), list)
        }
        positions: dict[Path_, tuple[int, int]] = {}
        if node is not None:
            _positions(node, (), positions)
        sources.add(str(file), positions, offsets)
        for key, value in data.items():
            if key in LIST_SECTIONS and isinstance(value, list):
                merged.setdefault(key, [])
                if isinstance(merged[key], list):
                    merged[key].extend(value)
            elif key in merged and merged[key] != value:
                line, column = positions.get((key,), (None, None))
                problems.append(Problem(str(file), line, column, key, "given twice"))
            else:
                merged[key] = value
    return merged, sources, problems


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def iter_schema_problems(
    exc: ValidationError, sources: _Sources, default_file: str
) -> Iterator[Problem]:
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not str(part).startswith("function-after"))
        file, line, column = sources.locate(loc, default_file)
        message = str(error["msg"]).removeprefix("Value error, ")
        yield Problem(file, line, column, _dotted(loc), message)


def load_registry(path: Path | None = None) -> Registry:
    """Load and validate a registry (None: the shipped example pilot). Raises RegistryError with
    every problem found, each with file, line and column."""
    root = path if path is not None else PILOT
    files = registry_files(root)
    merged, sources, problems = _read(files)
    if problems:
        raise RegistryError(problems)
    try:
        document = RegistryDocument.model_validate(merged)
    except ValidationError as exc:
        raise RegistryError(list(iter_schema_problems(exc, sources, str(files[0])))) from exc
    registry = Registry(document, content_hash(files), [str(f) for f in files])
    cross = [
        Problem(*sources.locate(loc, str(files[0])), _dotted(loc), message)
        for loc, message in registry.cross_check()
    ]
    if cross:
        raise RegistryError(cross)
    registry.warnings = [
        Problem(*sources.locate(loc, str(files[0])), _dotted(loc), message)
        for loc, message in registry.check_warnings()
    ]
    return registry
