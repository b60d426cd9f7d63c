"""`floorwatch dashboards deploy` against a local HTTP stand-in for Grafana's HTTP API.

Grafana itself cannot run on these machines, so a tiny real HTTP server (http.server in a thread,
on a free port) answers the few Grafana API calls the deploy makes, keeping state like Grafana
does, and records every request. The test checks those requests against Grafana's documented
HTTP API (https://grafana.com/docs/grafana/latest/developers/http_api/): paths, methods, bearer
token and bodies of the datasource, folder and dashboard endpoints.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboards import alerts
from dashboards.build import build_dashboards
from dashboards.deploy import deploy
from floorwatch.cli import exit_code_of, main
from floorwatch.errors import AccessDenied, ConfigError, GrafanaError, InvalidRequest
from floorwatch.settings import parse_store_url
from tests.services import free_port

TOKEN = "glsa_test_token"
INFLUX = parse_store_url("influxdb://grafana-reader:reader-secret@influxdb:8086/floorwatch")
UIDS = {m["uid"] for m in build_dashboards("sv").values()}


@dataclass
class Request:
    method: str
    path: str
    authorization: str
    body: Any
    provenance: str | None = None


@dataclass
class GrafanaStandIn:
    """State and request log of the stand-in: what a real Grafana would hold after the calls."""

    port: int
    requests: list[Request] = field(default_factory=list)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    rule_groups: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    contact_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    time_intervals: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_with: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]


def _handler(state: GrafanaStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = json.loads(raw) if raw else {}
            auth = self.headers.get("Authorization", "")
            state.requests.append(
                Request(
                    self.command, self.path, auth, body, self.headers.get("X-Disable-Provenance")
                )
            )
            if auth != f"Bearer {TOKEN}":
                return self._answer(401, {"message": "Unauthorized"})
            if state.fail_with:
                return self._answer(state.fail_with, {"message": "internal error"})
            method, path = self.command, self.path
            if path.startswith("/api/v1/provisioning/"):
                return self._alerting(method, path.removeprefix("/api/v1/provisioning"), body)
            if path.startswith("/api/datasources/uid/"):
                uid = path.removeprefix("/api/datasources/uid/")
                if method == "GET":
                    if uid not in state.datasources:
                        return self._answer(404, {"message": "Data source not found"})
                    return self._answer(200, {"id": 1, **state.datasources[uid]})
                if method == "PUT":
                    if uid not in state.datasources:
                        return self._answer(404, {"message": "Data source not found"})
                    state.datasources[uid] = body
                    return self._answer(
                        200, {"datasource": body, "id": 1, "message": "Datasource updated"}
                    )
            if path == "/api/datasources" and method == "POST":
                if body["uid"] in state.datasources:
                    return self._answer(409, {"message": "data source with the same uid exists"})
                state.datasources[body["uid"]] = body
                return self._answer(
                    200, {"datasource": body, "id": 1, "message": "Datasource added"}
                )
            if path.startswith("/api/folders/"):
                uid = path.removeprefix("/api/folders/")
                folder = state.folders.get(uid)
                if folder is None:
                    return self._answer(404, {"message": "folder not found"})
                if method == "GET":
                    return self._answer(200, folder)
                if method == "PUT":
                    folder.update(title=body["title"], version=folder["version"] + 1)
                    return self._answer(200, folder)
            if path == "/api/folders" and method == "POST":
                if body["uid"] in state.folders:
                    return self._answer(409, {"message": "a folder with the same uid exists"})
                state.folders[body["uid"]] = {"id": 7, "version": 1, **body}
                return self._answer(200, state.folders[body["uid"]])
            if path.startswith("/api/dashboards/uid/") and method == "GET":
                uid = path.removeprefix("/api/dashboards/uid/")
                if uid not in state.dashboards:
                    return self._answer(404, {"message": "Dashboard not found"})
                return self._answer(200, {"dashboard": state.dashboards[uid]["dashboard"]})
            if path == "/api/dashboards/db" and method == "POST":
                uid = body["dashboard"]["uid"]
                if uid in state.dashboards and not body.get("overwrite"):
                    return self._answer(412, {"status": "version-mismatch"})
                if body.get("folderUid") not in state.folders:
                    return self._answer(400, {"message": "folder not found"})
                state.dashboards[uid] = body
                return self._answer(
                    200,
                    {"id": 3, "uid": uid, "url": f"/d/{uid}/x", "status": "success", "version": 1},
                )
            return self._answer(404, {"message": "Not found"})

        def _alerting(self, method: str, path: str, body: Any) -> None:
            """Grafana's alerting provisioning API (/api/v1/provisioning/...)."""
            parts = urlsplit(path)
            route, query = parts.path, parse_qs(parts.query)
            if route.startswith("/mute-timings"):
                name = route.removeprefix("/mute-timings").strip("/")
                if method == "GET" and name:
                    if name not in state.time_intervals:
                        return self._answer(404, {"message": "mute timing not found"})
                    return self._answer(200, state.time_intervals[name])
                if method == "POST" and not name:
                    state.time_intervals[body["name"]] = body
                    return self._answer(201, body)
                if method == "PUT" and name in state.time_intervals:
                    state.time_intervals[name] = body
                    return self._answer(202, body)
            if route.startswith("/contact-points"):
                uid = route.removeprefix("/contact-points").strip("/")
                if method == "GET" and not uid:
                    names = query.get("name")
                    found = [
                        p for p in state.contact_points.values() if not names or p["name"] in names
                    ]
                    return self._answer(200, found)
                if method == "POST" and not uid:
                    state.contact_points[body["uid"]] = body
                    return self._answer(202, body)
                if method == "PUT" and uid in state.contact_points:
                    state.contact_points[uid] = body
                    return self._answer(202, {"message": "contactpoint updated"})
            if route.startswith("/alert-rules"):
                uid = route.removeprefix("/alert-rules").strip("/")
                if method == "GET" and uid:
                    if uid not in state.rules:
                        return self._answer(404, {"message": "rule not found"})
                    return self._answer(200, state.rules[uid])
                if method in ("POST", "PUT"):
                    if method == "PUT" and uid not in state.rules:
                        return self._answer(404, {"message": "rule not found"})
                    if body["folderUID"] not in state.folders:
                        return self._answer(400, {"message": "folder does not exist"})
                    state.rules[body["uid"]] = body
                    return self._answer(201 if method == "POST" else 200, body)
            match = re.fullmatch(r"/folder/([^/]+)/rule-groups/([^/]+)", route)
            if match and method == "PUT":
                state.rule_groups[(match[1], match[2])] = body
                return self._answer(200, body)
            return self._answer(404, {"message": "Not found"})

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    return Handler


