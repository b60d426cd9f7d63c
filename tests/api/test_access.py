"""Who may see what: every role against every endpoint, and the refusals."""

from __future__ import annotations

import pytest

from tests.api.conftest import KEYS, Api
from tests.api.pilot_data import DRY_ENTRANCE, OTHER_SCHOOL_ENTRANCE, PERIOD, WET_ENTRANCE

ROLES = list(KEYS)
ALL = set(ROLES)
COMMERCIAL = {
    "admin",
    "procurement",
    "facility_trb",
    "facility_yst",
    "supplier_entre",
    "supplier_torr",
}
PROCUREMENT = {"admin", "procurement"}
OPERATIONS = {"admin", "technician"}
TRENDS = {"admin", "procurement", "technician", "facility_trb", "facility_yst"}
HISTORY = {"start": "2026-09-29T00:00:00Z", "end": "2026-09-29T01:00:00Z"}

# (path, params, the keys that get 200; all others get 403)
MATRIX: list[tuple[str, dict[str, str], set[str]]] = [
    ("/api/v1/municipalities", {}, ALL),
    ("/api/v1/schools", {}, ALL),
    ("/api/v1/entrances", {}, ALL),
    ("/api/v1/sensors", {}, ALL),
    ("/api/v1/suppliers", {}, ALL),
    ("/api/v1/installations", {}, ALL),
    ("/api/v1/contracts", {}, ALL),
    ("/api/v1/state", {}, ALL),
    ("/api/v1/sensor-health", {}, ALL),
    ("/api/v1/kpis", {}, COMMERCIAL),
    ("/api/v1/scorecards", {}, COMMERCIAL),
    ("/api/v1/comparisons", {}, PROCUREMENT),
    (f"/api/v1/comparisons/skane-entrance-2026/{PERIOD}", {}, PROCUREMENT),
    ("/api/v1/trends", {}, TRENDS),
    ("/api/v1/reports", {}, PROCUREMENT),
    (f"/api/v1/reports/{PERIOD}", {}, ALL - {"technician"}),  # restricted keys: own view
    ("/api/v1/quarantine", {}, OPERATIONS),
    ("/metrics", {}, OPERATIONS),
    # The wet entrance is entre-ren's, at Västervången (facility_trb).
    (f"/api/v1/entrances/{WET_ENTRANCE}", {}, ALL - {"facility_yst", "supplier_torr"}),
    (f"/api/v1/entrances/{WET_ENTRANCE}/state", {}, ALL - {"facility_yst", "supplier_torr"}),
    (
        f"/api/v1/entrances/{WET_ENTRANCE}/readings",
        HISTORY,
        ALL - {"facility_yst", "supplier_torr"},
    ),
    (
        f"/api/v1/sensors/{WET_ENTRANCE}-inner-moisture/readings",
        HISTORY,
        ALL - {"facility_yst", "supplier_torr"},
    ),
    ("/api/v1/schools/trb-vastervang", {}, ALL - {"facility_yst", "supplier_torr"}),
    (
        f"/api/v1/scorecards/inst-{WET_ENTRANCE}/{PERIOD}",
        {},
        COMMERCIAL - {"facility_yst", "supplier_torr"},
    ),
    ("/api/v1/scorecards", {"supplier": "entre-ren"}, COMMERCIAL - {"supplier_torr"}),
    ("/api/v1/kpis", {"supplier": "torrgolv"}, COMMERCIAL - {"supplier_entre"}),
    ("/api/v1/suppliers/entre-ren", {}, ALL - {"supplier_torr"}),
    ("/api/v1/contracts/skane-entrance-2026", {}, ALL),
]


@pytest.mark.parametrize(
    ("path", "params", "allowed"), MATRIX, ids=[m[0] + str(m[1]) for m in MATRIX]
)
def test_every_role_on_every_endpoint(
    api: Api, path: str, params: dict[str, str], allowed: set[str]
) -> None:
    for key in ROLES:
        response = api.get(key, path, **params)
        expected = 200 if key in allowed else 403
        assert response.status_code == expected, (key, response.text)
        if expected == 403:
            assert response.json() == {"detail": "this key is not allowed to see that"}


