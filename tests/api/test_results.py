"""Stored results as written by analytics: KPIs, scorecards, comparison, sensor health, trends,
the report, and the quarantine."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.pilot_data import PERIOD, WET_ENTRANCE


def test_kpis_by_period_supplier_entrance_and_name(api: Api) -> None:
    every = api.get("procurement", "/api/v1/kpis", period=PERIOD).json()
    assert len(every) == 12 * 6
    one = api.get("procurement", "/api/v1/kpis", entrance=WET_ENTRANCE, kpi="dry_time_share").json()
    assert len(one) == 1
    kpi = one[0]
    assert kpi["supplier"] == "entre-ren" and kpi["installation"] == f"inst-{WET_ENTRANCE}"
    assert (kpi["raw_low"], kpi["raw"], kpi["raw_high"]) == (0.85, 0.9, 0.95)
    assert kpi["judged"] == 0.91 and kpi["judged_on"] == "improvement"
    assert kpi["expected_untreated"] == 0.7 and kpi["status"] == "pass" and kpi["period"] == PERIOD
    insufficient = api.get("procurement", "/api/v1/kpis", entrance=WET_ENTRANCE, kpi="dirt_capture")
    assert insufficient.json()[0]["status"] == "insufficient"
    assert api.get("procurement", "/api/v1/kpis", period="2025-01").json() == []
    torrgolv = api.get("procurement", "/api/v1/kpis", supplier="torrgolv").json()
    assert {k["supplier"] for k in torrgolv} == {"torrgolv"} and len(torrgolv) == 4 * 6


def test_scorecards_list_and_one_in_full(api: Api) -> None:
    cards = api.get("procurement", "/api/v1/scorecards", period=PERIOD).json()
    assert len(cards) == 12
    first = next(c for c in cards if c["installation"] == f"inst-{WET_ENTRANCE}")
    assert first["payment_sek"] == 18000.0
    assert first["counts"] == {"pass": 4.0, "fail": 0.0, "insufficient": 1.0, "not_judged": 0.0}
    assert "document" not in first
    full = api.get("procurement", f"/api/v1/scorecards/inst-{WET_ENTRANCE}/{PERIOD}").json()
    assert full["document"]["installation"] == f"inst-{WET_ENTRANCE}"
    assert full["document"]["registry_hash"]
    assert api.get("procurement", "/api/v1/scorecards/inst-nowhere/2026-10").status_code == 404
    assert (
        api.get("procurement", f"/api/v1/scorecards/inst-{WET_ENTRANCE}/2026-13").status_code == 422
    )
    by_school = api.get("procurement", "/api/v1/scorecards", school="yst-ostra").json()
    assert {c["school"] for c in by_school} == {"yst-ostra"} and len(by_school) == 2


def test_comparison(api: Api) -> None:
    listed = api.get("procurement", "/api/v1/comparisons").json()
    assert [(c["contract"], c["period"]) for c in listed] == [("skane-entrance-2026", PERIOD)]
    one = api.get("procurement", f"/api/v1/comparisons/skane-entrance-2026/{PERIOD}").json()
    assert [r["supplier"] for r in one["document"]["ranking"]] == [
        "entre-ren",
        "torrgolv",
        "skrapzon",
    ]
    assert api.get("admin", "/api/v1/comparisons/skane-entrance-2026/2025-01").status_code == 404


def test_sensor_health(api: Api) -> None:
    silent = api.get("technician", "/api/v1/sensor-health", status="silent", period=PERIOD).json()
    assert silent and all(s["sensor_id"].endswith("outside-moisture") for s in silent)
    assert all(s["availability"] == 0.0 and s["reasons"] == "no readings" for s in silent)
    # A supplier sees its entrances' health only for months of its installation.
    own = api.get("supplier_entre", "/api/v1/sensor-health").json()
    assert own and {s["entrance"] for s in own} == {WET_ENTRANCE}
    assert {s["period"] for s in own} == {PERIOD}
    september = api.get("admin", "/api/v1/sensor-health", entrance=WET_ENTRANCE, period="2026-09")
    assert len(september.json()) == 6


def test_trends(api: Api) -> None:
    rows = api.get("facility_trb", "/api/v1/trends", metric="wet_minutes").json()
    assert [(r["week_start"], r["value"]) for r in rows] == [
        ("2026-10-04T22:00:00Z", 10.0),
        ("2026-10-11T22:00:00Z", 20.0),
    ]


def test_report_is_served_as_html(api: Api) -> None:
    listed = api.get("procurement", "/api/v1/reports").json()
    assert listed == [
        {"period": PERIOD, "url": f"/api/v1/reports/{PERIOD}", "bytes": listed[0]["bytes"]}
    ]
    report = api.get("procurement", f"/api/v1/reports/{PERIOD}")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert "Floorwatch report 2026-10" in report.text
    # no scripts, frames, forms or remote content; and no content sniffing
    assert report.headers["content-security-policy"].startswith("default-src 'none';")
    assert report.headers["x-content-type-options"] == "nosniff"
    assert api.get("procurement", "/api/v1/reports/2025-01").status_code == 404
    assert api.get("procurement", "/api/v1/reports/..%2Fkeys").status_code in (404, 422)


def test_quarantine_newest_first_and_by_reason(api: Api) -> None:
    rows = api.get("technician", "/api/v1/quarantine").json()
    assert [r["reason"] for r in rows] == ["malformed_json", "out_of_range", "unknown_sensor"]
    only = api.get("technician", "/api/v1/quarantine", reason="out_of_range", limit=5).json()
    assert [r["detail"] for r in only] == ["moisture 140 > 100"]
    assert api.get("technician", "/api/v1/quarantine", limit=0).status_code == 422


def test_registry_endpoints(api: Api) -> None:
    assert len(api.get("admin", "/api/v1/schools").json()) == 7
    assert len(api.get("admin", "/api/v1/entrances").json()) == 15
    assert len(api.get("admin", "/api/v1/sensors").json()) == 91
    assert len(api.get("admin", "/api/v1/installations").json()) == 12
    sensor = api.get("admin", "/api/v1/sensors/yst-ostra-main-entry-footfall").json()
    assert sensor["lorawan_dev_eui"] and sensor["school"] == "yst-ostra"
    contract = api.get("admin", "/api/v1/contracts/skane-entrance-2026").json()
    assert contract["kpis"]["dry_time_share"] == {"target": 0.95, "weight": 0.3}
    assert len(contract["registry_hash"]) > 8
    by_school = api.get("admin", "/api/v1/entrances", school="yst-ostra").json()
    assert {e["id"] for e in by_school} == {"yst-ostra-main", "yst-ostra-yard"}
    assert api.get("admin", "/api/v1/schools/nowhere").status_code == 404
    assert api.get("admin", "/api/v1/contracts/nowhere").status_code == 404
    assert api.get("admin", "/api/v1/suppliers/nowhere").status_code == 404
