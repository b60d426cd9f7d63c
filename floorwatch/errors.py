"""The one error hierarchy of Floorwatch.

Foreign errors (paho, httpx, sqlite3, pydantic, yaml, grafana-client) are translated into these at
the boundary where they occur, with `raise ... from exc`. The CLI maps them to one-line messages
and exit codes (the table `EXIT_CODES` in `floorwatch.cli`), the API to HTTP statuses (the table
`STATUS` in `api.errors`), each in one place. The tree:

    FloorwatchError
    ├── ConfigError           a setting has a bad value (the message names it)
    ├── InvalidRequest        a request or argument is well-formed but not acceptable
    ├── RegistryError         registry or contract files are invalid (every problem listed)
    ├── StoreError            the store failed (`retryable` says whether to try again)
    │   ├── StoreUnavailable  no answer, or a server error: retry later
    │   ├── StoreRejected     the store refused the request: retrying will not help
    │   └── StoreCorrupt      the store answered, but a stored value cannot be read
    ├── BrokerError           the MQTT broker refused us or could not be reached
    ├── GrafanaError          Grafana failed (5xx, timeout) or could not be reached
    ├── ComponentFailed       a component (collector, simulator, API) failed to start or died
    │   └── WorkerDied        a scoring worker process died
    ├── NotFound              a named thing does not exist
    ├── Unauthenticated       no API key, or an unknown or revoked one
    └── AccessDenied          the caller's role does not allow this
"""

from __future__ import annotations

from dataclasses import dataclass


class FloorwatchError(Exception):
    """Base of every error Floorwatch raises on purpose."""


class ConfigError(FloorwatchError):
    """A setting has a bad value. The message names the setting."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a registry file, with its place (file, line, column, path)."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        at = f" at {self.path}" if self.path else ""
        return f"{where}{at}: {self.message}"


class RegistryError(FloorwatchError):
    """The registry or contract files are invalid; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = str(problems[0]) if problems else "invalid registry"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)


class StoreError(FloorwatchError):
    """The store failed. `retryable` says whether trying again later may succeed."""

    retryable = False


class StoreUnavailable(StoreError):
    """The store did not answer or answered with a server error (5xx): retry later."""

    retryable = True


class StoreRejected(StoreError):
    """The store refused the request (4xx, constraint, bad query): retrying will not help."""


class StoreCorrupt(StoreError):
    """The store answered, but what it holds cannot be read (a stored document that is not
    JSON): our data is wrong, not the request, and retrying will not help."""


class BrokerError(FloorwatchError):
    """The MQTT broker refused us or could not be reached."""


class GrafanaError(FloorwatchError):
    """Grafana answered with a server error, timed out, or could not be reached."""


class ComponentFailed(FloorwatchError):
    """A component (broker, collector, simulator, API server) failed to start or stopped
    unexpectedly: not the caller's fault, unlike InvalidRequest."""


class WorkerDied(ComponentFailed):
    """A scoring worker process died (out of memory, a signal)."""


class NotFound(FloorwatchError):
    """A named thing (school, entrance, sensor, supplier, scorecard...) does not exist."""


class Unauthenticated(FloorwatchError):
    """No API key, or a key that is unknown or revoked."""


class AccessDenied(FloorwatchError):
    """The caller's role does not allow this. The message never says what exists."""


class InvalidRequest(FloorwatchError):
    """A request or argument is well-formed but not acceptable (range too large, bad period)."""
