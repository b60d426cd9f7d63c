"""The monthly report for procurement: one self-contained HTML file per period.

League table, per-supplier KPI tables, a chart of wet floors against rain, trend charts, data
quality, the method in plain words and the reproducibility block. Charts are PNG pictures made
with matplotlib (Agg backend) and embedded as base64, so the file needs nothing else to show.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analytics.fairness import CONTRACT_KPIS
from analytics.scorecard import PeriodResult, code_version
from floorwatch.registry import Registry

KPI_LABELS = {
    "dry_time_share": ("Dry time share", "share of occupied minutes", "{:.1%}"),
    "clean_time_share": ("Clean time share", "share of occupied minutes", "{:.1%}"),
    "wet_recovery_p90": ("Wet recovery (p90)", "minutes", "{:.0f} min"),
    "slip_exposure": ("Slip exposure", "wet passages per 1,000", "{:.1f}"),
    "dirt_capture": ("Dirt capture", "share", "{:.1%}"),
    "data_availability": ("Data availability", "received / expected", "{:.1%}"),
}
STATUS_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "insufficient": "#9a6700"}

CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 68rem; color: #1f2328; line-height: 1.45; padding: 0 1rem; }
h1 { border-bottom: 2px solid #0969da; padding-bottom: .3rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .55rem; text-align: right; }
th { background: #f6f8fa; } td.l, th.l { text-align: left; }
.status { font-weight: 600; } .note { color: #57606a; font-size: .9rem; }
img { max-width: 100%; } code { background: #f6f8fa; padding: .1rem .3rem; }
.repro { background: #f6f8fa; padding: .8rem 1rem; border-radius: 6px; font-size: .85rem; }
"""


