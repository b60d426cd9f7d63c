"""API keys: bearer tokens with a role, kept as salted SHA-256 hashes in a SQLite file.

A key looks like ``fwk_<key id>_<secret>``. Only the key id (to find the row), a random per-key
salt and sha256(salt + secret) are stored, so a stolen keys file does not give working keys. The
full key is shown once, when it is created.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from floorwatch.errors import InvalidRequest, StoreUnavailable
from floorwatch.store.connections import ThreadConnections

PREFIX = "fwk_"

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id     TEXT PRIMARY KEY,
    salt       BLOB NOT NULL,
    hash       BLOB NOT NULL,   -- sha256(salt || secret)
    role       TEXT NOT NULL,
    supplier   TEXT,            -- role supplier: its supplier id
    schools    TEXT NOT NULL,   -- role facility: JSON list of the school ids it manages
    label      TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER,
    expires_ms INTEGER          -- NULL: never expires
);
"""


def parse_expiry(text: str) -> int:
    """`--expires`: ``90d`` (days from now), or an ISO date or time (UTC unless it has an
    offset) -> ms since the epoch."""
    if text.endswith("d") and text[:-1].isdigit():
        return int((time.time() + int(text[:-1]) * 86_400) * 1000)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(
            f"--expires: expected a date (2027-06-30), a time or a number of days (90d), "
            f"got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class Role(StrEnum):
    ADMIN = "admin"
    PROCUREMENT = "procurement"
    FACILITY = "facility"
    TECHNICIAN = "technician"
    SUPPLIER = "supplier"


@dataclass(frozen=True)
class ApiKey:
    """Who a key belongs to: its role and, for supplier and facility keys, what it may see."""

    key_id: str
    role: Role
    supplier: str | None = None
    schools: frozenset[str] = field(default_factory=frozenset)
    label: str = ""
    created_ms: int = 0
    revoked_ms: int | None = None
    expires_ms: int | None = None


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()


def _create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(api_keys)").fetchall()}
    if "expires_ms" not in columns:  # a keys file made before keys could expire
        conn.execute("ALTER TABLE api_keys ADD COLUMN expires_ms INTEGER")
        conn.commit()


def _open_keys_file(path: Path, conn: sqlite3.Connection) -> None:
    """The keys file is its owner's only (salted hashes, and who holds which role): made so
    before anything is written to it (SQLite gives its journal the same mode), and a file made
    before this rule is tightened."""
    with contextlib.suppress(OSError):  # a file mounted read-only, or owned by another user
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    _create_schema(conn)


class KeyStore:
    """The keys file. Verified keys are remembered for `cache_s` seconds (a revoked key stops
    working at most that long after revocation) so authentication costs no disk read per request."""

    def __init__(self, path: Path, cache_s: float = 5.0):
        self.path = Path(path)
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._connections = ThreadConnections(
            self.path,
            "keys file",
            10.0,
            on_open=lambda conn: _open_keys_file(self.path, conn),  # on first use only
            translate=lambda exc: StoreUnavailable(f"keys file {self.path}: {exc}"),
        )
        self._cursor = self._connections.cursor

    def create(
        self,
        role: Role | str,
        supplier: str | None = None,
        schools: list[str] | None = None,
        label: str = "",
        expires_ms: int | None = None,
    ) -> tuple[str, ApiKey]:
        """Make a key; return (the full key, shown only now, and what it grants).
        `expires_ms` (ms since the epoch, UTC): the key stops working then; None: never."""
        try:
            role = Role(role)
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise InvalidRequest(f"unknown role {role!r}; expected one of {allowed}") from None
        schools = sorted(set(schools or []))
        if role is Role.SUPPLIER and not supplier:
            raise InvalidRequest("a supplier key needs --supplier ID")
        if role is not Role.SUPPLIER and supplier:
            raise InvalidRequest("--supplier is only for --role supplier")
        if role is Role.FACILITY and not schools:
            raise InvalidRequest("a facility key needs at least one --school ID")
        if role is not Role.FACILITY and schools:
            raise InvalidRequest("--school is only for --role facility")
        if expires_ms is not None and expires_ms <= time.time() * 1000:
            raise InvalidRequest("--expires must be in the future")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        created_ms = int(time.time() * 1000)
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO api_keys (key_id, salt, hash, role, supplier, schools, label, "
                "created_ms, expires_ms) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    key_id,
                    salt,
                    _digest(salt, secret),
                    role.value,
                    supplier,
                    json.dumps(schools),
                    label,
                    created_ms,
                    expires_ms,
                ),
            )
        key = ApiKey(
            key_id, role, supplier, frozenset(schools), label, created_ms, expires_ms=expires_ms
        )
        return f"{PREFIX}{key_id}_{secret}", key

    def verify(self, token: str) -> ApiKey | None:
        """The key a bearer token stands for, or None if it is unknown, wrong or revoked."""
        now = time.monotonic()
        slot = hashlib.sha256(token.encode()).hexdigest()  # no plaintext keys kept in memory
        cached = self._cache.get(slot)
        if cached is not None and now - cached[0] < self._cache_s:
            return cached[1]
        key = self._verify(token)
        if len(self._cache) > 10_000:  # bound memory against floods of random tokens
            self._cache.clear()
        self._cache[slot] = (now, key)
        return key

    def _verify(self, token: str) -> ApiKey | None:
        if not token.startswith(PREFIX):
            return None
        key_id, sep, secret = token[len(PREFIX) :].partition("_")
        if not sep or not key_id or not secret:
            return None
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT salt, hash, role, supplier, schools, label, created_ms, revoked_ms, "
                "expires_ms FROM api_keys WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        if row is None:
            return None
        salt, digest, role, supplier, schools, label, created_ms, revoked_ms, expires_ms = row
        if revoked_ms is not None or not hmac.compare_digest(_digest(salt, secret), digest):
            return None
        if expires_ms is not None and expires_ms <= time.time() * 1000:
            return None
        return ApiKey(
            key_id,
            Role(role),
            supplier,
            frozenset(json.loads(schools)),
            label,
            created_ms,
            expires_ms=expires_ms,
        )

    def list(self) -> list[ApiKey]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT key_id, role, supplier, schools, label, created_ms, revoked_ms, "
                "expires_ms FROM api_keys ORDER BY created_ms"
            ).fetchall()
        return [
            ApiKey(k, Role(r), s, frozenset(json.loads(sc)), lb, c, rv, ex)
            for k, r, s, sc, lb, c, rv, ex in rows
        ]

    def revoke(self, key_id: str) -> None:
        with self._cursor() as cur:
            cur.execute(
                "UPDATE api_keys SET revoked_ms = ? WHERE key_id = ? AND revoked_ms IS NULL",
                (int(time.time() * 1000), key_id),
            )
            if cur.rowcount == 0:
                raise InvalidRequest(f"no active key {key_id!r}")
        self._cache.clear()

    def close(self) -> None:
        self._connections.close()
