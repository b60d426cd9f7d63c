"""The production stack files: docker-compose.yml, .env.example, Dockerfile, health checks.

No Docker engine runs here, so the files compose mounts are checked against what the test suite
really runs: Mosquitto's config is the one tests/services.py starts every test broker with, and
the health check script runs against the real InfluxDB.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest
import yaml

from dashboards.build import CONTAINER_DASHBOARDS, PROVISIONING_DIR
from floorwatch.readings import Point
from floorwatch.store import open_store
from tests.services import MOSQUITTO_CONFIG, REPO, InfluxDB, Mosquitto, free_port

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text()
VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def env_example() -> dict[str, str]:
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def bind_mounts(service: str) -> dict[str, str]:
    """Container path -> host path (as written, ${VARS} unexpanded) of a service's bind mounts."""
    mounts = {}
    for volume in SERVICES[service].get("volumes", []):
        # host:container[:mode]; the host part may hold ${VAR:?message with: colons}
        host, container = _split_volume(volume)
        if host.startswith((".", "/", "$")):
            mounts[container] = host
    return mounts


def _split_volume(volume: str) -> tuple[str, str]:
    masked = VARIABLE.sub(lambda m: "V" * len(m[0]), volume)
    parts = masked.split(":")
    host_len = len(parts[0])
    container = volume[host_len + 1 :].split(":")[0]
    return volume[:host_len], container


