"""API keys: stored hashed, shown once by `floorwatch keys create`, revocable."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli import keys_app, serve
from api.keys import KeyStore, Role, parse_expiry
from floorwatch.errors import InvalidRequest


def test_keys_are_stored_as_salted_hashes_only(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.db", cache_s=0)
    token, key = keys.create("supplier", supplier="entre-ren")
    token2, _ = keys.create("supplier", supplier="entre-ren")
    secret = token.split("_", 2)[2]  # fwk_<key id>_<secret>: the secret may hold "_" itself
    raw = (tmp_path / "keys.db").read_bytes()
    assert secret.encode() not in raw and token.encode() not in raw
    rows = (
        sqlite3.connect(tmp_path / "keys.db").execute("SELECT salt, hash FROM api_keys").fetchall()
    )
    assert len({salt for salt, _ in rows}) == 2 and len({h for _, h in rows}) == 2
    found = keys.verify(token)
    assert found is not None and found.role is Role.SUPPLIER and found.supplier == "entre-ren"
    assert keys.verify(token2) is not None and keys.verify(token + "x") is None
    keys.revoke(key.key_id)
    assert keys.verify(token) is None
    with pytest.raises(InvalidRequest):
        keys.revoke(key.key_id)
    keys.close()


@pytest.mark.parametrize(
    ("role", "supplier", "schools", "words"),
    [
        ("boss", None, None, "unknown role"),
        ("supplier", None, None, "--supplier"),
        ("facility", None, None, "--school"),
        ("admin", "entre-ren", None, "only for --role supplier"),
        ("technician", None, ["yst-ostra"], "only for --role facility"),
    ],
)
def test_a_key_needs_a_consistent_scope(
    tmp_path: Path, role: str, supplier: str | None, schools: list[str] | None, words: str
) -> None:
    keys = KeyStore(tmp_path / "keys.db")
    with pytest.raises(InvalidRequest, match=words):
        keys.create(role, supplier=supplier, schools=schools)
    keys.close()


def _floorwatch(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLOORWATCH_KEYS_FILE": str(tmp_path / "keys.db")}
    return subprocess.run(
        [sys.executable, "-m", "floorwatch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_creates_lists_and_revokes_keys(tmp_path: Path) -> None:
    # Through the real `floorwatch` command (the entry point): create.
    created = _floorwatch(tmp_path, "keys", "create", "--role", "facility", "--school", "yst-ostra")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("fwk_") and "only time the key is shown" in created.stderr
    keys = KeyStore(tmp_path / "keys.db")
    found = keys.verify(token)
    assert found is not None and found.schools == frozenset({"yst-ostra"})
    keys.close()
    # In process (faster): a refusal, list, revoke, help texts.
    runner = CliRunner()
    env = {"FLOORWATCH_KEYS_FILE": str(tmp_path / "keys.db")}
    bad = runner.invoke(keys_app, ["create", "--role", "supplier", "--supplier", "nobody"], env=env)
    assert isinstance(bad.exception, InvalidRequest)  # the root CLI prints it as one line
    assert str(bad.exception) == "unknown supplier 'nobody'"
    listed = runner.invoke(keys_app, ["list"], env=env)
    assert found.key_id in listed.output and token not in listed.output
    assert runner.invoke(keys_app, ["revoke", found.key_id], env=env).exit_code == 0
    assert KeyStore(tmp_path / "keys.db").verify(token) is None
    assert "Example: floorwatch keys create" in runner.invoke(keys_app, ["create", "--help"]).output
    serve_app = typer.Typer()
    serve_app.command()(serve)
    assert "Example: floorwatch serve" in runner.invoke(serve_app, ["--help"]).output


def test_keys_expire_and_the_keys_file_is_its_owners_only(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    created = _floorwatch(tmp_path, "keys", "create", "--role", "technician", "--expires", "90d")
    assert created.returncode == 0, created.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    keys = KeyStore(path)
    lasting = keys.verify(created.stdout.strip())
    assert lasting is not None and lasting.expires_ms is not None
    assert abs(lasting.expires_ms / 1000 - (time.time() + 90 * 86_400)) < 60
    short, _ = keys.create("technician", expires_ms=int(time.time() * 1000) + 1_500)
    assert KeyStore(path).verify(short) is not None
    time.sleep(1.6)
    assert KeyStore(path).verify(short) is None  # expired: as if unknown
    with pytest.raises(InvalidRequest, match="--expires must be in the future"):
        keys.create("technician", expires_ms=int(time.time() * 1000) - 1)
    keys.close()
    assert parse_expiry("2027-06-30") == int(datetime(2027, 6, 30, tzinfo=UTC).timestamp() * 1000)
    with pytest.raises(InvalidRequest, match="--expires: expected a date"):
        parse_expiry("soon")
    listed = CliRunner().invoke(keys_app, ["list"], env={"FLOORWATCH_KEYS_FILE": str(path)})
    assert "expired" in listed.output and "until 20" in listed.output
    # A keys file made world-readable before this rule is tightened on first use.
    path.chmod(0o644)
    KeyStore(path).list()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
