"""`/health` and `/metrics`."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from floorwatch.registry import Registry
from tests.api.conftest import Api, make_keys, make_settings
from tests.services import Mosquitto


def test_health_reports_store_broker_and_collector_lag(api: Api) -> None:
    response = api.get(None, "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["store"]["ok"] is True
    assert body["broker"]["ok"] is False  # nothing listens on the configured broker port
    assert body["status"] == "degraded"
    assert body["collector_lag_s"] == 1.5
    [collector] = body["collectors"]
    assert collector["collector"] is None  # a client id is named to callers with a key only
    assert 0 <= collector["report_age_s"] < 600
    [named] = api.get("technician", "/health").json()["collectors"]
    assert named["collector"] == "floorwatch-collector"
    assert "floorwatch-collector" not in api.get(None, "/health").text


def test_health_with_a_real_broker_is_ok(
    tmp_path: Path, registry: Registry, mosquitto: Mosquitto
) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}").model_copy(
        update={"mqtt_url": mosquitto.url}
    )
    with TestClient(create_app(settings, registry=registry)) as client:
        body = client.get("/health").json()
    assert body["status"] == "ok" and body["broker"]["ok"] is True
    assert body["collectors"] == [] and body["collector_lag_s"] is None


def test_health_says_down_when_the_store_is_unreachable(tmp_path: Path, registry: Registry) -> None:
    settings = make_settings(tmp_path, "influxdb://127.0.0.1:1/nothing")
    tokens = make_keys(settings)
    with TestClient(create_app(settings, registry=registry)) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "down" and health.json()["store"]["ok"] is False
        assert "127.0.0.1" not in health.text  # no key needed: no internal addresses either
        # Data endpoints answer 503 with a clear message, not 500.
        response = client.get(
            "/api/v1/entrances/yst-ostra-main/state",
            headers={"Authorization": f"Bearer {tokens['admin']}"},
        )
        assert response.status_code == 503
        # what is wrong, never where the store lives (that is in the service log)
        assert response.json()["detail"] == "the store is unavailable; retry later"
        assert "127.0.0.1" not in response.text and "nothing" not in response.text
        assert response.headers["retry-after"] == "5"


def test_metrics_in_prometheus_text_format(api: Api) -> None:
    api.get("admin", "/api/v1/schools")
    response = api.get("technician", "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert "# TYPE floorwatch_api_requests_total counter" in lines
    assert any(
        line.startswith(
            'floorwatch_api_requests_total{method="GET",route="/api/v1/schools",status="200"}'
        )
        for line in lines
    )
    assert 'floorwatch_collector_received_total{collector="floorwatch-collector"} 1200.0' in lines
    assert 'floorwatch_collector_lag_seconds{collector="floorwatch-collector"} 1.5' in lines
    assert (
        'floorwatch_collector_quarantined_by_reason_total{collector="floorwatch-collector",'
        'reason="out_of_range"} 4.0'
    ) in lines
    for line in lines:  # every sample line is `name{labels} number`
        if not line.startswith("#"):
            name_and_labels, value = line.rsplit(" ", 1)
            float(value)
            assert name_and_labels.startswith("floorwatch_")


def test_openapi_documents_every_route_and_the_bearer_scheme(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    paths = spec["paths"]
    assert "/health" in paths and "/metrics" in paths
    assert all(p.startswith("/api/v1/") for p in paths if p not in ("/health", "/metrics"))
    assert len(paths) >= 28
