"""Messages the broker delivers again, and how often they were in flight when the collector died.

A message that kills the collector outright (not an exception: the process itself, say out of
memory or in a C extension) is redelivered at every restart and would kill it again. The broker
marks a redelivery (the MQTT DUP flag); for those only, the collector counts here, durably and
before decoding them, how many times each (by content digest) was in flight. A redelivered message
already counted is decoded alone, so one that fails again is the only one to gain a count; at
`limit` it is set aside (quarantined as collector_error, acknowledged). A count is dropped once
its message is committed. Fresh messages never touch this file.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from ingest.spool import _write_durably

log = logging.getLogger("ingest.collector")


class RedeliveryLedger:
    """Counts per message digest, in a JSON file next to the spool; safe from any thread."""

    def __init__(self, path: Path, limit: int):
        self.path = Path(path)
        self.limit = limit
        self._lock = threading.Lock()
        try:
            self._counts: dict[str, int] = {
                str(k): int(v) for k, v in json.loads(self.path.read_bytes()).items()
            }
        except FileNotFoundError:
            self._counts = {}
        except (ValueError, AttributeError):
            log.error("event=redelivery_ledger_unreadable path=%s: starting empty", self.path)
            self._counts = {}

    def count(self, digest: str) -> int:
        with self._lock:
            return self._counts.get(digest, 0)

    def note(self, digests: Iterable[str]) -> bool:
        """One more time in flight for each; saved before returning. False if it could not be
        saved (a full disk): the caller goes on, counting may then miss this time."""
        with self._lock:
            for digest in digests:
                self._counts[digest] = self._counts.get(digest, 0) + 1
            return self._save()

    def forget(self, digests: Iterable[str]) -> None:
        """Their messages are committed: their counts go."""
        with self._lock:
            changed = [self._counts.pop(digest) for digest in digests if digest in self._counts]
            if changed:
                self._save()

    def _save(self) -> bool:
        try:
            _write_durably(self.path, json.dumps(self._counts).encode())
        except OSError as exc:
            log.error("event=redelivery_ledger_unsaved path=%s error=%s", self.path, exc)
            return False
        return True
