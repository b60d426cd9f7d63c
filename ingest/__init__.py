"""Ingest: the MQTT collector. Readings in, stored at least once, bad input quarantined.

Where to start reading:
- `ingest.decoders`: pure functions from (topic, payload, context) to readings and rejections,
  for native JSON, SenML, ChirpStack v4 and The Things Stack v3. No I/O: unit-testable alone.
- `ingest.collector`: the I/O loop. MQTT 5 persistent session, batches committed to the store,
  PUBACKs only after the commit, the spool while the store is away, reconnects, SIGHUP reload.
- `ingest.spool`: the durable spool (one fsynced file per batch) and the LoRaWAN counter totals.
- `ingest.counters`: received / stored / quarantined / ... counters and their `ingest` points.
- `ingest.cli`: `floorwatch ingest` and `floorwatch quarantine`.

Using the collector in-process (the demo does): ``Collector(settings).run()`` in a thread,
``collector.request_stop()`` to finish; ``collector.counters.snapshot()`` at any time.
"""
