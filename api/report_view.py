"""A restricted key's view of a month's report: only its own scorecards and KPI results, as a
small self-contained HTML page. The full report (every supplier, the comparison) is served to
admin and procurement keys only; this view is built from the stored results a key may see, so it
cannot show anyone else's figures."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
    "margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
    "th{background:#f3f3f3}.pass{color:#1a7f37}.fail{color:#b42318}.insufficient{color:#8a6d00}"
)


def _number(value: Any, digits: int = 3) -> str:
    return "–" if not isinstance(value, int | float) else f"{value:,.{digits}f}"


def render(
    period: str, who: str, scorecards: list[dict[str, Any]], kpis: list[dict[str, Any]]
) -> str:
    """HTML for `who` (a supplier or facility label) from its scorecard and KPI records."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Floorwatch {escape(period)}: {escape(who)}</title><style>{STYLE}</style></head>",
        f"<body><h1>Floorwatch report {escape(period)}</h1><p>Results for {escape(who)} only, ",
        "as stored by analytics (KPIs measured, and judged as the contract says, with 95 % "
        "intervals).</p>",
    ]
    for card in sorted(scorecards, key=lambda c: str(c.get("installation"))):
        installation = str(card.get("installation", ""))
        parts.append(
            f"<h2>{escape(installation)}</h2><p>Entrance {escape(str(card.get('entrance', '')))}"
            f" ({escape(str(card.get('school', '')))}): score {_number(card.get('score'))}, "
            f"bonus/malus {_number(card.get('bonus_malus_sek'), 0)} SEK, payment "
            f"{_number(card.get('payment_sek'), 0)} SEK.</p>"
        )
        rows = [k for k in kpis if k.get("installation") == installation]
        if not rows:
            continue
        parts.append(
            "<table><tr><th>KPI</th><th>measured</th><th>judged on</th><th>judged</th>"
            "<th>interval</th><th>target</th><th>status</th></tr>"
        )
        for kpi in sorted(rows, key=lambda k: str(k.get("kpi"))):
            status = escape(str(kpi.get("status", "")))
            parts.append(
                f"<tr><td>{escape(str(kpi.get('kpi', '')))}</td><td>{_number(kpi.get('raw'))}</td>"
                f"<td>{escape(str(kpi.get('judged_on', '')))}</td>"
                f"<td>{_number(kpi.get('judged'))}</td><td>{_number(kpi.get('judged_low'))}"
                f" – {_number(kpi.get('judged_high'))}</td><td>{_number(kpi.get('target'))}</td>"
                f"<td class='{status}'>{status}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)
