"""`floorwatch ingest` and `floorwatch quarantine`: thin commands over the collector and store."""

from __future__ import annotations

import gc
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from floorwatch.options import MqttUrl, RegistryPath, StoreUrl
from floorwatch.settings import load_settings
from floorwatch.store import open_store
from ingest.collector import Collector

# The collector process allocates a `Reading` (a named tuple, which the cyclic garbage collector
# keeps tracking: it stops tracking only plain tuples) and a dict per reading, and keeps batches
# of them in flight. With Python's default threshold of 700 allocations, a live run of 1,000,000
# readings (50 a message) spent 0.65 to 0.69 s in collections over the process's life, 12 of
# them full ones (gc.callbacks), beside 2.1 CPU s for the readings. A young collection every
# 20,000 allocations leaves 0.08 to 0.09 s; garbage cycles, rare here, are still collected.
# Set for the `floorwatch ingest` process only, not for a host running a Collector in a thread.
INGEST_GC_THRESHOLD = 20_000


def ingest(
    mqtt_url: MqttUrl = None,
    store_url: StoreUrl = None,
    registry: RegistryPath = None,
    share: Annotated[
        str | None,
        typer.Option(help="Shared-subscription group: collectors in one group split the load"),
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(help="MQTT client id: fixed, it names the persistent session")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Readings per commit at most")] = None,
    spool_dir: Annotated[
        Path | None, typer.Option(help="Folder of the durable spool used while the store is down")
    ] = None,
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR")] = None,
) -> None:
    """Run the MQTT collector until SIGTERM/SIGINT; SIGHUP reloads the registry.

    Readings are acknowledged only after they are durably stored (or spooled while the
    store is down); bad input is quarantined with its reason.

    Example: floorwatch ingest --mqtt-url mqtt://collector:secret@localhost:1883 --share floorwatch
    """
    settings = load_settings(
        mqtt_url=mqtt_url,
        store_url=store_url,
        registry=registry,
        share_group=share,
        client_id=client_id,
        batch_size=batch_size,
        spool_dir=spool_dir,
        log_level=log_level,
    )
    logging.getLogger().setLevel(settings.log_level)
    gc.set_threshold(INGEST_GC_THRESHOLD, *gc.get_threshold()[1:])
    collector = Collector(settings)
    collector.install_signal_handlers()
    final = collector.run()
    typer.echo(
        f"ingest stopped: {final.received} messages received, {final.stored} readings stored, "
        f"{final.quarantined} quarantined, {final.duplicates} duplicates, "
        f"{final.spooled} spooled, {final.replayed} replayed, {final.acknowledged} acknowledged"
    )


def quarantine(
    limit: Annotated[int, typer.Option(min=1, help="How many rejects to show, newest first")] = 20,
    store_url: StoreUrl = None,
) -> None:
    """List recently quarantined input with its reason, newest first.

    Example: floorwatch quarantine --limit 50 --store-url sqlite:///floorwatch.db
    """
    settings = load_settings(store_url=store_url)
    store = open_store(settings.store)
    try:
        records = store.read_quarantine(limit=limit)
    finally:
        store.close()
    console = Console(width=200)
    if not records:
        console.print("No quarantined input.")
        return
    table = Table("received (UTC)", "reason", "topic", "detail", "payload")
    for record in records:
        received = datetime.fromtimestamp(record.received_ms / 1000, UTC)
        table.add_row(
            received.strftime("%Y-%m-%d %H:%M:%S"),
            record.reason,
            record.topic,
            record.detail,
            record.payload[:60].replace("\n", " "),
        )
    console.print(table)