def expand(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error} (error if unset/empty)."""

    def one(match: re.Match[str]) -> str:
        name, operator, argument = match[1], match[2], match[3]
        value = env.get(name, "")
        if operator == ":?" and not value:
            raise LookupError(f"{name}: {argument}")
        if operator == ":-" and not value:
            return argument
        return value

    return VARIABLE.sub(one, text)


# --- Mosquitto: the same files as the tests -------------------------------------------------
def test_every_mosquitto_config_file_compose_mounts_is_the_one_the_tests_start_it_with(
    mosquitto: Mosquitto,
) -> None:
    service = SERVICES["mosquitto"]
    workdir = service["working_dir"]
    mounts = bind_mounts("mosquitto")
    from_repo = {
        container: (REPO / host).resolve()
        for container, host in mounts.items()
        if host.startswith("./deploy/mosquitto/")
    }
    # Every config file in deploy/mosquitto is mounted (nothing there is left behind) ...
    assert {p.name for p in from_repo.values()} == {p.name for p in MOSQUITTO_CONFIG.iterdir()}
    # ... into Mosquitto's working directory under the name the test broker's folder has.
    for container, source in from_repo.items():
        name = container.removeprefix(workdir + "/")
        assert "/" not in name, container
        in_test = mosquitto.workdir / name
        assert in_test.exists(), f"the test broker has no {name}"
        if source.is_file():
            # The test broker runs this very file (a symlink to it, not a copy).
            assert in_test.resolve() == source, name
    # The listeners folder is the site-specific part: the tests put their own listener (a free
    # port) in it; compose mounts the production listeners (plain and TLS).
    assert (MOSQUITTO_CONFIG / "listeners.d").is_dir()
    # The same command line, relative to the working directory, as the tests use.
    assert mosquitto.process is not None
    assert service["command"] == ["mosquitto", *map(str, mosquitto.process.args[1:])]  # type: ignore[index]


def test_every_relative_path_in_mosquitto_conf_is_mounted_in_the_working_directory() -> None:
    config = (MOSQUITTO_CONFIG / "mosquitto.conf").read_text()
    wanted = {}
    for key in ("password_file", "acl_file", "persistence_location", "include_dir"):
        match = re.search(rf"^{key}\s+(\S+)", config, re.MULTILINE)
        assert match, key
        wanted[key] = match[1].rstrip("/")
    workdir = SERVICES["mosquitto"]["working_dir"]
    targets = {
        _split_volume(v)[1] for v in SERVICES["mosquitto"]["volumes"]
    }  # bind mounts and the named data volume
    for key, relative in wanted.items():
        assert not relative.startswith("/"), key
        assert f"{workdir}/{relative}" in targets, (key, relative)
    assert "mosquitto-data" in " ".join(SERVICES["mosquitto"]["volumes"])


def test_tls_listener_certificates_come_from_the_env_file() -> None:
    listeners = (MOSQUITTO_CONFIG / "listeners.d" / "default.conf").read_text()
    assert re.search(r"^listener 8883", listeners, re.MULTILINE)
    mounts = bind_mounts("mosquitto")
    env = env_example()
    for key in ("certfile", "keyfile"):
        match = re.search(rf"^{key}\s+(\S+)", listeners, re.MULTILINE)
        assert match, key
        host = mounts[match[1]]
        (name,) = VARIABLE.findall(host)[0][:1]
        assert name.startswith("MOSQUITTO_TLS_") and env[name], name
    ports = [str(p) for p in SERVICES["mosquitto"]["ports"]]
    assert any(p.endswith(":8883") for p in ports)


def test_plain_mqtt_is_published_on_the_school_network_address_only() -> None:
    """Devices outside the school network can reach TLS only: the plain listener is bound to
    the address .env names (required), never to every interface."""
    ports = [str(p) for p in SERVICES["mosquitto"]["ports"]]
    [plain] = [p for p in ports if p.endswith(":1883")]
    assert plain.startswith("${MQTT_PLAIN_BIND:-127.0.0.1}:"), plain  # unset: loopback only
    assert env_example()["MQTT_PLAIN_BIND"] == ""  # the site fills it in
    listeners = (MOSQUITTO_CONFIG / "listeners.d" / "default.conf").read_text()
    for block in listeners.split("\nlistener ")[1:]:
        assert "use_username_as_clientid true" in block, block  # every listener binds ids


# --- secrets: from .env, none by default ------------------------------------------------------
def test_env_example_defines_every_variable_and_no_secret_has_a_default() -> None:
    env = env_example()
    used = {m[0] for m in VARIABLE.findall(COMPOSE_TEXT)}
    assert used <= set(env), f"not in .env.example: {sorted(used - set(env))}"
    secret = re.compile(r"PASSWORD|TOKEN|SECRET")
    for name, value in env.items():
        if secret.search(name):
            assert value == "", f"{name} has a value in .env.example"
    # Every secret compose uses is required (${VAR:?...}): a copied, unfilled .env fails fast.
    for match in VARIABLE.finditer(COMPOSE_TEXT):
        name, operator = match[1], match[2]
        if secret.search(name) and not name.startswith("GRAFANA_SMTP"):
            assert operator == ":?", f"{name} must be required with ${{{name}:?...}}"
    with pytest.raises(LookupError, match=r"set INFLUXDB_ADMIN_PASSWORD in \.env"):
        expand(COMPOSE_TEXT, env)
    filled = {k: (v or f"filled-{k.lower()}") for k, v in env.items()}
    expanded = yaml.safe_load(expand(COMPOSE_TEXT, filled))
    collector = expanded["services"]["collector"]["environment"]
    assert collector["FLOORWATCH_STORE_URL"] == (
        "influxdb://floorwatch:filled-influxdb_user_password@influxdb:8086/floorwatch"
    )
    assert collector["FLOORWATCH_MQTT_URL"].startswith("mqtt://floorwatch-collector:filled-")
    # the broker names the collector's session by its account: client id and account agree
    assert collector["FLOORWATCH_CLIENT_ID"] == "floorwatch-collector"
    assert ".env" in (REPO / ".gitignore").read_text().split()


# --- services -----------------------------------------------------------------------------------
def test_every_service_has_a_health_check_restart_policy_and_persistent_volumes() -> None:
    assert set(SERVICES) == {"mosquitto", "influxdb", "grafana", "collector", "api"}
    for name, service in SERVICES.items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            host = _split_volume(volume)[0]
            if not host.startswith((".", "/", "$")):
                assert host in declared, (name, host)
    assert SERVICES["collector"]["command"] == ["ingest"]
    assert SERVICES["api"]["command"] == ["serve"]
    assert (
        SERVICES["collector"]["environment"]["FLOORWATCH_CLIENT_ID"]
        != (SERVICES["api"]["environment"]["FLOORWATCH_CLIENT_ID"])
    )
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["floorwatch"]' in dockerfile
    assert "COPY deploy/healthcheck.py /usr/local/bin/floorwatch-healthcheck" in dockerfile
    assert re.search(r"^USER floorwatch$", dockerfile, re.MULTILINE)


def test_grafana_is_provisioned_from_the_committed_files_with_every_variable_set() -> None:
    grafana = SERVICES["grafana"]
    mounts = bind_mounts("grafana")
    # One set of generated files per language; the deployment picks its own (Swedish default).
    assert (
        mounts["/etc/grafana/provisioning"] == "./dashboards/provisioning/${GRAFANA_LANGUAGE:-sv}"
    )
    assert mounts[CONTAINER_DASHBOARDS] == "./dashboards/json/${GRAFANA_LANGUAGE:-sv}"
    # Environment variables are upper case; Grafana leaves a rule's query model ($timeFilter)
    # and annotations ({{ $labels.x }}) uninterpolated.
    referenced = set()
    for path in PROVISIONING_DIR.rglob("*.yaml"):
        referenced |= set(re.findall(r"\$([A-Z][A-Z0-9_]+)", path.read_text()))
    assert {"INFLUXDB_URL", "INFLUXDB_READ_USER_PASSWORD", "FLOORWATCH_ALERT_EMAILS"} <= referenced
    assert referenced <= set(grafana["environment"]), referenced - set(grafana["environment"])


# --- the health check script against the real InfluxDB ----------------------------------------
@dataclass
class Checked:
    returncode: int
    stdout: str


def _load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "floorwatch_healthcheck", REPO / "deploy" / "healthcheck.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_collector_health_check_needs_recent_counters(
    influxdb: InfluxDB, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The script the image installs as floorwatch-healthcheck, run against the real InfluxDB."""
    healthcheck = _load_healthcheck()
    url = influxdb.url(f"health_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("FLOORWATCH_STORE_URL", url)

    def check(*args: str, client_id: str = "floorwatch-collector-1") -> Checked:
        monkeypatch.setenv("FLOORWATCH_CLIENT_ID", client_id)
        monkeypatch.setattr(sys, "argv", ["floorwatch-healthcheck", *args])
        code = healthcheck.main()
        return Checked(code, capsys.readouterr().out)

    store = open_store(url)
    try:
        unhealthy = check("collector")
        assert unhealthy.returncode == 1 and "no ingest counters" in unhealthy.stdout
        store.write_points(
            [
                Point(
                    "ingest",
                    {"collector": "floorwatch-collector-1"},
                    int(time.time() * 1000),
                    {"received": 1.0},
                )
            ]
        )
    finally:
        store.close()
    healthy = check("collector")
    assert healthy.returncode == 0, healthy.stdout
    assert check("collector", client_id="another").returncode == 1
    assert check("nonsense").returncode == 2
    monkeypatch.setenv("FLOORWATCH_STORE_URL", "influxdb://127.0.0.1:1/none")
    down = check("collector")
    assert down.returncode == 1 and down.stdout.startswith("unhealthy: ")


def test_api_health_check_follows_the_health_endpoint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against a real HTTP server on the API port (the API's own /health is tested in tests/api)."""
    healthcheck = _load_healthcheck()
    status = {"code": 200}

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = status["code"] if self.path == "/health" else 404
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("FLOORWATCH_API_PORT", str(port))
    monkeypatch.setattr(sys, "argv", ["floorwatch-healthcheck", "api"])
    try:
        assert healthcheck.main() == 0
        status["code"] = 503
        assert healthcheck.main() == 1
        assert "503" in capsys.readouterr().out
    finally:
        server.shutdown()
        server.server_close()
    assert healthcheck.main() == 1  # nothing listening
