"""One SQLite file used from many threads: a connection per thread, each transaction a `cursor()`
block, sqlite3 errors translated at this boundary. The readings store and the API's keys file
both work this way."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from floorwatch.errors import StoreUnavailable


class ThreadConnections:
    """Connections to `path`, one per thread, opened on first use (creating the folder) and set
    up by `on_open`. `translate` turns a sqlite3 error into the caller's FloorwatchError; an
    OSError (a folder that cannot be made) is StoreUnavailable naming `label` and the path."""

    def __init__(
        self,
        path: Path,
        label: str,
        timeout_s: float,
        on_open: Callable[[sqlite3.Connection], object],
        translate: Callable[[sqlite3.Error], Exception],
    ):
        self.path = Path(path)
        self.label = label
        self._timeout_s = timeout_s
        self._on_open = on_open
        self._translate = translate
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                if self.path.parent != Path(""):
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=self._timeout_s, check_same_thread=False)
                self._on_open(conn)
            except OSError as exc:
                raise StoreUnavailable(f"{self.label} {self.path}: {exc}") from exc
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def cursor(self) -> Iterator[sqlite3.Cursor]:
        """One transaction: committed when the block ends, rolled back on an error."""
        conn = self.connection()
        try:
            with conn:
                yield conn.cursor()
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
