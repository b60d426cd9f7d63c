"""A restricted key's view of a month's report: only its own scorecards and KPI results, as a
small self-contained HTML page. The full report (every supplier, the comparison) is served to
admin and procurement keys only; this view is built from the stored results a key may see, so it
cannot show anyone else's figures. Its texts come from the language's catalogue."""

from __future__ import annotations

from html import escape
from typing import Any

from analytics.labels import judged_on_label, kpi_name, status_label
from floorwatch.i18n import format_money, format_number, language
from floorwatch.i18n import gettext as _

STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
    "margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
    "th{background:#f3f3f3}.pass{color:#1a7f37}.fail{color:#b42318}.insufficient{color:#8a6d00}"
    "@media print{tr{break-inside:avoid}h2{break-after:avoid}}"
)


def _number(value: Any, digits: int = 3) -> str:
    return "–" if not isinstance(value, int | float) else format_number(value, digits)


def _money(value: Any) -> str:
    return "–" if not isinstance(value, int | float) else format_money(value)


def render(
    period: str, who: str, scorecards: list[dict[str, Any]], kpis: list[dict[str, Any]], lang: str
) -> str:
    """HTML in `lang` for `who` (a supplier or facility label) from its scorecard and KPI
    records."""
    with language(lang):
        return _render(period, who, scorecards, kpis, lang)


def _render(
    period: str, who: str, scorecards: list[dict[str, Any]], kpis: list[dict[str, Any]], lang: str
) -> str:
    parts = [
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>",
        f"<title>Floorwatch {escape(period)}: {escape(who)}</title><style>{STYLE}</style></head>",
        f"<body><h1>{escape(_('Floorwatch report {period}').format(period=period))}</h1><p>",
        escape(
            _(
                "Results for {who} only, as stored by analytics (KPIs measured, and judged as the "
                "contract says, with 95 % intervals)."
            ).format(who=who)
        ),
        "</p>",
    ]
    for card in sorted(scorecards, key=lambda c: str(c.get("installation"))):
        installation = str(card.get("installation", ""))
        summary = _(
            "Entrance {entrance} ({school}): score {score}, bonus/malus {bonus_malus}, "
            "payment {payment}."
        ).format(
            entrance=card.get("entrance", ""),
            school=card.get("school", ""),
            score=_number(card.get("score")),
            bonus_malus=_money(card.get("bonus_malus_sek")),
            payment=_money(card.get("payment_sek")),
        )
        parts.append(f"<h2>{escape(installation)}</h2><p>{escape(summary)}</p>")
        rows = [k for k in kpis if k.get("installation") == installation]
        if not rows:
            continue
        headings = (
            _("KPI"), _("measured"), _("judged on"), _("judged"), _("interval"), _("target"),
            _("status"),
        )  # fmt: skip
        parts.append("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headings) + "</tr>")
        for kpi in sorted(rows, key=lambda k: str(k.get("kpi"))):
            status = str(kpi.get("status", ""))
            parts.append(
                f"<tr><td>{escape(kpi_name(str(kpi.get('kpi', ''))))}</td>"
                f"<td>{_number(kpi.get('raw'))}</td>"
                f"<td>{escape(judged_on_label(str(kpi.get('judged_on') or '')))}</td>"
                f"<td>{_number(kpi.get('judged'))}</td>"
                f"<td>{_number(kpi.get('judged_low'))} – {_number(kpi.get('judged_high'))}"
                f"</td><td>{_number(kpi.get('target'))}</td>"
                f"<td class='{escape(status)}'>{escape(status_label(status))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)
