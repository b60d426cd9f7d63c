"""Score a period and publish it: the sequence `floorwatch score` and the demo both run.

Scoring reads the store (`Scorer`); publishing writes the results to the same store as points
(kpi, scorecard, comparison, sensor_health, trend) and the period's self-contained HTML report to
`<reports_dir>/report-<period>.html` (and `report-<period>.<lang>.html` in every language), which
the API serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from analytics.scorecard import PeriodResult, Scorer, write_results


@dataclass(frozen=True)
class Scored:
    """A scored period, and where it was published (nothing when not asked to)."""

    result: PeriodResult
    points: int = 0  # points written to the store
    report: Path | None = None


def score_and_publish(
    scorer: Scorer,
    period: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    reports_dir: Path | None,
    lang: str | None = None,
) -> Scored:
    """Score `period` (a month "YYYY-MM", or a label with explicit [start, end) in UTC) and,
    given `reports_dir`, write the results to the scorer's store and the HTML reports there
    (`lang`, default the registry's language, is the one filed as report-<period>.html)."""
    result = scorer.score(period, start, end)
    if reports_dir is None:
        return Scored(result)
    from analytics.report import write_report  # matplotlib: only when a report is made

    points = write_results(scorer.store, result, scorer.registry)
    return Scored(result, points, write_report(result, scorer.registry, reports_dir, lang))
