"""What every benchmark section shares: the result row, the machine, and child processes."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.services import Mosquitto

REPO = Path(__file__).resolve().parent.parent
# The throughput sections measure the consumers (the collector, the bare subscriber, Node-RED),
# so their broker saves its persistence as the shipped config did before it saved on every
# change: the shipped, durable setting caps Mosquitto 2.0 near 100 messages/s on this machine
# (each save rewrites its whole database), which would measure the broker's disk instead.
# What the durable setting costs is its own measurement (bench.broker_persistence).
SNAPSHOT_PERSISTENCE = "autosave_interval 30"


def bench_broker(workdir: Path, persistence: str | None = SNAPSHOT_PERSISTENCE) -> Mosquitto:
    """A fresh Mosquitto with the shipped config in `workdir`, its persistence lines replaced
    by `persistence` (None: the shipped config exactly)."""
    from tests.services import MOSQUITTO_CONFIG, start_mosquitto

    workdir.mkdir(parents=True, exist_ok=True)
    if persistence is not None:
        config = (MOSQUITTO_CONFIG / "mosquitto.conf").read_text()
        config = re.sub(r"^autosave_on_changes .*\n", "", config, flags=re.MULTILINE)
        config = re.sub(r"^autosave_interval .*$", persistence, config, flags=re.MULTILINE)
        (workdir / "mosquitto.conf").write_text(config)
    return start_mosquitto(workdir)


@dataclass
class Row:
    """One measured figure. `met` is None when the row has no target or was not measured."""

    section: str
    name: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def not_available(section: str, name: str, target: str, why: str) -> Row:
    return Row(section, name, None, "", target=target, met=None, note=f"not available: {why}")


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, Python and the commit measured."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu_model": model or platform.processor(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
    }


def child_env(**settings: str) -> dict[str, str]:
    """The environment for a child process: this one's without FLOORWATCH_*, plus `settings`
    (FLOORWATCH_* names), with the repository importable."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLOORWATCH_")}
    environment.update(settings)
    environment["PYTHONPATH"] = str(REPO)
    return environment


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


@dataclass
class Measured:
    """A finished child process: wall seconds, peak resident memory (MB, of the largest process
    in its tree that was waited for), exit code and output."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str


def run_measured(command: list[str], env: dict[str, str], cwd: Path, timeout_s: float) -> Measured:
    """Run `command` to the end; its peak RSS comes from wait4's rusage (ru_maxrss, KiB)."""
    import tempfile
    import time

    with tempfile.TemporaryFile() as output:
        started = time.monotonic()
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT
        )
        deadline = started + timeout_s
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    return Measured(seconds, usage.ru_maxrss / 1024, process.returncode, text)