def test_without_a_key_only_health_answers(api: Api) -> None:
    assert api.get(None, "/health").status_code in (200, 503)
    for path, params, _ in MATRIX:
        response = api.get(None, path, **params)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_wrong_key_is_refused(api: Api) -> None:
    forged = api.tokens["admin"][:-4] + "AAAA"
    for token in (forged, "fwk_nope_nope", "not-a-key", api.tokens["admin"] + "x"):
        response = api.client.get("/api/v1/schools", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_refusals_do_not_say_whether_a_thing_exists(api: Api) -> None:
    for path in (
        "/api/v1/entrances/{}",
        "/api/v1/entrances/{}/state",
        "/api/v1/schools/{}",
    ):
        hidden = api.get(
            "supplier_torr", path.format(WET_ENTRANCE if "school" not in path else "trb-vastervang")
        )
        missing = api.get("supplier_torr", path.format("no-such-thing"))
        assert hidden.status_code == missing.status_code == 403
        assert hidden.json() == missing.json()
    # An admin learns that it does not exist.
    assert api.get("admin", "/api/v1/entrances/no-such-thing").status_code == 404
    hidden = api.get("supplier_torr", f"/api/v1/scorecards/inst-{WET_ENTRANCE}/{PERIOD}")
    missing = api.get("supplier_torr", f"/api/v1/scorecards/inst-nowhere/{PERIOD}")
    assert hidden.status_code == missing.status_code == 403
    assert hidden.json() == missing.json()


def test_a_supplier_sees_only_its_own_registry_part(api: Api) -> None:
    installations = api.get("supplier_torr", "/api/v1/installations").json()
    assert installations and {i["supplier"] for i in installations} == {"torrgolv"}
    entrances = {e["id"] for e in api.get("supplier_torr", "/api/v1/entrances").json()}
    assert entrances == {i["entrance"] for i in installations}
    suppliers = api.get("supplier_torr", "/api/v1/suppliers").json()
    assert [s["id"] for s in suppliers] == ["torrgolv"]
    sensors = api.get("supplier_torr", "/api/v1/sensors").json()
    assert sensors and {s["entrance"] for s in sensors} <= entrances


def test_a_supplier_reads_only_its_own_scorecards_and_kpis(api: Api) -> None:
    cards = api.get("supplier_entre", "/api/v1/scorecards").json()
    assert cards and {c["supplier"] for c in cards} == {"entre-ren"}
    kpis = api.get("supplier_entre", "/api/v1/kpis", period=PERIOD).json()
    assert kpis and {k["supplier"] for k in kpis} == {"entre-ren"}
    # asking for the other supplier by name is refused, by entrance it is refused too
    assert api.get("supplier_entre", "/api/v1/scorecards", supplier="torrgolv").status_code == 403
    other = api.get("supplier_entre", "/api/v1/scorecards", entrance=DRY_ENTRANCE)
    assert other.status_code == 403
    own = api.get("supplier_torr", f"/api/v1/scorecards/inst-{DRY_ENTRANCE}/{PERIOD}")
    assert own.status_code == 200 and own.json()["supplier"] == "torrgolv"


def test_a_supplier_reads_readings_only_during_its_installation(api: Api) -> None:
    span = {"start": "2026-09-29T00:00:00Z", "end": "2026-10-03T00:00:00Z", "limit": 10000}
    sensor = f"/api/v1/sensors/{WET_ENTRANCE}-inner-moisture/readings"
    everything = api.get("admin", sensor, **span).json()["readings"]
    own = api.get("supplier_entre", sensor, **span).json()["readings"]
    # Installation from 2026-10-01 00:00 Europe/Stockholm = 2026-09-30T22:00Z.
    assert own and min(r["time"] for r in own) == "2026-09-30T22:00:00Z"
    assert len(own) == sum(r["time"] >= "2026-09-30T22:00:00Z" for r in everything)
    before = api.get(
        "supplier_entre", sensor, start="2026-09-29T00:00:00Z", end="2026-09-30T00:00:00Z"
    )
    assert before.status_code == 200 and before.json()["readings"] == []
    # Another supplier's entrance: refused
    refused = api.get("supplier_entre", f"/api/v1/entrances/{DRY_ENTRANCE}/readings", **span)
    assert refused.status_code == 403


def test_a_supplier_gets_only_its_own_report_view_and_no_comparison(api: Api) -> None:
    full = api.get("procurement", f"/api/v1/reports/{PERIOD}").text
    assert "torrgolv" in full and "entre-ren" in full
    for key, own, others in (
        ("supplier_entre", "entre-ren", ("torrgolv", "skrapzon", "TorrGolv", "Skrapzon")),
        ("supplier_torr", "torrgolv", ("entre-ren", "skrapzon", "Entré Ren", "Skrapzon")),
    ):
        report = api.get(key, f"/api/v1/reports/{PERIOD}")
        assert report.status_code == 200
        assert report.headers["content-type"].startswith("text/html")
        assert report.text != full and own in report.text
        for name in others:
            assert name not in report.text, (key, name)
        installations = {i["id"] for i in api.get(key, "/api/v1/installations").json()}
        assert all(i in report.text for i in installations)
        assert api.get(key, "/api/v1/reports/2025-01").status_code == 404
        assert api.get(key, "/api/v1/comparisons").status_code == 403
        assert api.get(key, "/api/v1/reports").status_code == 403


def test_a_facility_key_sees_only_its_schools(api: Api) -> None:
    schools = api.get("facility_yst", "/api/v1/schools").json()
    assert [s["id"] for s in schools] == ["yst-ostra"]
    entrances = {e["id"] for e in api.get("facility_yst", "/api/v1/entrances").json()}
    assert DRY_ENTRANCE in entrances and OTHER_SCHOOL_ENTRANCE in entrances
    assert WET_ENTRANCE not in entrances
    for path in ("/api/v1/scorecards", "/api/v1/kpis", "/api/v1/sensor-health", "/api/v1/trends"):
        rows = api.get("facility_yst", path).json()
        assert rows and {r["school"] for r in rows} == {"yst-ostra"}, path
    states = api.get("facility_yst", "/api/v1/state").json()
    assert {s["school"] for s in states} == {"yst-ostra"}
    report = api.get("facility_yst", f"/api/v1/reports/{PERIOD}").text
    assert "inst-yst-ostra-main" in report and "inst-yst-ostra-yard" in report
    assert "trb-" not in report and "sku-" not in report
    municipalities = api.get("facility_yst", "/api/v1/municipalities").json()
    assert [m["id"] for m in municipalities] == ["ystad"]
    assert (
        api.get("facility_yst", "/api/v1/sensor-health", school="trb-vastervang").status_code == 403
    )