@pytest.fixture
def grafana() -> Iterator[GrafanaStandIn]:
    state = GrafanaStandIn(port=free_port())
    server = ThreadingHTTPServer(("127.0.0.1", state.port), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def test_first_deploy_creates_datasource_folder_and_dashboards(grafana: GrafanaStandIn) -> None:
    report = deploy(grafana.url, TOKEN, INFLUX)

    assert report.datasource == "created" and report.folder == "created"
    assert report.dashboards == dict.fromkeys(UIDS, "created")
    assert all(r.authorization == f"Bearer {TOKEN}" for r in grafana.requests)
    calls = grafana.calls()
    assert calls[:4] == [
        ("GET", "/api/datasources/uid/floorwatch-influxdb"),
        ("POST", "/api/datasources"),
        ("GET", "/api/folders/floorwatch"),
        ("POST", "/api/folders"),
    ]
    assert sorted(c for c in calls[4:] if c[0] == "POST") == [("POST", "/api/dashboards/db")] * 4

    source = grafana.datasources["floorwatch-influxdb"]
    assert source["type"] == "influxdb" and source["access"] == "proxy"
    assert source["url"] == "http://influxdb:8086"
    assert source["user"] == "grafana-reader"
    assert source["secureJsonData"] == {"password": "reader-secret"}
    assert source["jsonData"]["dbName"] == "floorwatch"
    assert source["jsonData"]["version"] == "InfluxQL"
    assert grafana.folders["floorwatch"]["title"] == "Floorwatch"
    for uid, posted in grafana.dashboards.items():
        assert posted["overwrite"] is True
        assert posted["folderUid"] == "floorwatch"
        assert posted["dashboard"]["uid"] == uid and posted["dashboard"]["id"] is None
        assert posted["dashboard"]["panels"]


def test_second_deploy_updates_in_place(grafana: GrafanaStandIn) -> None:
    deploy(grafana.url, TOKEN, INFLUX)
    grafana.requests.clear()

    report = deploy(grafana.url, TOKEN, INFLUX)

    assert report.datasource == "updated" and report.folder == "updated"
    assert report.dashboards == dict.fromkeys(UIDS, "updated")
    calls = grafana.calls()
    assert ("PUT", "/api/datasources/uid/floorwatch-influxdb") in calls
    assert ("POST", "/api/datasources") not in calls
    assert ("POST", "/api/folders") not in calls
    assert ("PUT", "/api/folders/floorwatch") not in calls  # same title: nothing to change
    assert len(grafana.datasources) == 1 and len(grafana.folders) == 1
    assert set(grafana.dashboards) == UIDS


def test_named_folder_and_renamed_folder(grafana: GrafanaStandIn) -> None:
    deploy(grafana.url, TOKEN, INFLUX, folder="Skolentréer Ystad")
    assert set(grafana.folders) == {"skolentr-er-ystad"}
    grafana.folders["skolentr-er-ystad"]["title"] = "Old name"
    grafana.requests.clear()

    deploy(grafana.url, TOKEN, INFLUX, folder="Skolentréer Ystad")

    put = next(
        r for r in grafana.requests if r.method == "PUT" and r.path.startswith("/api/folders")
    )
    assert put.body == {"title": "Skolentréer Ystad", "overwrite": True}
    assert all(d["folderUid"] == "skolentr-er-ystad" for d in grafana.dashboards.values())


def test_influxdb_token_goes_in_an_authorization_header(grafana: GrafanaStandIn) -> None:
    deploy(grafana.url, TOKEN, parse_store_url("influxdb://influx.example.se:8086/fw?token=abc"))
    source = grafana.datasources["floorwatch-influxdb"]
    assert source["jsonData"]["httpHeaderName1"] == "Authorization"
    assert source["secureJsonData"] == {"httpHeaderValue1": "Token abc"}
    assert "user" not in source


def test_errors_are_translated(grafana: GrafanaStandIn) -> None:
    with pytest.raises(AccessDenied, match="refused the token"):
        deploy(grafana.url, "wrong-token", INFLUX)
    grafana.fail_with = 500
    with pytest.raises(GrafanaError, match="failed while writing the datasource"):
        deploy(grafana.url, TOKEN, INFLUX)
    grafana.fail_with = 422
    with pytest.raises(InvalidRequest, match="422"):
        deploy(grafana.url, TOKEN, INFLUX)
    with pytest.raises(GrafanaError, match="unreachable"):
        deploy(f"http://127.0.0.1:{free_port()}", TOKEN, INFLUX, timeout_s=2)
    with pytest.raises(ConfigError):
        deploy("grafana:3000", TOKEN, INFLUX)
    with pytest.raises(ConfigError):
        deploy(grafana.url, TOKEN, parse_store_url("sqlite:///x.db"))


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., CliResult]:
    """Run `floorwatch dashboards ...` in-process through the root CLI's main(), which finds the
    group through the `floorwatch.commands` entry point (pyproject.toml) and maps library errors
    to one line and an exit code, as the installed command does."""

    def run(*args: str, env: dict[str, str] | None = None) -> CliResult:
        with monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            capsys.readouterr()
            try:
                main(["dashboards", *args])
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
            out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


