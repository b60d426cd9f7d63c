"""The monthly report for procurement: one self-contained HTML file per period.

The supplier comparison on effects (with "no difference shown" where the data cannot tell),
per installation its KPIs measured, expected without the solution and as improvement, why each
passed or failed, its baselines' form, fit and acceptance, its relief days and a weekly chart of
measured against expected untreated; wet floors against rain, trends, data quality, the method in
plain words and the reproducibility block. Each sentence of explanation is its own function, so
that it can move into a message catalogue. Charts are PNG pictures made
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

from analytics.scorecard import PeriodResult, code_version
from floorwatch.registry import Registry
from floorwatch.registry.schema import CONTRACT_KPIS

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
    """Each supplier's effect (share of the untreated outcome avoided) per KPI, 95 % intervals."""
    kpis = [
        k for k in comparison["by_kpi"] if k in KPI_LABELS and comparison["by_kpi"][k]["ranking"]
    ]
    if not kpis:
        return ""
    figure, axes = plt.subplots(1, len(kpis), figsize=(3.0 * len(kpis), 3.2), squeeze=False)
    for ax, kpi in zip(axes[0], kpis, strict=True):
        rows = comparison["by_kpi"][kpi]["ranking"]
        names = [r["supplier"] for r in rows]
        y = np.arange(len(rows))
        values = np.array([_num(r["effect"]) for r in rows])
        low = np.array([_num(r["effect_low"]) for r in rows])
        high = np.array([_num(r["effect_high"]) for r in rows])
        err = np.vstack([np.nan_to_num(values - low), np.nan_to_num(high - values)])
        ax.errorbar(values, y, xerr=np.abs(err), fmt="o", color="#0969da", capsize=3)
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_title(KPI_LABELS[kpi][0], fontsize=9)
        ax.set_xlabel("share of untreated outcome avoided", fontsize=8)
        ax.tick_params(labelsize=8)
    figure.tight_layout()
    return _png(figure)


def expected_chart(result: PeriodResult) -> str:
    """Per installation, per week: wet minutes and inner dirt build-up measured against what
    its baseline expects without the solution."""
    cards = sorted(result.scorecards, key=lambda c: c.document["installation"])
    cards = [c for c in cards if not c.weekly.empty]
    if not cards:
        return "<p class='note'>No installation scored: nothing to draw.</p>"
    columns = 3
    rows = (len(cards) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(11, 2.4 * rows), squeeze=False)
    for ax in axes.ravel()[len(cards) :]:
        ax.set_visible(False)
    for ax, card in zip(axes.ravel(), cards, strict=False):
        weekly = card.weekly
        weeks = pd.DatetimeIndex(weekly.index)
        ax.plot(weeks, weekly["wet_minutes_measured"], "o-", color="#0969da", label="wet min")
        ax.plot(
            weeks,
            weekly["wet_minutes_expected"],
            "o--",
            color="#8c959f",
            label="expected untreated",
        )
        ax.set_title(card.document["installation"], fontsize=8)
        ax.tick_params(labelsize=6)
    axes[0][0].legend(fontsize=6)
    figure.autofmt_xdate()
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
def no_difference_text() -> str:
    return "no difference shown: the data cannot tell these two apart"


def difference_text(test: dict[str, Any]) -> str:
    if test["better"] is None:
        return f"{test['a']} and {test['b']}: " + no_difference_text()
    worse = test["b"] if test["better"] == test["a"] else test["a"]
    return (
        f"{test['better']} avoids {abs(_num(test['difference'])):.0%} more of the untreated "
        f"outcome than {worse} (Holm-corrected p = {_num(test['p_holm']):.3f})"
    )


def ranking_note() -> str:
    return (
        "Effect: the share of each entrance's own expected untreated outcome the solution "
        "avoided, averaged over the supplier's installations and weighted over the KPIs every "
        "supplier has. Suppliers are only called different where the test of their difference "
        "says so."
    )


def _league_table(comparison: dict[str, Any]) -> str:
    rows = []
    scores = comparison.get("mean_score", {})
    for row in comparison["ranking"]:
        score = scores.get(row["supplier"])
        rows.append(
            f"<tr><td>{row['rank']}</td><td class='l'>{_e(row['supplier'])}</td>"
            f"<td>{_num(row['effect']):.2f}</td>"
            f"<td>[{_num(row['effect_low']):.2f}, {_num(row['effect_high']):.2f}]</td>"
            f"<td>{'–' if score is None else f'{score:.2f}'}</td></tr>"
        )
    notes = "".join(f"<li>{_e(difference_text(t))}</li>" for t in comparison["differences"])
    if comparison.get("no_difference_shown", True):
        notes += f"<li><b>{_e(no_difference_text())}</b> (overall)</li>"
    return (
        "<table><tr><th>Rank</th><th class='l'>Supplier</th><th>Effect</th>"
        "<th>95 % interval</th><th>Mean score</th></tr>" + "".join(rows) + "</table>"
        f"<p class='note'>{_e(ranking_note())}</p>"
        f"<ul class='note'>{notes}</ul>"
    )


def baseline_text(model: dict[str, Any]) -> str:
    fit = model["fit"]
    verdict = "accepted" if model["acceptance"]["accepted"] else "not accepted"
    stats = (
        f"held-out CV(RMSE) {_num(fit.get('cv_rmse')):.0%}, NMBE {_num(fit.get('nmbe')):+.0%}"
        if fit.get("cv_rmse") is not None
        else "no held-out check possible"
    )
    why = "; ".join(model["acceptance"]["reasons"])
    return f"{model['form']}; {stats}; {verdict}" + (f" ({why})" if why else "")


