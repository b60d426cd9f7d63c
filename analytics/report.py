"""The monthly report for procurement: one self-contained HTML file per period and language.

The supplier comparison on effects (with "no difference shown" where the data cannot tell),
per installation its KPIs measured, expected without the solution and as improvement, why each
passed or failed, its baselines' form, fit and acceptance, its relief days and a weekly chart of
measured against expected untreated; wet floors against rain, trends, data quality, the method in
plain words and the reproducibility block. Charts are PNG pictures made with matplotlib (Agg
backend) and embedded as base64, so the file needs nothing else to show.

Every text is wrapped in `_` (gettext): the words come from the language's catalogue
(floorwatch/locale), numbers, money and weeks from floorwatch.i18n's formatters. The print
stylesheet makes an A4 document: each supplier on a new page, charts kept whole, the
reproducibility block on a page of its own.
"""

from __future__ import annotations

import base64
import html
import io
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from analytics.baseline import OUTCOMES
from analytics.document import code_version
from analytics.explanations import render_all
from analytics.labels import KPI_LABELS, judged_on_label, kpi_name, reason_label, status_label
from analytics.scorecard import PeriodResult
from floorwatch.i18n import (
    N_,
    format_date,
    format_money,
    format_number,
    format_percent,
    format_week,
    language,
    languages,
)
from floorwatch.i18n import gettext as _
from floorwatch.registry import Registry
from floorwatch.registry.schema import CONTRACT_KPIS

STATUS_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "insufficient": "#9a6700"}
OUTCOME_TEXT = {o.name: (o.family, o.describe) for o in OUTCOMES}

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
.num { white-space: nowrap; } td.why { min-width: 16em; }
@page { size: A4; margin: 16mm 14mm 18mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; color: #000; }
  h1 { font-size: 17pt; } h2 { font-size: 13pt; } h3 { font-size: 11pt; }
  h2, h3 { break-after: avoid; }
  table { font-size: 8.5pt; } tr, li, p { break-inside: avoid; }
  /* each supplier starts a page; a chart is never cut across two, nor parted from its title */
  .supplier, .chapter, .repro-page { break-before: page; }
  .chapter + .supplier { break-before: auto; }
  .chart, .charted { break-inside: avoid; }
  .chart img { display: block; max-width: 100%; max-height: 235mm; width: auto; height: auto; }
  .repro { background: none; border: 1px solid #999; }
}
"""


def _fmt(value: Any, kpi: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    style = KPI_LABELS[kpi][2]
    if style == "percent":
        return format_percent(value, 1)
    if style == "minutes":
        return _("{minutes} min").format(minutes=format_number(value, 0))
    return format_number(value, 1)


def _decimal(value: Any, digits: int = 2) -> str:
    number = _num(value)
    return "–" if not math.isfinite(number) else format_number(number, digits)


def _axis_numbers(ax: Any) -> None:
    """Tick labels with the language's decimal separator."""
    formatter = FuncFormatter(lambda x, _pos: format_number(x, 0 if float(x).is_integer() else 2))
    ax.yaxis.set_major_formatter(formatter)


def _interval(low: Any, high: Any, kpi: str) -> str:
    if low is None or high is None:
        return ""
    # a semicolon between the ends: "[0,85, 0,95]" would be ambiguous with a decimal comma
    return f"<br><span class='note num'>[{_fmt(low, kpi)}; {_fmt(high, kpi)}]</span>"


def _png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    alt = _e(_("chart"))
    return f"<figure class='chart'><img alt='{alt}' src='data:image/png;base64,{data}'></figure>"


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
        ax.set_title(kpi_name(kpi), fontsize=9)
        ax.set_xlabel(_("share of untreated outcome avoided"), fontsize=8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_number(x, 2)))
        ax.tick_params(labelsize=8)
    figure.tight_layout()
    return _png(figure)


