"""The results JSON as a Markdown table, for bench/README.md.

Example: python -m bench.report bench/results/latest.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _value(row: dict[str, Any]) -> str:
    value = row["value"]
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def markdown(document: dict[str, Any]) -> str:
    info = document["machine"]
    lines = [
        f"Machine: {info['cpu_model']}, {info['usable_cores']} cores, {info['memory_gb']} GB, "
        f"Python {info['python']}, {info['date']} (commit {info['commit']}); load average "
        f"{info.get('load_average_before', ['?'])[0]} before, "
        f"{info.get('load_average_after', ['?'])[0]} after.",
        "",
        "| section | case | value | unit | target | result | note |",
        "|---|---|---:|---|---|---|---|",
    ]
    for row in document["results"]:
        result = {True: "met", False: "**missed**", None: "-"}[row["met"]]
        lines.append(
            f"| {row['section']} | {row['name']} | {_value(row)} | {row['unit']} | "
            f"{row['target']} | {result} | {row['note'].replace('|', '/')} |"
        )
    return "\n".join(lines)


def main() -> None:
    print(markdown(json.loads(Path(sys.argv[1]).read_text())))


if __name__ == "__main__":
    main()
