"""Explanations as data: each sentence of a scorecard (why a KPI passed or failed, why a baseline
was not accepted) is kept as its message and its values, so that the scorecard document can
state it in English and the report in its reader's language.

A message is English with {placeholders}, marked with `N_` where it is written (the catalogue,
floorwatch/locale, has its translations); a value is text, a whole number, or a
`[style, number]` pair written the language's way: "percent" (91 %), "percent1" (91.2 %),
"signed_percent" (+4 %), "minutes" (35 min), "per_thousand" (3.5 per 1,000).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from floorwatch.i18n import format_number, format_percent, language
from floorwatch.i18n import gettext as _

Record = dict[str, Any]  # {"message": ..., "values": {...}}: an explanation in a document


@dataclass(frozen=True)
class Explanation:
    message: str
    values: dict[str, Any] = field(default_factory=dict)

    def record(self) -> Record:
        """The explanation as the scorecard document stores it (plain JSON)."""
        return {"message": self.message, "values": dict(self.values)}

    def english(self) -> str:
        with language("en"):
            return render(self.record())


def styled(style: str, number: float) -> list[Any]:
    """A number to be written in `style` (module docstring)."""
    return [style, float(number)]


def _value(value: Any) -> str:
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        style, number = value
        if style == "percent":
            return format_percent(number, 0)
        if style == "percent1":
            return format_percent(number, 1)
        if style == "signed_percent":
            text = format_percent(number, 0)
            return "+" + text if number > 0 else text
        if style == "minutes":
            return _("{minutes} min").format(minutes=format_number(number, 0))
        if style == "per_thousand":
            return _("{value} per 1,000").format(value=format_number(number, 1))
        return format_number(number, 2)
    if isinstance(value, list):  # nested explanations, e.g. a baseline's reasons
        return "; ".join(render(item) for item in value)
    if isinstance(value, int | float):
        return format_number(value, 0)
    return _(str(value))


def render(record: Record) -> str:
    """An explanation (as stored) in the current language."""
    values = {name: _value(value) for name, value in record.get("values", {}).items()}
    return _(record["message"]).format(**values)


def render_all(records: list[Record]) -> str:
    """Several explanations as one sentence, in the current language."""
    return "; ".join(render(r) for r in records)