def test_cli_deploys_and_reports_one_line_per_object(
    grafana: GrafanaStandIn, cli: Callable[..., CliResult]
) -> None:
    result = cli(
        "deploy",
        "--url",
        grafana.url,
        "--influxdb-url",
        "influxdb://grafana-reader:reader-secret@influxdb:8086/floorwatch",
        "--alerts",
        env={"GRAFANA_TOKEN": TOKEN, "FLOORWATCH_ALERT_EMAILS": "fm@skurup.se"},
    )
    assert result.returncode == 0, result.stderr
    assert "datasource created" in result.stdout
    assert "rule floorwatch-sensor-silent created" in result.stdout
    assert "contact point floorwatch-facility created" in result.stdout
    assert "deployed 4 dashboards" in result.stdout
    assert "reader-secret" not in result.stdout

    bad = cli(
        "deploy", "--url", grafana.url, "--token", "nope", "--influxdb-url", "influxdb://h/db"
    )
    assert bad.returncode == exit_code_of(AccessDenied(""))
    assert bad.stderr.strip().count("\n") == 0 and bad.stderr.startswith("error: ")

    sqlite = cli(
        "deploy", "--url", grafana.url, "--token", TOKEN, "--influxdb-url", "sqlite:///x.db"
    )
    assert sqlite.returncode == exit_code_of(ConfigError(""))
    assert "Grafana reads InfluxDB" in sqlite.stderr