def expected_chart(result: PeriodResult) -> str:
    """Per installation, per week: the inner floor's moisture above dry (what dry time and wet
    recovery are judged to avoid) measured against what its baseline expects without the
    solution."""
    cards = sorted(result.scorecards, key=lambda c: c.document["installation"])
    cards = [c for c in cards if not c.weekly.empty]
    if not cards:
        return f"<p class='note'>{_('No installations scored: nothing to draw.')}</p>"
    columns = 3
    rows = (len(cards) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(11, 2.4 * rows), squeeze=False)
    for ax in axes.ravel()[len(cards) :]:
        ax.set_visible(False)
    for ax, card in zip(axes.ravel(), cards, strict=False):
        weekly = card.weekly
        weeks = pd.DatetimeIndex(weekly.index)
        ax.plot(
            weeks,
            weekly["moisture_excess_measured"],
            "o-",
            color="#0969da",
            label=_("moisture above dry, %-minutes"),
        )
        ax.plot(
            weeks,
            weekly["moisture_excess_expected"],
            "o--",
            color="#8c959f",
            label=_("expected untreated"),
        )
        ax.set_title(card.document["installation"], fontsize=8)
        # one tick per week, named the way a school names weeks ("v. 44")
        ax.set_xticks(list(weeks), [format_week(w.date()) for w in weeks])
        _axis_numbers(ax)
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
        return f"<p class='note'>{_('No installations scored: nothing to draw.')}</p>"
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
                label=_("rain (mm/day)"),
            )
        ax.set_ylabel(_("rain mm/day"), fontsize=8)
        _axis_numbers(ax)
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
        twin.set_ylabel(_("wet minutes (inner, occupied)"), fontsize=8)
        _axis_numbers(twin)
        twin.legend(fontsize=7, loc="upper right")
        ax.set_title(_("SMHI station {station}").format(station=station), fontsize=9)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))  # ISO dates
        ax.tick_params(labelsize=7)
    figure.autofmt_xdate()
    figure.tight_layout()
    return _png(figure)


def trend_chart(result: PeriodResult) -> str:
    """Weekly grit load, wet minutes, cleaning interventions and slip exposure per entrance."""
    metrics = [
        ("grit_load", _("grit load (passages x entry dirt)")),
        ("wet_minutes", _("wet minutes in school hours")),
        ("cleaning_interventions", _("cleaning interventions detected")),
        ("slip_exposure", _("slip exposure (per 1,000 passages)")),
    ]
    frames = {e: t for e, t in sorted(result.trends.items()) if not t.empty}
    if not frames:
        return f"<p class='note'>{_('No weekly trends in this period.')}</p>"
    weeks = sorted({pd.Timestamp(w) for t in frames.values() for w in t["week"]})
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
        # one tick per week, named the way a school names weeks ("v. 44")
        ax.set_xticks(list(weeks), [format_week(w.date()) for w in weeks])
        _axis_numbers(ax)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=6, ncol=2)
    figure.autofmt_xdate()
    figure.tight_layout()
    return _png(figure)


# --- sections ---------------------------------------------------------------------------------
def no_difference_text() -> str:
    return _("no difference shown: the data cannot tell these two apart")


def difference_text(test: dict[str, Any]) -> str:
    if test["better"] is None and test.get("comparable") is False:
        return _(
            "{first} and {second}: no difference shown: their entrances had no days of "
            "comparable conditions (how much a solution avoids depends on how much there is "
            "to avoid)"
        ).format(first=test["a"], second=test["b"])
    if test["better"] is None:
        return _("{first} and {second}: {no_difference}").format(
            first=test["a"], second=test["b"], no_difference=no_difference_text()
        )
    worse = test["b"] if test["better"] == test["a"] else test["a"]
    return _(
        "{better} avoids {difference} more of the untreated outcome than {worse} "
        "(Holm-corrected p = {p})"
    ).format(
        better=test["better"],
        difference=format_percent(abs(_num(test["difference"])), 0),
        worse=worse,
        p=format_number(_num(test["p_holm"]), 3),
    )


def ranking_note() -> str:
    return _(
        "Effect: the share of each entrance's own expected untreated outcome the solution "
        "avoided, averaged over the supplier's installations and weighted over the KPIs every "
        "supplier has. Suppliers are only called different where the test of their difference "
        "says so, on days when their entrances expected about as much water or dirt without "
        "a solution."
    )


