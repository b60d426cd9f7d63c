"""Real services for the tests: Mosquitto and InfluxDB from Debian's packages, on free ports.

Each server gets its own temporary folder and is stopped afterwards. Mosquitto runs with the
shipped configuration (deploy/mosquitto/mosquitto.conf and acl, the files docker-compose mounts);
only the listener (a free port) and the password file (made here, never committed) are the
test's own.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
MOSQUITTO_CONFIG = REPO / "deploy" / "mosquitto"

# Test accounts; the passwords exist only in the test's temporary password file.
COLLECTOR_USER = "floorwatch-collector"
SECOND_COLLECTOR_USER = "floorwatch-collector-2"  # the shipped ACL's account for scaling out
SIMULATOR_USER = "floorwatch-simulator"
TEST_PASSWORD = "test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within 20 s")


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Mosquitto:
    """A running Mosquitto with the shipped config. `users` maps username -> password."""

    workdir: Path
    port: int
    users: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def url_for(self, user: str) -> str:
        return f"mqtt://{user}:{self.users[user]}@127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        log = self.workdir / "mosquitto.log"
        self.process = subprocess.Popen(
            [_binary("mosquitto"), "-c", "mosquitto.conf"],
            cwd=self.workdir,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, self.process, "mosquitto", log)
        return self

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def kill(self) -> None:
        if self.process is not None:
            _stop(self.process, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()


def plain_listener_block(port: int) -> str:
    """The shipped plain listener (`listener 1883` and the lines after it, up to the next
    listener) on `port` of 127.0.0.1: the test broker binds client ids to accounts as shipped."""
    shipped = (MOSQUITTO_CONFIG / "listeners.d" / "default.conf").read_text()
    block = shipped[shipped.index("listener 1883") :]
    block = block[: block.index("\nlistener ", 1) + 1] if "\nlistener " in block else block
    return block.replace("listener 1883", f"listener {port} 127.0.0.1", 1)


def start_mosquitto(workdir: Path, extra_users: dict[str, str] | None = None) -> Mosquitto:
    """Start Mosquitto in `workdir` with the shipped mosquitto.conf and acl (symlinked, not
    copied, so the test runs the very files docker-compose mounts)."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("mosquitto.conf", "acl"):
        target = workdir / name
        if not target.exists():
            target.symlink_to(MOSQUITTO_CONFIG / name)
    (workdir / "data").mkdir(exist_ok=True)
    # Mosquitto started as root drops to the `mosquitto` user: let it write its data folder.
    os.chmod(workdir / "data", 0o777)
    port = free_port()
    listeners = workdir / "listeners.d"
    listeners.mkdir(exist_ok=True)
    (listeners / "test.conf").write_text(plain_listener_block(port))
    users = {
        COLLECTOR_USER: TEST_PASSWORD,
        SECOND_COLLECTOR_USER: TEST_PASSWORD,
        SIMULATOR_USER: TEST_PASSWORD,
        **(extra_users or {}),
    }
    passwd = workdir / "passwd"
    passwd.write_text("")
    for user, password in users.items():
        subprocess.run(
            [_binary("mosquitto_passwd"), "-b", str(passwd), user, password],
            check=True,
            capture_output=True,
        )
    os.chmod(passwd, 0o644)
    return Mosquitto(workdir=workdir, port=port, users=users).start()


@dataclass
class InfluxDB:
    """A running influxd (1.x) with its own data folder."""

    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, database: str) -> str:
        return f"influxdb://127.0.0.1:{self.port}/{database}"

    def start(self) -> InfluxDB:
        log = self.workdir / "influxd.log"
        self.process = subprocess.Popen(
            [_binary("influxd"), "run", "-config", str(self.workdir / "influxdb.conf")],
            cwd=self.workdir,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, self.process, "influxd", log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/ping", timeout=1).status_code == 204:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("influxd did not answer /ping")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)


def start_influxdb(workdir: Path) -> InfluxDB:
    workdir.mkdir(parents=True, exist_ok=True)
    port, rpc_port = free_port(), free_port()
    (workdir / "influxdb.conf").write_text(
        f"""
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{workdir}/meta"
[data]
  dir = "{workdir}/data"
  wal-dir = "{workdir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
  max-row-limit = 0
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
"""
    )
    return InfluxDB(workdir=workdir, port=port).start()


def _binary(name: str) -> str:
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError(
        f"{name} is not installed: run the README's test command, which installs it "
        f"(apt-get install mosquitto influxdb)"
    )