def test_cli_build_check_passes_on_the_committed_files(cli: Callable[..., CliResult]) -> None:
    result = cli("build", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


def test_alerts_are_deployed_with_the_provisioning_api_and_updated_on_a_second_run(
    grafana: GrafanaStandIn,
) -> None:
    deploy(grafana.url, TOKEN, INFLUX, with_alerts=True, alert_emails="fm@trelleborg.se")

    assert set(grafana.rules) == {"floorwatch-inner-floor-wet", "floorwatch-sensor-silent"}
    for rule in grafana.rules.values():
        assert rule["folderUID"] == "floorwatch" and rule["ruleGroup"] == alerts.GROUP
        assert rule["condition"] == "C"
        assert rule["data"][0]["datasourceUid"] == "floorwatch-influxdb"
        assert "$timeFilter" in rule["data"][0]["model"]["query"]
    group = grafana.rule_groups[("floorwatch", alerts.GROUP)]
    assert group["interval"] == 60 and len(group["rules"]) == 2
    (point,) = grafana.contact_points.values()
    assert point["type"] == "email" and point["settings"] == {"addresses": "fm@trelleborg.se"}
    interval = grafana.time_intervals[alerts.SCHOOL_HOURS]
    assert interval["time_intervals"][0]["location"] == "Europe/Stockholm"
    writes = [r for r in grafana.requests if r.path.startswith("/api/v1/") and r.method != "GET"]
    assert writes and all(r.provenance == "true" for r in writes if "mute-timings/" not in r.path)
    assert ("POST", "/api/v1/provisioning/alert-rules") in grafana.calls()

    grafana.requests.clear()
    report = deploy(grafana.url, TOKEN, INFLUX, with_alerts=True, alert_emails="fm@ystad.se")

    assert report.alerts["rule floorwatch-inner-floor-wet"] == "updated"
    calls = grafana.calls()
    assert ("PUT", "/api/v1/provisioning/alert-rules/floorwatch-inner-floor-wet") in calls
    assert ("POST", "/api/v1/provisioning/alert-rules") not in calls
    assert len(grafana.rules) == 2 and len(grafana.contact_points) == 1
    assert next(iter(grafana.contact_points.values()))["settings"]["addresses"] == "fm@ystad.se"


def test_without_alerts_no_alerting_call_is_made(grafana: GrafanaStandIn) -> None:
    deploy(grafana.url, TOKEN, INFLUX)
    assert not [r for r in grafana.requests if r.path.startswith("/api/v1/")]


def test_cli_deploys_in_the_registrys_language_or_the_one_asked_for(
    grafana: GrafanaStandIn, cli: Callable[..., CliResult]
) -> None:
    args = ["deploy", "--url", grafana.url, "--token", TOKEN, "--alerts"]
    args += ["--influxdb-url", "influxdb://grafana-reader:reader-secret@influxdb:8086/floorwatch"]
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert "deployed 4 dashboards (sv)" in result.stdout  # the pilot contract's language
    titles = {d["dashboard"]["title"] for d in grafana.dashboards.values()}
    assert "Floorwatch: entréer just nu" in titles
    assert grafana.rules["floorwatch-inner-floor-wet"]["title"].startswith("Inre golvet vått")

    result = cli(*args, "--lang", "en")  # same uids: the texts are replaced in place
    assert result.returncode == 0, result.stderr
    assert len(grafana.dashboards) == 4 and len(grafana.rules) == 2
    titles = {d["dashboard"]["title"] for d in grafana.dashboards.values()}
    assert "Floorwatch: entrance live" in titles
    assert grafana.rules["floorwatch-inner-floor-wet"]["title"].startswith("Inner floor wet")

    bad = cli(*args, "--lang", "de")
    assert bad.returncode != 0
    assert bad.stderr.strip() == "error: language 'de' has no catalogue; available: en, sv"


def test_cli_builds_one_language(cli: Callable[..., CliResult]) -> None:
    result = cli("build", "--check", "--lang", "sv")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout
    assert cli("build", "--check", "--lang", "de").returncode != 0
