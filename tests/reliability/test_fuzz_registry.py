"""Property-based fuzzing of the registry loader (floorwatch.registry.loader.load_registry).

The loader gets the pilot's files with structural mutations (a value deleted, replaced by any
YAML value, a list item duplicated), with byte-level damage (truncation, junk, invalid UTF-8),
or arbitrary YAML documents. It either returns a Registry or raises RegistryError, the documented
rejection, whose every problem names its file and says what is wrong. Nothing else escapes.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floorwatch.errors import RegistryError
from floorwatch.registry import PILOT, Registry, load_registry
from floorwatch.registry.loader import _Loader

FUZZ = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PILOT_TEXT = {path.name: path.read_text(encoding="utf-8") for path in sorted(PILOT.glob("*.yaml"))}
# The loader's own YAML flavour (07:30 is the string "07:30"), so the dump back is faithful.
PILOT_DATA = {name: yaml.load(text, Loader=_Loader) for name, text in PILOT_TEXT.items()}

yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "07:30", "25:99", "2026-02-30", "moisture", "inner", "-1", "1e999"]),
    st.dates().map(str),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a node in the document (not the root)."""
    found: list[tuple[Any, ...]] = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*path, index)))
    return found


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


@st.composite
def mutated_pilot(draw: st.DrawFn) -> dict[str, str]:
    """The pilot's files as text, with one to three structural mutations in one of them."""
    name = draw(st.sampled_from(sorted(PILOT_DATA)))
    document = copy.deepcopy(PILOT_DATA[name])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, last = _parent(document, path), path[-1]
        operation = draw(st.sampled_from(["delete", "replace", "duplicate", "rename"]))
        if operation == "delete":
            del parent[last]
        elif operation == "replace":
            parent[last] = draw(yaml_values)
        elif operation == "duplicate" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        elif operation == "rename" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = parent.pop(last)
    files = dict(PILOT_TEXT)
    files[name] = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return files


@st.composite
def damaged_pilot(draw: st.DrawFn) -> dict[str, bytes]:
    """The pilot's files as bytes, one of them truncated or with junk spliced in."""
    name = draw(st.sampled_from(sorted(PILOT_TEXT)))
    files = {n: text.encode() for n, text in PILOT_TEXT.items()}
    data = files[name]
    at = draw(st.integers(min_value=0, max_value=len(data)))
    junk = draw(
        st.one_of(
            st.binary(max_size=16),
            st.sampled_from(
                [b"\t", b"\xff\xfe", b": :", b"- [", b"&a", b"*a", b"!!python/object", b"\x00"]
            ),
            st.text(max_size=16).map(str.encode),
        )
    )
    cut = draw(st.booleans())
    files[name] = data[:at] if cut else data[:at] + junk + data[at:]
    return files


def _load(files: dict[str, Any]) -> Registry | None:
    """Write the files to a fresh folder and load it; None when refused with RegistryError."""
    with tempfile.TemporaryDirectory() as folder:
        for name, content in files.items():
            target = Path(folder) / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        try:
            return load_registry(Path(folder))
        except RegistryError as exc:
            assert exc.problems, "a RegistryError must list its problems"
            for problem in exc.problems:
                assert problem.file and problem.message.strip(), problem
            assert str(exc).strip()
            return None


def test_the_pilot_round_trips_through_the_mutation_dump() -> None:
    """The unmutated dump of each file loads: mutations start from a valid registry."""
    for name in PILOT_DATA:
        files = dict(PILOT_TEXT)
        files[name] = yaml.safe_dump(PILOT_DATA[name], allow_unicode=True, sort_keys=False)
        assert isinstance(_load(files), Registry), name


@FUZZ
@given(files=mutated_pilot())
def test_structural_mutations_load_or_are_refused_with_reasons(files: dict[str, str]) -> None:
    registry = _load(files)
    if registry is not None:  # some mutations are harmless (a renamed name, a longer label)
        assert registry.sensors and registry.content_hash.startswith("sha256:")


@FUZZ
@given(files=damaged_pilot())
def test_damaged_bytes_load_or_are_refused_with_reasons(files: dict[str, bytes]) -> None:
    _load(files)


@FUZZ
@given(document=yaml_values)
def test_any_yaml_document_loads_or_is_refused_with_reasons(document: Any) -> None:
    registry = _load({"registry.yaml": yaml.safe_dump(document, allow_unicode=True)})
    if registry is not None:  # an empty document is an empty (valid) registry
        assert not registry.sensors and not registry.contracts