def _league_table(comparison: dict[str, Any]) -> str:
    rows = []
    scores = comparison.get("mean_score", {})
    for row in comparison["ranking"]:
        score = scores.get(row["supplier"])
        rows.append(
            f"<tr><td>{row['rank']}</td><td class='l'>{_e(row['supplier'])}</td>"
            f"<td>{_decimal(row['effect'])}</td>"
            f"<td class='num'>[{_decimal(row['effect_low'])}; "
            f"{_decimal(row['effect_high'])}]</td>"
            f"<td>{_decimal(score)}</td></tr>"
        )
    notes = "".join(f"<li>{_e(difference_text(t))}</li>" for t in comparison["differences"])
    if comparison.get("no_difference_shown", True):
        overall = _("{no_difference} (overall)").format(no_difference=no_difference_text())
        notes += f"<li><b>{_e(overall)}</b></li>"
    return (
        f"<table><tr><th>{_('Rank')}</th><th class='l'>{_('Supplier')}</th>"
        f"<th>{_('Effect')}</th><th>{_('95 % interval')}</th>"
        f"<th>{_('Mean score')}</th></tr>" + "".join(rows) + "</table>"
        f"<p class='note'>{_e(ranking_note())}</p><ul class='note'>{notes}</ul>"
    )


def model_form_text(model: dict[str, Any]) -> str:
    """A baseline model's form in words (the scorecard records the same in English)."""
    family, outcome = OUTCOME_TEXT.get(model["outcome"], ("binomial", model["outcome"]))
    if family == "binomial":
        return _("binomial GLM, logit link: {outcome}").format(outcome=_(outcome))
    return _("log-link GLM (quasi-Poisson) with upstream build-up as exposure: {outcome}").format(
        outcome=_(outcome)
    )


def baseline_text(model: dict[str, Any]) -> str:
    fit = model["fit"]
    accepted = model["acceptance"]["accepted"]
    verdict = _("accepted") if accepted else _("not accepted")
    stats = (
        _("held-out CV(RMSE) {cv_rmse}, NMBE {nmbe}").format(
            cv_rmse=format_percent(_num(fit.get("cv_rmse")), 0),
            nmbe=_signed_percent(_num(fit.get("nmbe"))),
        )
        if fit.get("cv_rmse") is not None
        else _("no held-out check possible")
    )
    why = render_all(model["acceptance"].get("why", []))
    text = f"{model_form_text(model)}; {stats}; {verdict}"
    return text + (f" ({why})" if why else "")


def relief_text(days: list[str]) -> str:
    return _("relief days (excused by the contract): {days}").format(days=", ".join(days))


def _signed_percent(share: float) -> str:
    text = format_percent(share, 0)
    return "+" + text if share > 0 else text


def _improvement(value: Any) -> str:
    number = _num(value)
    return "–" if not math.isfinite(number) else format_percent(number, 0)


def _installation(doc: dict[str, Any]) -> str:
    pay = doc["payment"]
    score = doc["score"]
    summary = _(
        "score {score}, bonus/malus {bonus_malus}, payment {payment} ({active} of "
        "{days} days); {excluded} excluded intervals"
    ).format(
        score=_("insufficient data") if not math.isfinite(_num(score)) else format_number(score, 2),
        bonus_malus=format_money(pay["bonus_malus_sek"], signed=True),
        payment=format_money(pay["payment_sek"]),
        active=pay["active_days"],
        days=pay["period_days"],
        excluded=doc["excluded_total"],
    )
    parts = [
        f"<p><b>{_e(doc['entrance'])}</b> ({_e(doc['school'])}, "
        f"{_e(doc['municipality'])}) — {_e(summary)}</p>"
    ]
    rows, models = [], []
    for kpi in [*[str(k) for k in CONTRACT_KPIS], "data_availability"]:
        k = doc["kpis"][kpi]
        colour = STATUS_COLOURS.get(k["status"], "#57606a")
        expected = _interval(k.get("expected_untreated_low"), k.get("expected_untreated_high"), kpi)
        rows.append(
            f"<tr><td class='l'>{kpi_name(kpi)}</td>"
            f"<td>{_fmt(k.get('raw'), kpi)}"
            f"{_interval(k.get('raw_low'), k.get('raw_high'), kpi)}</td>"
            f"<td>{_fmt(k.get('expected_untreated'), kpi)}{expected}</td>"
            f"<td>{_improvement(k.get('improvement'))}</td>"
            f"<td>{_e(judged_on_label(k.get('judged_on') or ''))}</td>"
            f"<td>{_decimal(k.get('weight'))}</td>"
            f"<td>{_fmt(k.get('availability'), 'data_availability')}</td>"
            f"<td class='status' style='color:{colour}'>{_e(status_label(k['status']))}</td>"
            f"<td class='l why'>{_e(render_all(k.get('why', [])))}</td></tr>"
        )
        if k.get("baseline"):
            models.append(f"<li>{kpi_name(kpi)}: {_e(baseline_text(k['baseline']))}</li>")
        if k.get("relief_days"):
            models.append(f"<li>{kpi_name(kpi)}: {_e(relief_text(k['relief_days']))}</li>")
    parts.append(
        f"<table><tr><th class='l'>{_('KPI')}</th><th>{_('Measured [95 %]')}</th>"
        f"<th>{_('Expected without the solution [95 %]')}</th><th>{_('Avoided')}</th>"
        f"<th>{_('Judged on')}</th><th>{_('Weight')}</th><th>{_('Data')}</th>"
        f"<th>{_('Status')}</th><th class='l'>{_('Why')}</th></tr>" + "".join(rows) + "</table>"
    )
    parts.append(f"<ul class='note'>{''.join(models)}</ul>")
    return "".join(parts)


