"""The peer of the InfluxDB ingest bench: Node-RED with node-red-contrib-influxdb.

The flow (bench/nodered/flows.json) is the low-code MQTT-to-InfluxDB flow many municipal IoT teams
run: `mqtt in` (QoS 1, persistent session) -> a function making the same points the collector
writes (measurement `reading`, tags sensor_id, kind and the sensor's location, float `value`,
ms times) -> `join` (500 messages or 1 s) -> `influxdb batch`. Node-RED acknowledges each message
when it arrives, before writing it; the collector acknowledges after the write.

Node-RED and the node are installed from npm into bench/nodered/node_modules on first use
(`npm install`, versions pinned in bench/nodered/package.json; git-ignored).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from bench.common import REPO

FOLDER = REPO / "bench" / "nodered"
RED_JS = FOLDER / "node_modules" / "node-red" / "red.js"
CONNECTED = "Connected to broker"


def prepare() -> str | None:
    """Install Node-RED if needed. None when it is ready, else why it cannot run here."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "node and npm are not installed (Debian: apt-get install nodejs npm)"
    if RED_JS.exists() and (FOLDER / "node_modules" / "node-red-contrib-influxdb").exists():
        return None
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--omit=dev"],
        cwd=FOLDER,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0 or not RED_JS.exists():
        return f"npm install failed: {(done.stderr or done.stdout).strip()[-300:]}"
    return None


class NodeRed:
    """One Node-RED process running the bench flow with its own user folder and log."""

    def __init__(
        self,
        workdir: Path,
        mqtt_port: int,
        mqtt_user: str,
        mqtt_password: str,
        influx_port: int,
        database: str,
        client_id: str,
        sensor_tags: dict[str, dict[str, str]],
    ):
        self.userdir = workdir / f"nodered-{client_id}"
        self.userdir.mkdir(parents=True, exist_ok=True)
        shutil.copy(FOLDER / "flows.json", self.userdir / "flows.json")
        # credentialSecret false (settings.js): the credentials file is plain JSON
        (self.userdir / "flows_cred.json").write_text(
            json.dumps({"fw-broker": {"user": mqtt_user, "password": mqtt_password}})
        )
        self.log = self.userdir / "nodered.log"
        self.env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.userdir),
            "FW_MQTT_PORT": str(mqtt_port),
            "FW_CLIENT_ID": client_id,
            "FW_INFLUX_PORT": str(influx_port),
            "FW_INFLUX_DB": database,
            "FW_SENSOR_TAGS": json.dumps(sensor_tags),
            "FW_NODERED_PORT": "0",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        node = shutil.which("node") or "node"
        command = [node, str(RED_JS), "-u", str(self.userdir), "-s", str(FOLDER / "settings.js")]
        self.process = subprocess.Popen(
            command,
            env=self.env,
            cwd=self.userdir,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        return self.process

    def connections(self) -> int:
        """How often the flow's MQTT node has connected (from the log)."""
        return self.log.read_text(errors="replace").count(CONNECTED) if self.log.exists() else 0

    def wait_connected(self, count: int, timeout_s: float = 60.0) -> float:
        """Wait until the log shows the `count`th connection; returns when it was seen."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.connections() >= count:
                return time.monotonic()
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Node-RED exited: {self.log.read_text()[-1500:]}")
            time.sleep(0.01)
        raise TimeoutError(f"Node-RED did not connect within {timeout_s} s: {self.log}")

    def stop(self) -> None:
        from bench.ingest import _stop

        if self.process is not None:
            _stop(self.process)
