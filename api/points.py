"""Stored results (Points frames from the store) as plain records for the response models."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from floorwatch.errors import StoreCorrupt


def clean(value: Any) -> Any:
    """NaN (a field a point does not have) and numpy scalars to JSON-ready values."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    return [{str(k): clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def number(record: dict[str, Any], name: str) -> float | None:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    return "" if value is None else str(value)


def document(record: dict[str, Any]) -> dict[str, Any]:
    """The `document` field (a JSON string) as an object."""
    raw = record.get("document")
    if raw is None:
        return {}
    try:
        parsed = json.loads(str(raw))
    except ValueError as exc:
        raise StoreCorrupt("a stored document is not valid JSON") from exc
    return parsed if isinstance(parsed, dict) else {"value": parsed}