def _supplier_tables(result: PeriodResult) -> str:
    parts = []
    by_supplier: dict[str, list[dict[str, Any]]] = {}
    for card in result.scorecards:
        by_supplier.setdefault(card.document["supplier"], []).append(card.document)
    for supplier, documents in sorted(by_supplier.items()):
        parts.append(f"<section class='supplier'><h3>{_e(supplier)}</h3>")
        for doc in sorted(documents, key=lambda d: d["installation"]):
            parts.append(_installation(doc))
        parts.append("</section>")
    return "".join(parts) or f"<p>{_('No installation was active in this period.')}</p>"


def _data_quality(result: PeriodResult) -> str:
    counts: dict[str, int] = {}
    problems = []
    for sensor_id, health in sorted(result.sensor_health.items()):
        counts[health.status] = counts.get(health.status, 0) + 1
        if health.status != "ok":
            problems.append(
                f"<tr><td class='l'>{_e(sensor_id)}</td><td>{_e(status_label(health.status))}</td>"
                f"<td>{_fmt(health.availability, 'data_availability')}</td>"
                f"<td>{format_number(health.suspect_minutes)}</td>"
                f"<td class='l'>{_e(', '.join(reason_label(r) for r in health.reasons))}</td></tr>"
            )
    summary = ", ".join(
        f"{status_label(s)}: {format_number(n)}" for s, n in sorted(counts.items())
    ) or _("no sensors")
    table = (
        f"<table><tr><th class='l'>{_('Sensor')}</th><th>{_('Status')}</th>"
        f"<th>{_('Availability')}</th><th>{_('Suspect minutes')}</th>"
        f"<th class='l'>{_('Reasons')}</th></tr>" + "".join(problems) + "</table>"
        if problems
        else f"<p>{_('Every sensor delivered trusted data.')}</p>"
    )
    return f"<p>{_('Sensors: {summary}.').format(summary=_e(summary))}</p>{table}"


def _breaks(result: PeriodResult, registry: Registry) -> str:
    """The school breaks (höstlov, sportlov, ...) in the period of the scored schools: no
    occupied time, so no KPI minutes."""
    first, last = result.start.date(), (result.end - timedelta(microseconds=1)).date()
    found: set[tuple[str, date, date]] = set()
    for card in result.scorecards:
        days = registry.school_days.get(card.document["school"])
        for span in days.calendar.breaks if days else []:
            if span.start <= last and span.end >= first:
                found.add((span.name, span.start, span.end))
    if not found:
        return ""
    spans = ", ".join(
        _("{name} {week} ({start} to {end})").format(
            name=_(name), week=format_week(start), start=format_date(start), end=format_date(end)
        )
        for name, start, end in sorted(found, key=lambda f: (f[1], f[0]))
    )
    return _e(_("School breaks in the period (no occupied time): {breaks}.").format(breaks=spans))


