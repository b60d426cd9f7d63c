"""The monthly HTML report analytics writes to `<reports_dir>/report-<period>.html`.

It compares every supplier, so it is for procurement and admin keys only. A supplier or facility
key gets a view built from the stored results it may see (`api.report_view`) instead. Both come
in the language asked for, `?lang=` or Accept-Language (analytics writes the report in every
language, `report-<period>.<lang>.html`), else in the registry's.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from api import report_view
from api.access import PROCUREMENT_ONLY, RESTRICTED_VIEW
from api.deps import Caller, Context, Language
from api.errors import error_responses, json_error_responses
from api.params import PeriodPath
from api.routes import PREFIX
from api.schemas import ReportOut
from floorwatch.errors import NotFound

router = APIRouter(prefix=PREFIX, tags=["reports"], responses=error_responses(401, 403, 422))

REPORT_FILE = re.compile(r"^report-([0-9]{4}-(0[1-9]|1[0-2]))\.html$")


@router.get("/reports", summary="Available reports")
def list_reports(access: Caller, context: Context) -> list[ReportOut]:
    """The months with a full report (admin, procurement)."""
    access.require(PROCUREMENT_ONLY)
    folder = context.settings.reports_dir
    found = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            match = REPORT_FILE.match(path.name)
            if match and path.is_file():
                period = match.group(1)
                found.append(
                    ReportOut(
                        period=period, url=f"/api/v1/reports/{period}", bytes=path.stat().st_size
                    )
                )
    return found


@router.get(
    "/reports/{period}",
    summary="The HTML report of a month",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {}}, "description": "A self-contained HTML report"},
        **json_error_responses(401, 403, 404, 422, 503),
    },
)
async def get_report(
    period: PeriodPath, access: Caller, context: Context, lang: Language
) -> Response:
    """The full report (admin, procurement). A supplier or facility key gets a view of its own
    scorecards and KPI results for the month instead, never the full report. In the language of
    `?lang=` (sv, en), else of Accept-Language, else the registry's."""
    headers = {"Content-Language": lang, "Vary": "Accept-Language"}
    if access.role in PROCUREMENT_ONLY:
        folder = context.settings.reports_dir
        path = folder / f"report-{period}.{lang}.html"
        if not path.is_file():  # a report written before it came in every language
            path = folder / f"report-{period}.html"
            headers.pop("Content-Language")
        if not path.is_file():
            raise NotFound(f"no report for {period}")
        return FileResponse(path, media_type="text/html; charset=utf-8", headers=headers)
    access.require(RESTRICTED_VIEW)
    cards = access.filter_results(await context.apoints("scorecard", period=period), True)
    kpis = access.filter_results(await context.apoints("kpi", period=period), True)
    if not cards:
        raise NotFound(f"no results of yours for {period}")
    who = access.key.supplier or ", ".join(sorted(access.key.schools))
    return HTMLResponse(report_view.render(period, who, cards, kpis, lang), headers=headers)