def _fmt(value: Any, kpi: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return KPI_LABELS[kpi][2].format(value)


def _interval(low: Any, high: Any, kpi: str) -> str:
    if low is None or high is None:
        return ""
    return f"<br><span class='note'>[{_fmt(low, kpi)}, {_fmt(high, kpi)}]</span>"


def _png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<img alt='chart' src='data:image/png;base64,{data}'>"


def _e(text: Any) -> str:
    return html.escape(str(text))


# --- charts -----------------------------------------------------------------------------------
def league_chart(comparison: dict[str, Any]) -> str:
    """Raw and adjusted value per supplier and KPI, with 95 % intervals."""
    kpis = [k for k in comparison["by_kpi"] if k in KPI_LABELS]
    figure, axes = plt.subplots(1, len(kpis), figsize=(3.0 * len(kpis), 3.2), squeeze=False)
    for ax, kpi in zip(axes[0], kpis, strict=True):
        rows = comparison["by_kpi"][kpi]["ranking"]
        names = [r["supplier"] for r in rows]
        y = np.arange(len(rows))
        for offset, prefix, colour in ((-0.15, "raw", "#8c959f"), (0.15, "adjusted", "#0969da")):
            values = np.array([_num(r[prefix]) for r in rows])
            low = np.array([_num(r[f"{prefix}_low"]) for r in rows])
            high = np.array([_num(r[f"{prefix}_high"]) for r in rows])
            err = np.vstack([np.nan_to_num(values - low), np.nan_to_num(high - values)])
            ax.errorbar(
                values, y + offset, xerr=np.abs(err), fmt="o", color=colour, label=prefix, capsize=3
            )
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_title(KPI_LABELS[kpi][0], fontsize=9)
        ax.set_xlabel(KPI_LABELS[kpi][1], fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0][0].legend(fontsize=7, loc="best")
    figure.tight_layout()
    return _png(figure)


def _num(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def wet_against_rain_chart(result: PeriodResult, registry: Registry) -> str:
    """Per weather station: daily rain (bars) and each installation's wet minutes (lines)."""
    stations = sorted(
        {registry.schools[c.document["school"]].weather_station for c in result.scorecards}
    )
    if not stations:
        return "<p class='note'>No installations scored: nothing to draw.</p>"
    figure, axes = plt.subplots(len(stations), 1, figsize=(10, 2.6 * len(stations)), squeeze=False)
    for ax, station in zip(axes[:, 0], stations, strict=True):
        weather = result.weather.get(station)
        if weather is not None and not weather.empty:
            rain = weather["precip_day_mm"].fillna(0.0)
            ax.bar(
                pd.DatetimeIndex(weather.index),
                rain.to_numpy(),
                color="#54aeff",
                alpha=0.6,
                label="rain (mm/day)",
            )
        ax.set_ylabel("rain mm/day", fontsize=8)
        twin = ax.twinx()
        for card in result.scorecards:
            school = registry.schools[card.document["school"]]
            if school.weather_station != station:
                continue
            daily = card.daily
            wet = (daily["moisture_minutes"] - daily["dry_minutes"]).to_numpy()
            twin.plot(
                pd.DatetimeIndex(daily.index),
                wet,
                marker=".",
                linewidth=1,
                label=f"{card.document['entrance']} ({card.document['supplier']})",
            )
        twin.set_ylabel("wet minutes (inner, occupied)", fontsize=8)
        twin.legend(fontsize=7, loc="upper right")
        ax.set_title(f"SMHI station {station}", fontsize=9)
        ax.tick_params(labelsize=7)
    figure.autofmt_xdate()
    figure.tight_layout()
    return _png(figure)


def trend_chart(result: PeriodResult) -> str:
    """Weekly grit load, wet minutes, cleaning interventions and slip exposure per entrance."""
    metrics = [
        ("grit_load", "grit load (passages x entry dirt)"),
        ("wet_minutes", "wet minutes in school hours"),
        ("cleaning_interventions", "cleaning interventions detected"),
        ("slip_exposure", "slip exposure (per 1,000 passages)"),
    ]
    frames = {e: t for e, t in sorted(result.trends.items()) if not t.empty}
    if not frames:
        return "<p class='note'>No weekly trends in this period.</p>"
    figure, axes = plt.subplots(2, 2, figsize=(11, 6.5))
    for ax, (metric, label) in zip(axes.ravel(), metrics, strict=True):
        for entrance, weekly in frames.items():
            ax.plot(
                pd.to_datetime(weekly["week"]),
                weekly[metric],
                marker="o",
                linewidth=1,
                label=entrance,
            )
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=6, ncol=2)
    figure.autofmt_xdate()
    figure.tight_layout()
    return _png(figure)


# --- sections ---------------------------------------------------------------------------------
def _league_table(comparison: dict[str, Any]) -> str:
    rows = []
    scores = comparison.get("mean_score", {})
    for row in comparison["ranking"]:
        score = scores.get(row["supplier"])
        rows.append(
            f"<tr><td>{row['rank']}</td><td class='l'>{_e(row['supplier'])}</td>"
            f"<td>{_num(row['adjusted']):.2f}</td>"
            f"<td>[{_num(row['adjusted_low']):.2f}, {_num(row['adjusted_high']):.2f}]</td>"
            f"<td>{'–' if score is None else f'{score:.2f}'}</td></tr>"
        )
    notes = "".join(f"<li>{_e(n)}</li>" for n in comparison["overlap"]) or (
        "<li>No intervals overlap: the order is clear.</li>"
    )
    return (
        "<table><tr><th>Rank</th><th class='l'>Supplier</th><th>Adjusted achievement</th>"
        "<th>95 % interval</th><th>Mean score</th></tr>" + "".join(rows) + "</table>"
        "<p class='note'>Achievement: the weighted mean, over the contract's KPIs, of each "
        "adjusted value relative to its target (1 = on target).</p>"
        f"<ul class='note'>{notes}</ul>"
    )


def _supplier_tables(result: PeriodResult) -> str:
    parts = []
    by_supplier: dict[str, list[dict[str, Any]]] = {}
    for card in result.scorecards:
        by_supplier.setdefault(card.document["supplier"], []).append(card.document)
    for supplier, documents in sorted(by_supplier.items()):
        parts.append(f"<h3>{_e(supplier)}</h3>")
        for doc in sorted(documents, key=lambda d: d["installation"]):
            pay = doc["payment"]
            score = doc["score"]
            parts.append(
                f"<p><b>{_e(doc['entrance'])}</b> ({_e(doc['school'])}, "
                f"{_e(doc['municipality'])}) — score "
                f"{'insufficient data' if score is None else f'{score:.2f}'}, bonus/malus "
                f"{pay['bonus_malus_sek']:+,.0f} SEK, payment {pay['payment_sek']:,.0f} SEK "
                f"({pay['active_days']} of {pay['period_days']} days); "
                f"{doc['excluded_total']} excluded intervals</p>"
            )
            rows = []
            for kpi in [*[str(k) for k in CONTRACT_KPIS], "data_availability"]:
                k = doc["kpis"][kpi]
                colour = STATUS_COLOURS.get(k["status"], "#57606a")
                rows.append(
                    f"<tr><td class='l'>{KPI_LABELS[kpi][0]}</td>"
                    f"<td>{_fmt(k.get('raw'), kpi)}"
                    f"{_interval(k.get('raw_low'), k.get('raw_high'), kpi)}</td>"
                    f"<td>{_fmt(k.get('adjusted'), kpi)}"
                    f"{_interval(k.get('adjusted_low'), k.get('adjusted_high'), kpi)}</td>"
                    f"<td>{_fmt(k.get('target'), kpi)}</td><td>{_num(k.get('weight')):.2f}</td>"
                    f"<td>{_fmt(k.get('availability'), 'data_availability')}</td>"
                    f"<td class='status' style='color:{colour}'>{_e(k['status'])}</td></tr>"
                )
            parts.append(
                "<table><tr><th class='l'>KPI</th><th>Raw [95 %]</th><th>Adjusted [95 %]</th>"
                "<th>Target</th><th>Weight</th><th>Data</th><th>Status</th></tr>"
                + "".join(rows)
                + "</table>"
            )
    return "".join(parts) or "<p>No installation was active in this period.</p>"


def _data_quality(result: PeriodResult) -> str:
    counts: dict[str, int] = {}
    problems = []
    for sensor_id, health in sorted(result.sensor_health.items()):
        counts[health.status] = counts.get(health.status, 0) + 1
        if health.status != "ok":
            problems.append(
                f"<tr><td class='l'>{_e(sensor_id)}</td><td>{_e(health.status)}</td>"
                f"<td>{_fmt(health.availability, 'data_availability')}</td>"
                f"<td>{health.suspect_minutes}</td>"
                f"<td class='l'>{_e(', '.join(health.reasons))}</td></tr>"
            )
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no sensors"
    table = (
        "<table><tr><th class='l'>Sensor</th><th>Status</th><th>Availability</th>"
        "<th>Suspect minutes</th><th class='l'>Reasons</th></tr>" + "".join(problems) + "</table>"
        if problems
        else "<p>Every sensor delivered trusted data.</p>"
    )
    return f"<p>Sensors: {summary}.</p>{table}"


METHOD = """
<p>This report complements the INSTA 800 inspections used in Swedish cleaning procurement. INSTA
800 judges how clean a floor is right after cleaning, by visual inspection of sampled rooms. It
cannot see how the entrance floors fare during the school day and in rain: that is what these
sensors measure, minute by minute, in the inner zone beyond each supplier's entrance
solution.</p>
<ul>
<li><b>Occupied time</b>: the school calendar's opening hours (local time, Europe/Stockholm,
summer and winter time handled), on school days only: no weekends, holidays or breaks.</li>
<li><b>Dry / clean time share</b>: the share of occupied minutes with the inner floor's moisture
at or below the contract's wet threshold, or its soiling index at or below the dirt
threshold.</li>
<li><b>Wet recovery</b>: how long the inner floor stays wet once it gets wet; the 90th
percentile of the wet episodes' lengths, in minutes.</li>
<li><b>Slip exposure</b>: of every 1,000 people passing while the school is open, how many
passed while the inner floor was wet. Wet floors are where slips happen (pendulum test values
below 36 mean more than low slip risk; dry floors almost always pass).</li>
<li><b>Dirt capture</b>: how much less dirt builds up on the inner floor than at the entry, per
passage. Industry sources say 70 to 90 % of a building's dirt comes in on shoes and that good
matting removes about 80 to 90 % of it; those are industry figures, plausible ranges rather than
truths, and this report measures capture instead of assuming it.</li>
<li><b>Sensor health first</b>: readings out of range, stuck values, spikes, gaps, clock trouble
and readings that make no physical sense together (found by an outlier model and a physical
rule) are excluded and listed; they count against data availability. Where data availability
falls below the contract's minimum, the KPI is "insufficient": the supplier is neither paid nor
penalised on it.</li>
<li><b>Fairness</b>: schools differ in rain, snow and footfall. A statistical model learns the
expected daily outcome from the weather (SMHI), the wetness outside the door and footfall, using
only days without any supplier's solution (each entrance's baseline before installation, and
reference entrances). Each KPI is shown raw and adjusted: raw minus what the model expects under
the installation's own conditions plus what it expects under everyone's average conditions. The
ranges in brackets are 95 % intervals from resampling days; where suppliers' intervals overlap,
the report says their order is not certain.</li>
<li><b>Judging</b>: pass or fail is judged on the adjusted value where the model could be
fitted (else on the raw one). An adjusted value can lie outside the KPI's natural range (above
100 %, say) when a solution does better than its conditions predict: it is for comparison.</li>
<li><b>Payment</b>: the score is the share of KPI weight that passes (over KPIs with sufficient
data). Above the contract's bonus threshold the bonus grows linearly to its maximum at a score
of 1; below the malus threshold the malus grows linearly to its maximum at 0.</li>
</ul>
"""


def build_report(result: PeriodResult, registry: Registry) -> str:
    """The HTML report of a scored period (deterministic for the same result)."""
    version = code_version()
    comparisons = (
        "".join(
            f"<h3>{_e(contract_id)}</h3>{_league_table(comparison)}{league_chart(comparison)}"
            for contract_id, comparison in sorted(result.comparisons.items())
            if comparison["ranking"]
        )
        or "<p>No suppliers to compare in this period.</p>"
    )
    contracts = ", ".join(
        _e(c.name) for c in sorted(registry.contracts.values(), key=lambda c: c.id)
    )
    files = ", ".join(sorted(Path(f).name for f in registry.files))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Floorwatch report {_e(result.period)}</title><style>{CSS}</style></head><body>
<h1>Clean and dry entrances — report {_e(result.period)}</h1>
<p>{contracts}. Period {result.start.isoformat()} to {result.end.isoformat()} (UTC).</p>
<h2>League table</h2>
{comparisons}
<h2>Suppliers and installations</h2>
{_supplier_tables(result)}
<h2>Wet floors against rain</h2>
<p class="note">Bars: daily rain at the school's SMHI station. Lines: minutes per day the inner
floor was wet while the school was open.</p>
{wet_against_rain_chart(result, registry)}
<h2>Trends for facility managers</h2>
<p class="note">Weekly, per entrance: wear (grit load), wet minutes, cleaning interventions detected
in the data (the cleaning staff's workload) and slip exposure.</p>
{trend_chart(result)}
<h2>Data quality</h2>
{_data_quality(result)}
<h2>Method</h2>
{METHOD}
<h2>Reproducibility</h2>
<div class="repro">
Registry hash: <code>{_e(registry.content_hash)}</code><br>
Registry files: {_e(files)}<br>
Code: floorwatch {_e(version["floorwatch"])}, commit <code>{_e(version["git_commit"])}</code><br>
Recompute: <code>floorwatch score --period {_e(result.period)} --format json</code> with the same
store and registry gives byte-identical scorecards (seeded bootstrap and model).
</div>
</body></html>
"""


def write_report(result: PeriodResult, registry: Registry, reports_dir: Path) -> Path:
    """Write `<reports_dir>/report-<period>.html`; returns its path."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / f"report-{result.period}.html"
    path.write_text(build_report(result, registry), encoding="utf-8")
    return path