# The method in plain words: one message per paragraph, so a translator sees whole thoughts.
METHOD_INTRO = N_(
    "This report complements the INSTA 800 inspections used in Swedish cleaning procurement. "
    "INSTA 800 judges how clean a floor is right after cleaning, by visual inspection of sampled "
    "rooms. It cannot see how the entrance floors fare during the school day and in rain: that "
    "is what these sensors measure, minute by minute, in the inner zone beyond each supplier's "
    "entrance solution."
)
METHOD_ITEMS = [
    N_(
        "<b>Occupied time</b>: the school calendar's opening hours (local time, "
        "Europe/Stockholm, summer and winter time handled), on school days only: no weekends, "
        "holidays or breaks."
    ),
    N_(
        "<b>Dry / clean time share</b>: the share of occupied minutes with the inner floor's "
        "moisture at or below the contract's wet threshold, or its soiling index at or below the "
        "dirt threshold."
    ),
    N_(
        "<b>Wet recovery</b>: how long the inner floor stays wet once it gets wet; the 90th "
        "percentile of the wet episodes' lengths, in minutes."
    ),
    N_(
        "<b>Slip exposure</b>: of every 1,000 people passing while the school is open, how many "
        "passed while the inner floor was wet. Wet floors are where slips happen (pendulum test "
        "values below 36 mean more than low slip risk; dry floors almost always pass)."
    ),
    N_(
        "<b>Dirt capture</b>: how much less dirt builds up on the inner floor than at the entry, "
        "per passage. Industry sources say 70 to 90 % of a building's dirt comes in on shoes and "
        "that good matting removes about 80 to 90 % of it; those are industry figures, plausible "
        "ranges rather than truths, and this report measures capture instead of assuming it."
    ),
    N_(
        "<b>Sensor health first</b>: readings out of range, stuck values, spikes, gaps, clock "
        "trouble and readings that make no physical sense together (found by an outlier model and "
        "a physical rule) are excluded and listed; they count against data availability. Where "
        'data availability falls below the contract\'s minimum, the KPI is "insufficient": the '
        "supplier is neither paid nor penalised on it."
    ),
    N_(
        "<b>Counterfactual baseline</b>: for each entrance, a small model of what its inner "
        "floor would have been without the solution, from the day's weather (SMHI rain in and "
        "before opening hours, frost, snow), the wetness outside the door and footfall, fitted on "
        "the entrance's own days before the installation and its school's reference entrances. "
        "Its form keeps values in range (a log-link model for moisture and dirt, a logistic "
        "model for shares of minutes and passages); its coefficients and fit are in every "
        "scorecard. It "
        "is accepted only if it predicts held-out baseline days well enough and had enough days, "
        "and wet days, to learn from."
    ),
    N_(
        "<b>Judging</b>: each KPI as the contract says: on improvement (the share of the water "
        "and dirt the baseline expects on the inner floor without the solution that it avoided: "
        "moisture above a dry floor's reading, passages over it, dirt build-up; without a "
        "threshold, so the same solution earns alike at a rainy and a dry school) or on the "
        "measured level against the target, leaving out the days the contract's weather relief "
        "excuses. A KPI whose baseline is not accepted is judged on its "
        "measured level, and the scorecard says why. A period without wet episodes is judged as "
        "the contract says. Payment depends only on the installation's own data, never on other "
        "suppliers' schools."
    ),
    N_(
        "<b>Uncertainty</b>: the ranges in brackets are 95 % intervals from resampling days in "
        "weekly blocks and refitting the baseline each time, so the model's own error is "
        "included."
    ),
    N_(
        "<b>Comparison</b>: suppliers are compared on their effects, and two suppliers are only "
        "called different where a test of their difference (corrected for the number of "
        'comparisons) says so; otherwise the report says "no difference shown".'
    ),
    N_(
        "<b>Payment</b>: the score is the share of KPI weight that passes (over KPIs with "
        "sufficient data). Above the contract's bonus threshold the bonus grows linearly to its "
        "maximum at a score of 1; below the malus threshold the malus grows linearly to its "
        "maximum at 0."
    ),
]


def _method() -> str:
    items = "".join(f"<li>{_(item)}</li>" for item in METHOD_ITEMS)
    return f"<p>{_(METHOD_INTRO)}</p><ul>{items}</ul>"


