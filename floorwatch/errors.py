"""The one error hierarchy of Floorwatch.

Foreign errors (paho, httpx, sqlite3, pydantic, yaml) are translated into these at the boundary
where they occur, with `raise ... from exc`. The CLI maps them to one-line messages and exit codes
(`floorwatch.cli`), the API to HTTP status codes (`api.errors`), each in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


class FloorwatchError(Exception):
    """Base of every error Floorwatch raises on purpose."""

    exit_code = 1


class ConfigError(FloorwatchError):
    """A setting has a bad value. The message names the setting."""

    exit_code = 2


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

    exit_code = 3

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = str(problems[0]) if problems else "invalid registry"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)


class StoreError(FloorwatchError):
    """The store failed. `retryable` says whether trying again later may succeed."""

    exit_code = 4
    retryable = False


class StoreUnavailable(StoreError):
    """The store did not answer or answered with a server error (5xx): retry later."""

    retryable = True


class StoreRejected(StoreError):
    """The store refused the request (4xx, constraint, bad query): retrying will not help."""


class BrokerError(FloorwatchError):
    """The MQTT broker refused us or could not be reached."""

    exit_code = 5


class NotFound(FloorwatchError):
    """A named thing (school, entrance, sensor, supplier, scorecard...) does not exist."""

    exit_code = 6


class AccessDenied(FloorwatchError):
    """The caller's role does not allow this. The message never says what exists."""

    exit_code = 7


class InvalidRequest(FloorwatchError):
    """A request or argument is well-formed but not acceptable (range too large, bad period)."""

    exit_code = 2
