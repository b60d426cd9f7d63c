"""The command-line options shared by the components' commands, defined once.

As sqlite-utils defines its shared option decorators once, these `Annotated` aliases give the
same flag and help text to the same setting in every command: the store is `--store-url`, the
broker `--mqtt-url`, the registry `--registry`, everywhere. A command declares
`store_url: StoreUrl = None` and passes the value to `load_settings`, where None means "from the
environment (FLOORWATCH_STORE_URL), else the default". The demo names the same two flags with its
own help, since its defaults are its embedded broker and its own SQLite file, not the environment.

`--store` and `--broker` were the demo's, `score`'s and `weather import`'s names for the first
two: they still work for one release, hidden from the help, with a warning (`renamed`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from floorwatch.errors import InvalidRequest

StoreUrl = Annotated[
    str | None,
    typer.Option(
        "--store-url",
        help="The store: sqlite:///file.db or influxdb://[user:pass@]host:port/db "
        "[env FLOORWATCH_STORE_URL]",
        show_default=False,
    ),
]

MqttUrl = Annotated[
    str | None,
    typer.Option(
        "--mqtt-url",
        help="The broker: mqtt://[user:pass@]host:port or mqtts://... (TLS) "
        "[env FLOORWATCH_MQTT_URL]",
        show_default=False,
    ),
]

RegistryPath = Annotated[
    Path | None,
    typer.Option(
        "--registry",
        help="Registry YAML file or folder; default the shipped pilot [env FLOORWATCH_REGISTRY]",
        show_default=False,
    ),
]

# The old names, hidden: a command that had one declares it beside the new option.
OldStoreUrl = Annotated[
    str | None, typer.Option("--store", hidden=True, help="Deprecated: use --store-url.")
]
OldMqttUrl = Annotated[
    str | None, typer.Option("--broker", hidden=True, help="Deprecated: use --mqtt-url.")
]


def renamed(value: str | None, old_value: str | None, flag: str, old_flag: str) -> str | None:
    """The option's value, taken from its deprecated old flag (with a warning on stderr) when
    only that was given; both with different values is refused."""
    if old_value is None:
        return value
    if value is not None and value != old_value:
        raise InvalidRequest(f"{old_flag} is the old name of {flag}: give {flag} only")
    typer.echo(f"warning: {old_flag} is deprecated, use {flag}", err=True)
    return old_value