def build_report(result: PeriodResult, registry: Registry, lang: str | None = None) -> str:
    """The HTML report of a scored period in `lang` (default: the language the registry's
    contracts name); deterministic for the same result and language."""
    with language(lang or registry.language) as chosen:
        return _build_report(result, registry, chosen)


def _build_report(result: PeriodResult, registry: Registry, lang: str) -> str:
    version = code_version()
    comparisons = (
        "".join(
            f"<h3>{_e(contract_id)}</h3>{_league_table(comparison)}{league_chart(comparison)}"
            for contract_id, comparison in sorted(result.comparisons.items())
            if comparison["ranking"]
        )
        or f"<p>{_('No suppliers to compare in this period.')}</p>"
    )
    contracts = ", ".join(
        _e(c.name) for c in sorted(registry.contracts.values(), key=lambda c: c.id)
    )
    files = ", ".join(sorted(Path(f).name for f in registry.files))
    period = _("Period {start} to {end} (UTC).").format(
        start=result.start.isoformat(), end=result.end.isoformat()
    )
    recompute = _(
        "Recompute: {command} with the same store and registry gives byte-identical scorecards "
        "(seeded bootstrap, deterministic model fits)."
    ).format(command=f"<code>floorwatch score --period {_e(result.period)} --format json</code>")
    expected_note = _(
        "Per installation and week: the inner floor's moisture above a dry floor's reading, "
        "summed over school hours (%-minutes), measured (solid) and what its own baseline "
        "expects without the solution for the same weather and footfall (dashed)."
    )
    rain_note = _(
        "Bars: daily rain at the school's SMHI station. Lines: minutes per day the inner floor "
        "was wet while the school was open."
    )
    trend_note = _(
        "Weekly, per entrance: wear (grit load), wet minutes, cleaning interventions detected in "
        "the data (the cleaning staff's workload) and slip exposure."
    )
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{_e(_("Floorwatch report {period}").format(period=result.period))}</title>
<style>{CSS}</style></head><body>
<h1>{_e(_("Clean and dry entrances — report {period}").format(period=result.period))}</h1>
<p>{contracts}. {_e(period)} {_breaks(result, registry)}</p>
<h2>{_("League table")}</h2>
{comparisons}
<h2 class="chapter">{_("Suppliers and installations")}</h2>
{_supplier_tables(result)}
<section class="chapter charted"><h2>{_("Measured against expected without the solution")}</h2>
<p class="note">{expected_note}</p>
{expected_chart(result)}</section>
<section class="charted"><h2>{_("Wet floors against rain")}</h2>
<p class="note">{rain_note}</p>
{wet_against_rain_chart(result, registry)}</section>
<section class="charted"><h2>{_("Trends for facility managers")}</h2>
<p class="note">{trend_note}</p>
{trend_chart(result)}</section>
<h2 class="chapter">{_("Data quality")}</h2>
{_data_quality(result)}
<h2>{_("Method")}</h2>
{_method()}
<section class="repro-page">
<h2>{_("Reproducibility")}</h2>
<div class="repro">
{_("Registry hash")}: <code>{_e(registry.content_hash)}</code><br>
{_("Registry files")}: {_e(files)}<br>
{_("Code")}: floorwatch {_e(version["floorwatch"])}, {_("commit")}
<code>{_e(version["git_commit"])}</code><br>
{recompute}
</div>
</section>
</body></html>
"""


def report_path(reports_dir: Path, period: str, lang: str | None = None) -> Path:
    """`report-<period>.html` (the default language) or `report-<period>.<lang>.html`."""
    return reports_dir / (f"report-{period}.{lang}.html" if lang else f"report-{period}.html")


def write_report(
    result: PeriodResult, registry: Registry, reports_dir: Path, lang: str | None = None
) -> Path:
    """Write the report in every language Floorwatch speaks, `report-<period>.<lang>.html`, for
    the API to serve the one asked for, and `report-<period>.html` in `lang` (default: the
    registry's language), the one filed; returns the path of the latter."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    default = lang or registry.language
    for each in languages():
        text = build_report(result, registry, each)
        report_path(reports_dir, result.period, each).write_text(text, encoding="utf-8")
        if each == default:
            report_path(reports_dir, result.period).write_text(text, encoding="utf-8")
    return report_path(reports_dir, result.period)