def relief_text(days: list[str]) -> str:
    return "relief days (excused by the contract): " + ", ".join(days)


def _installation(doc: dict[str, Any]) -> str:
    pay = doc["payment"]
    score = doc["score"]
    parts = [
        f"<p><b>{_e(doc['entrance'])}</b> ({_e(doc['school'])}, "
        f"{_e(doc['municipality'])}) — score "
        f"{'insufficient data' if score is None else f'{score:.2f}'}, bonus/malus "
        f"{pay['bonus_malus_sek']:+,.0f} SEK, payment {pay['payment_sek']:,.0f} SEK "
        f"({pay['active_days']} of {pay['period_days']} days); "
        f"{doc['excluded_total']} excluded intervals</p>"
    ]
    rows, models = [], []
    for kpi in [*[str(k) for k in CONTRACT_KPIS], "data_availability"]:
        k = doc["kpis"][kpi]
        colour = STATUS_COLOURS.get(k["status"], "#57606a")
        improvement = k.get("improvement")
        rows.append(
            f"<tr><td class='l'>{KPI_LABELS[kpi][0]}</td>"
            f"<td>{_fmt(k.get('raw'), kpi)}"
            f"{_interval(k.get('raw_low'), k.get('raw_high'), kpi)}</td>"
            f"<td>{_fmt(k.get('expected_untreated'), kpi)}"
            f"{_interval(k.get('expected_untreated_low'), k.get('expected_untreated_high'), kpi)}"
            "</td>"
            f"<td>{'–' if improvement is None else f'{improvement:.0%}'}</td>"
            f"<td>{_e(k.get('judged_on') or '')}</td>"
            f"<td>{_num(k.get('weight')):.2f}</td>"
            f"<td>{_fmt(k.get('availability'), 'data_availability')}</td>"
            f"<td class='status' style='color:{colour}'>{_e(k['status'])}</td>"
            f"<td class='l'>{_e(k.get('reason', ''))}</td></tr>"
        )
        if k.get("baseline"):
            models.append(f"<li>{KPI_LABELS[kpi][0]}: {_e(baseline_text(k['baseline']))}</li>")
        if k.get("relief_days"):
            models.append(f"<li>{KPI_LABELS[kpi][0]}: {_e(relief_text(k['relief_days']))}</li>")
    parts.append(
        "<table><tr><th class='l'>KPI</th><th>Measured [95 %]</th>"
        "<th>Expected without the solution [95 %]</th><th>Avoided</th><th>Judged on</th>"
        "<th>Weight</th><th>Data</th><th>Status</th><th class='l'>Why</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    parts.append(f"<ul class='note'>{''.join(models)}</ul>")
    return "".join(parts)


def _supplier_tables(result: PeriodResult) -> str:
    parts = []
    by_supplier: dict[str, list[dict[str, Any]]] = {}
    for card in result.scorecards:
        by_supplier.setdefault(card.document["supplier"], []).append(card.document)
    for supplier, documents in sorted(by_supplier.items()):
        parts.append(f"<h3>{_e(supplier)}</h3>")
        for doc in sorted(documents, key=lambda d: d["installation"]):
            parts.append(_installation(doc))
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
<li><b>Counterfactual baseline</b>: for each entrance, a small model of what its inner floor
would have been without the solution, from the day's weather (SMHI rain in and before opening
hours, frost, snow), the wetness outside the door and footfall, fitted on the entrance's own days
before the installation and its school's reference entrances. Its form keeps values in range
(a logistic model for shares of minutes and passages, a log-link model for dirt build-up); its
coefficients and fit are in every scorecard. It is accepted only if it predicts held-out
baseline days well enough and had enough days, and wet days, to learn from.</li>
<li><b>Judging</b>: each KPI as the contract says: on improvement (the share of the expected
untreated wet minutes, dirty minutes, wet passages or inner dirt build-up the solution avoided)
or on the measured level against the target, leaving out the days the contract's weather relief
excuses. A KPI whose baseline is not accepted is judged on its measured level, and the
scorecard says why. A period without wet episodes is judged as the contract says. Payment
depends only on the installation's own data, never on other suppliers' schools.</li>
<li><b>Uncertainty</b>: the ranges in brackets are 95 % intervals from resampling days in
weekly blocks and refitting the baseline each time, so the model's own error is included.</li>
<li><b>Comparison</b>: suppliers are compared on their effects, and two suppliers are only
called different where a test of their difference (corrected for the number of comparisons)
says so; otherwise the report says "no difference shown".</li>
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
<h2>Measured against expected without the solution</h2>
<p class="note">Per installation and week: wet minutes in school hours measured (solid) and what
its own baseline expects without the solution for the same weather and footfall (dashed).</p>
{expected_chart(result)}
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
store and registry gives byte-identical scorecards (seeded bootstrap, deterministic model fits).
</div>
</body></html>
"""


def write_report(result: PeriodResult, registry: Registry, reports_dir: Path) -> Path:
    """Write `<reports_dir>/report-<period>.html`; returns its path."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / f"report-{result.period}.html"
    path.write_text(build_report(result, registry), encoding="utf-8")
    return path
