"""`floorwatch serve` and `floorwatch keys ...`: thin commands over the library."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from api.keys import KeyStore, Role, parse_expiry
from floorwatch.errors import InvalidRequest
from floorwatch.options import StoreUrl
from floorwatch.registry import load_registry
from floorwatch.settings import ENV_PREFIX, load_settings

keys_app = typer.Typer(
    help="API keys (stored hashed; a key is shown once).\n\n"
    "Example: floorwatch keys create --role procurement --label Upphandling",
    no_args_is_help=True,
)

KeysFile = Annotated[
    Path | None, typer.Option("--keys-file", help="SQLite keys file [env FLOORWATCH_KEYS_FILE]")
]


def serve(
    host: Annotated[
        str | None, typer.Option(help="Listen address [env FLOORWATCH_API_HOST]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Listen port [env FLOORWATCH_API_PORT]")] = None,
    store_url: StoreUrl = None,
    keys_file: KeysFile = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
) -> None:
    """Start the API (uvicorn) with the same settings as the other components.

    Example: floorwatch serve --port 8000 --store-url sqlite:///floorwatch.db
    """
    import uvicorn

    from api.app import create_app
    from api.http_limits import BoundedHeadersProtocol

    settings = load_settings(api_host=host, api_port=port, store_url=store_url, keys_file=keys_file)
    typer.echo(f"Floorwatch API on http://{settings.api_host}:{settings.api_port}/docs")
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            log_level=settings.log_level.lower(),
            http=BoundedHeadersProtocol,
        )
        return
    # Worker processes build their own app from the environment: pass the flags through it.
    for name, value in {"STORE_URL": store_url, "KEYS_FILE": keys_file}.items():
        if value is not None:
            os.environ[f"{ENV_PREFIX}{name}"] = str(value)
    uvicorn.run(
        "api.app:app_from_environment",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=workers,
        log_level=settings.log_level.lower(),
        http=BoundedHeadersProtocol,
    )


@keys_app.command("create")
def create(
    role: Annotated[Role, typer.Option(help="admin, procurement, facility, technician, supplier")],
    supplier: Annotated[str | None, typer.Option(help="The supplier id (role supplier)")] = None,
    school: Annotated[
        list[str] | None, typer.Option(help="A school the key manages (role facility; repeatable)")
    ] = None,
    label: Annotated[str, typer.Option(help="Who or what the key is for")] = "",
    expires: Annotated[
        str | None,
        typer.Option(
            help="When the key stops working: a date or time (2027-06-30, UTC unless an "
            "offset is given) or a number of days (90d); unset: never"
        ),
    ] = None,
    keys_file: KeysFile = None,
) -> None:
    """Create an API key and print it once (only its salted hash is stored).

    Example: floorwatch keys create --role supplier --supplier entre-ren --expires 365d
    """
    settings = load_settings(keys_file=keys_file)
    registry = load_registry(settings.registry)
    if supplier is not None and supplier not in registry.suppliers:
        raise InvalidRequest(f"unknown supplier {supplier!r}")
    for school_id in school or []:
        if school_id not in registry.schools:
            raise InvalidRequest(f"unknown school {school_id!r}")
    store = KeyStore(settings.keys_file)
    try:
        token, key = store.create(
            role,
            supplier=supplier,
            schools=school,
            label=label,
            expires_ms=None if expires is None else parse_expiry(expires),
        )
    finally:
        store.close()
    typer.echo(token)
    typer.echo(
        f"key {key.key_id} ({key.role.value}) saved to {settings.keys_file}; "
        "this is the only time the key is shown",
        err=True,
    )


@keys_app.command("list")
def list_keys(keys_file: KeysFile = None) -> None:
    """List keys (id, role, scope, label; never the keys themselves).

    Example: floorwatch keys list
    """
    settings = load_settings(keys_file=keys_file)
    store = KeyStore(settings.keys_file)
    try:
        for key in store.list():
            scope = key.supplier or ",".join(sorted(key.schools)) or "-"
            state = "revoked" if key.revoked_ms else "active"
            if not key.revoked_ms and key.expires_ms is not None:
                until = datetime.fromtimestamp(key.expires_ms / 1000, UTC).isoformat()
                state = "expired" if key.expires_ms <= time.time() * 1000 else f"until {until}"
            typer.echo(f"{key.key_id}  {key.role.value:12} {scope:30} {state:8} {key.label}")
    finally:
        store.close()


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (the part after fwk_)")],
    keys_file: KeysFile = None,
) -> None:
    """Revoke a key; it stops working within the API's cache time (a few seconds).

    Example: floorwatch keys revoke 3f9a1c2b7d4e
    """
    settings = load_settings(keys_file=keys_file)
    store = KeyStore(settings.keys_file)
    try:
        store.revoke(key_id)
    finally:
        store.close()
    typer.echo(f"revoked {key_id}")
