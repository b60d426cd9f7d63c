"""The collector: MQTT in, store out, and the acknowledgement only after a durable commit.

Three threads, each with one job:
- the MQTT thread (`_network_loop`) runs paho-mqtt: it connects (MQTT 5, fixed client id, clean
  start off, session expiry and Receive Maximum in CONNECT), subscribes with QoS 1, puts every
  message into the inbox, sends the acknowledgements it is handed, and reconnects with jittered
  exponential backoff. Acks go through this thread because paho is not safe to write to from two
  threads at once.
- the decoding thread (`run`, the caller's) takes messages from the inbox in batches (by size,
  in-flight window or time) and decodes them with the pure decoders.
- the writer thread (`_writer_loop`) commits each batch's readings and quarantine records to the
  store, and only then queues its acks (`manual_ack`). When the store does not answer, batches go
  to the durable spool and are acked; they are replayed in order when it answers again. A full
  spool stops the acks: the broker then stops sending (its in-flight window fills) and keeps the
  rest for us. Into InfluxDB, up to `influx_writes_in_flight` batches are written at once (by
  a small pool of threads doing only the HTTP writes), so InfluxDB writes one while the next is
  encoded and sent; they are resolved and acknowledged in the order received, and when one fails,
  it and every batch after it are committed again one at a time as above.

Killing the process at any moment loses nothing: an unacknowledged message is redelivered by the
broker from the persistent session, and a reading written twice is stored once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import random
import signal
import socket
import ssl
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from floorwatch.device_text import storable
from floorwatch.errors import (
    BrokerError,
    ConfigError,
    FloorwatchError,
    StoreError,
    StoreRejected,
    StoreUnavailable,
)
from floorwatch.readings import QuarantineRecord, Reading
from floorwatch.registry import Registry, load_registry
from floorwatch.settings import Settings
from floorwatch.store import Store
from ingest.buffered_socket import BufferedSocket
from ingest.counters import CountersSnapshot, IngestCounters
from ingest.decoders import (
    NATIVE_PREFIX,
    DecodeContext,
    Decoded,
    Limits,
    Rejection,
    SensorCatalog,
    decode,
)
from ingest.publish_packet import PlainPublish, plain_publish
from ingest.redelivered import RedeliveryLedger
from ingest.rejects import (
    COLLECTOR_ERROR,
    QuarantineBudget,
    device_of,
    message_digest,
    records_for,
    write_quarantine_carefully,
)
from ingest.spool import CounterTotalsFile, Spool, SpooledBatch

log = logging.getLogger("ingest.collector")

# The uplink topic trees: native and SenML, ChirpStack v4 (uplinks and status events with the
# battery level), The Things Stack v3 (`v3/{app}@{tenant}/...`, open source: `v3/{app}/...`).
TOPICS = (
    "floorwatch/up/#",
    "application/+/device/+/event/up",
    "application/+/device/+/event/status",
    "v3/+/devices/+/up",
)
# Readings the store refuses (write_sorting_out_refused) are quarantined under this reason.
STORE_REJECTED = "store_rejected"
REFUSED_PER_RECORD = 200  # readings per store_rejected quarantine record
KEEPALIVE_S = 30
_NETWORK_POLL_S = 0.01  # how long the MQTT thread waits for traffic before sending queued acks
_AUTH_FAILURES = {"Bad user name or password", "Not authorized"}
# A message whose commit failed (a bug, not the store being away) is tried this many times on
# its own, then set aside as collector_error and acknowledged; so is a redelivered one that was
# in flight this many times when the collector died (ingest.redelivered).
POISON_ATTEMPTS = 3
REPLAY_RETRY_S = 30  # a spool replay that failed (not the store being away) is tried again then
PRUNE_INTERVAL_S = 3_600  # quarantine retention is applied at start and hourly
_PUBACK_HEAD = bytes([PacketTypes.PUBACK << 4, 2])  # fixed header of a PUBACK without properties
# paho's loop() reads one packet per select(); up to this many more are read from the socket's
# buffer before going round again (acks, keepalive)
_READS_PER_POLL = 500
_GATHER_S = 0.005  # how long the decoding thread lets messages gather when the inbox is empty
_QUEUED_BATCHES = 2  # decoded batches waiting for the writer


def subscriptions(share_group: str | None) -> list[str]:
    """The topic filters to subscribe to, as `$share/GROUP/...` shared subscriptions if given."""
    if share_group:
        return [f"$share/{share_group}/{topic}" for topic in TOPICS]
    return list(TOPICS)


class Backoff:
    """Exponential backoff with full jitter, as the AWS Architecture Blog's "Exponential Backoff
    And Jitter" (2015) defines it: the n-th delay is uniform in [0, min(cap, base * 2**n)], so
    collectors that lost the broker together do not all come back at the same instant."""

    def __init__(self, base_s: float, cap_s: float):
        self.base_s = base_s
        self.cap_s = cap_s
        self.attempts = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * 2**self.attempts)
        self.attempts += 1
        return random.uniform(0.0, ceiling)

    def reset(self) -> None:
        self.attempts = 0


class _DirectClient(mqtt.Client):
    """paho's client, handing each message straight to the collector. paho's own dispatch first
    matches the topic against per-filter callbacks (the collector registers none) under two
    locks, for every message: 3 to 5 % of the collector's CPU at one reading per message. On MQTT
    5, a QoS 0 or 1 PUBLISH without properties is read by `plain_publish` and given to
    `on_plain_publish` without the `Properties` and `MQTTMessage` objects paho builds for each
    (ingest/publish_packet.py); paho parses every other packet and calls `on_message`."""

    on_plain_publish: Callable[[PlainPublish], None] | None = None

    def _handle_publish(self) -> MQTTErrorCode:
        deliver = self.on_plain_publish
        if (
            deliver is not None
            and self._protocol == MQTTProtocolVersion.MQTTv5
            and self._manual_ack  # else paho acknowledges on receipt: never in the collector
            and self._logger is None  # paho's debug line per PUBLISH stays where asked for
            and self.on_log is None
        ):
            packet = self._in_packet
            plain = plain_publish(packet["command"], packet["packet"])
            if plain is not None:
                deliver(plain)
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._handle_publish()

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
        on_message = self.on_message
        if on_message is not None:
            on_message(self, self._userdata, message)


def open_collector_store(settings: Settings, sensor_tags: Any) -> Store:
    """Open the store with the collector's short timeout: a store slower than that counts as
    unavailable, and the batch goes to the spool instead of blocking ingest."""
    target = settings.store
    if target.backend == "sqlite":
        from floorwatch.store.sqlite import SqliteStore

        assert target.path is not None
        return SqliteStore(target.path, timeout_s=settings.store_timeout_s)
    from floorwatch.store.influx import InfluxStore

    return InfluxStore(
        target,
        sensor_tags=sensor_tags,
        timeout_s=settings.store_timeout_s,
        gzip_level=settings.influx_gzip_level,
    )


@dataclass(slots=True)
class Inbound:
    """A message as received. received_ms: wall clock, ms UTC; received_at: monotonic seconds;
    connection: which connection it came on (its packet id means nothing on another)."""

    mid: int
    qos: int
    connection: int
    topic: str
    payload: bytes
    received_ms: int
    received_at: float
    dup: bool = False  # the broker's DUP flag: a redelivery (see ingest.redelivered)


@dataclass(slots=True)
class Batch:
    """Messages taken together, decoded: committed together, then acknowledged together."""

    messages: list[Inbound] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    counters_changed: bool = False
    # After each message: (readings, quarantine records) so far. Lets the writer commit a batch
    # message by message when committing it whole failed (`_commit_guarded`).
    spans: list[tuple[int, int]] = field(default_factory=list)
    counter_totals: dict[str, tuple[int, float]] | None = None  # LoRaWAN totals after this batch
    # Redelivered messages: held back until counted (`_decode_redelivered`), and the digests
    # whose counts go once this batch is committed.
    redelivered: list[Inbound] = field(default_factory=list)
    counted: list[str] = field(default_factory=list)
    committed: threading.Event | None = None  # set once committed (a suspect's own batch)


# Put into the writer's queue when a write in flight returns: wakes the writer to resolve it.
_WRITE_RETURNED = Batch()


@dataclass(slots=True)
class Written:
    """What writing a batch to the store did: how many readings were new (None: the store
    cannot tell), the readings it refused with its message, quarantine records not recorded."""

    new: int | None
    refused: list[tuple[Sequence[Reading], str]]
    unrecorded: int


@dataclass(slots=True)
class InFlight:
    """A batch whose write to the store was started and has not been resolved."""

    batch: Batch
    write: Future[Written]


def _redacted_store(settings: Settings) -> str:
    target = settings.store
    if target.backend == "sqlite":
        return f"sqlite:///{target.path}"
    return f"{target.base_url}/{target.database}"


def write_sorting_out_refused(
    store: Store, readings: Sequence[Reading]
) -> tuple[int | None, list[tuple[Sequence[Reading], str]]]:
    """Write the readings. When the store refuses them (StoreRejected: an InfluxDB 4xx such as a
    field type conflict, an SQLite constraint), halve them in time order until each refused
    reading is found, and write the rest. Refusals come in runs (a shard, a sensor), so that
    takes a few writes per run; a batch refused whole takes two per reading. Returns the number
    of new readings (None when the store cannot tell) and the refused ones with the store's
    message."""
    try:
        return store.write_readings(readings), []
    except StoreRejected as exc:
        if len(readings) == 1:
            return 0, [(readings, str(exc))]
    ordered = sorted(readings, key=lambda r: r.ts_ms)
    middle = len(ordered) // 2
    new_first, refused_first = write_sorting_out_refused(store, ordered[:middle])
    new_second, refused_second = write_sorting_out_refused(store, ordered[middle:])
    new = None if new_first is None or new_second is None else new_first + new_second
    return new, _merged(refused_first + refused_second)


def _merged(
    refused: list[tuple[Sequence[Reading], str]],
) -> list[tuple[Sequence[Reading], str]]:
    """Neighbouring refused readings with the same message become one group."""
    groups: list[tuple[list[Reading], str]] = []
    for readings, error in refused:
        if groups and groups[-1][1] == error:
            groups[-1][0].extend(readings)
        else:
            groups.append((list(readings), error))
    return [(readings, error) for readings, error in groups]


def refused_records(
    refused: Sequence[tuple[Sequence[Reading], str]], received_ms: int
) -> list[QuarantineRecord]:
    """Quarantine records for readings the store refused: one per sensor and group, its payload
    a native batch of exactly those readings, so it can be published again once the store is
    mended."""
    records = []
    for readings, error in refused:
        by_sensor: dict[str, list[Reading]] = {}
        for reading in readings:
            by_sensor.setdefault(reading.sensor_id, []).append(reading)
        for sensor_id, theirs in by_sensor.items():
            # a few kB per record: InfluxDB keeps a string field of at most 64 kB
            for start in range(0, len(theirs), REFUSED_PER_RECORD):
                mine = theirs[start : start + REFUSED_PER_RECORD]
                payload = [{"ts": r.ts_ms / 1000, "kind": r.kind, "value": r.value} for r in mine]
                text = json.dumps({"readings": payload})
                topic = NATIVE_PREFIX + sensor_id
                records.append(
                    QuarantineRecord(
                        received_ms,
                        topic,
                        STORE_REJECTED,
                        f"{len(mine)} readings refused by the store: {storable(error, 300)}",
                        text,
                        f"{message_digest(topic, text.encode())}:{STORE_REJECTED}",
                    )
                )
    return records


class Collector:
    """Runs until `request_stop()` (SIGTERM/SIGINT with `install_signal_handlers`)."""

    def __init__(
        self,
        settings: Settings,
        registry: Registry | None = None,
        counters: IngestCounters | None = None,
    ):
        self.settings = settings
        self.counters = counters or IngestCounters()
        self._registry = registry if registry is not None else load_registry(settings.registry)
        self._catalog = SensorCatalog(self._registry)
        self._context: DecodeContext | None = None  # the last message's (decoding thread)
        self._limits = Limits(
            max_payload_bytes=settings.max_payload_bytes,
            max_future_ms=settings.max_future_s * 1000,
            max_past_ms=settings.max_past_days * 86_400_000,
        )
        self._inbox: queue.SimpleQueue[Inbound] = queue.SimpleQueue()
        self._acks: queue.SimpleQueue[tuple[int, int, int]] = queue.SimpleQueue()
        self._connection = 0  # counts successful connections
        self._stop = threading.Event()  # asked to stop: finish the batch at hand
        self._closing = threading.Event()  # last acks queued: the MQTT thread disconnects
        self._reload = threading.Event()
        self._fatal: Exception | None = None  # why a thread gave up; run() raises it
        self._subscribed = threading.Event()
        self._ever_connected = False
        self._received = 0  # messages received in this poll of the MQTT thread (counted per poll)

        # One folder per client id: collectors sharing a spool_dir never share a spool.
        self.spool_dir = settings.spool_dir / settings.client_id
        try:
            self._spool = Spool(self.spool_dir, settings.spool_max_bytes)
            self._totals_file = CounterTotalsFile(self.spool_dir / "counter-totals.json")
            self._totals = self._totals_file.load()
            self._ledger = RedeliveryLedger(self.spool_dir / "redelivered.json", POISON_ATTEMPTS)
        except OSError as exc:
            raise ConfigError(f"FLOORWATCH_SPOOL_DIR: cannot use {self.spool_dir}: {exc}") from exc
        self._store: Store | None = None
        self._store_down = False
        self._store_retry_at = 0.0
        self._store_backoff = Backoff(0.2, 5.0)
        self._held_since: float | None = None  # back-pressure: when the spool was found full
        # Decoded batches on their way to the writer; two let decoding run ahead of the writes.
        self._batches: queue.Queue[Batch | None] = queue.Queue(maxsize=_QUEUED_BATCHES)
        # Batches written at once (InfluxDB only: an SQLite commit holds the database's lock).
        self._writes_in_flight = (
            settings.influx_writes_in_flight if settings.store.backend == "influxdb" else 1
        )
        self._holding = False  # the writer holds a batch it cannot make durable
        self._writer_alive = True
        self._totals_unsaved = False  # the last save of the counter totals failed
        self._replay_retry_at = 0.0
        self._budget = QuarantineBudget(
            settings.quarantine_per_device_per_hour, settings.quarantine_per_hour
        )

        self._client = self._make_client()

    # --- control (any thread, signal handlers) ---------------------------------------------------
    def request_stop(self) -> None:
        self._stop.set()

    def request_reload(self) -> None:
        self._reload.set()

    @property
    def subscribed(self) -> bool:
        """True once the broker granted the subscriptions (on the first connection)."""
        return self._subscribed.is_set()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT: stop after the batch at hand. SIGHUP: reload the registry."""

        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("event=stop_requested signal=%s", signal.Signals(signum).name)
            self.request_stop()

        def reload(signum: int, frame: FrameType | None) -> None:
            self.request_reload()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    # --- MQTT ------------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        settings = self.settings
        target = settings.mqtt
        if target.protocol_v5:
            client = _DirectClient(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=settings.client_id,
                protocol=MQTTProtocolVersion.MQTTv5,
                manual_ack=True,
            )
        else:  # MQTT 3.1.1 (the embedded amqtt broker): a persistent session is clean_session off
            client = _DirectClient(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=settings.client_id,
                protocol=MQTTProtocolVersion.MQTTv311,
                clean_session=False,
                manual_ack=True,
            )
        if target.username:
            client.username_pw_set(target.username, target.password)
        if target.tls:
            client.tls_set(ca_certs=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_plain_publish = self._on_publish
        # Sets the target only; the MQTT thread connects (and reconnects) with these.
        if target.protocol_v5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = settings.session_expiry_s
            properties.ReceiveMaximum = settings.receive_maximum
            client.connect_async(
                target.host,
                target.port,
                keepalive=KEEPALIVE_S,
                clean_start=False,
                properties=properties,
            )
        else:
            client.connect_async(target.host, target.port, keepalive=KEEPALIVE_S)
        return client

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("event=broker_refused reason=%r", str(reason_code))
            if not self._ever_connected and str(reason_code) in _AUTH_FAILURES:
                target = self.settings.mqtt
                self._fatal = BrokerError(
                    f"broker {target.host}:{target.port} refused user "
                    f"{target.username or '(none)'}: {reason_code}"
                )
                self.request_stop()
            return
        self._ever_connected = True
        self._connection += 1
        sock = client.socket()
        if isinstance(sock, socket.socket) and not isinstance(sock, ssl.SSLSocket):
            # TLS sockets buffer already; paho reads every packet in several recv() calls
            client._sock = BufferedSocket(sock)
        topics = subscriptions(self.settings.share_group)
        if self.settings.mqtt.protocol_v5:
            # retainHandling 2: no retained copies at subscribe time (read live, once)
            options = SubscribeOptions(qos=1, retainHandling=2)
            client.subscribe([(topic, options) for topic in topics])
        else:
            client.subscribe([(topic, 1) for topic in topics])
        log.info(
            "event=broker_connected session_present=%s topics=%s",
            flags.session_present,
            ",".join(topics),
        )

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = [str(code) for code in reason_codes if code.is_failure]
        if refused:
            log.error("event=subscription_refused reasons=%s", ",".join(refused))
        else:
            log.info("event=subscribed qos=%s", ",".join(str(int(c.value)) for c in reason_codes))
            self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        """A message paho parsed itself (one with properties, or any on MQTT 3.1.1)."""
        self._on_publish(
            PlainPublish(
                bool(message.dup),
                message.qos,
                bool(message.retain),
                message._topic,
                message.mid,
                bytes(message.payload),
            )
        )

    def _on_publish(self, message: PlainPublish) -> None:
        if message.retain:
            # A retained copy, sent because we (re)subscribed: the message itself came live when
            # it was published. Reading it again would quarantine or count it at every start.
            if message.qos:
                self._client.ack(message.mid, message.qos)
            self.counters.count_retained_ignored()
            return
        try:
            topic = message.topic.decode("utf-8")
        except UnicodeDecodeError:  # MQTT requires UTF-8 topics; a broker may not check
            topic = message.topic.decode("utf-8", errors="backslashreplace")
        self._inbox.put(
            Inbound(
                message.mid,
                message.qos,
                self._connection,
                topic,
                message.payload,
                time.time_ns() // 1_000_000,
                time.monotonic(),
                message.dup,
            )
        )
        self._received += 1

    def _send_acks(self) -> None:
        """Send queued acks. Acks of messages from an earlier connection are dropped: the broker
        redelivers those, and after a reconnect their packet ids may name other messages."""
        client = self._client
        pubacks = bytearray()
        while True:
            try:
                connection, mid, qos = self._acks.get_nowait()
            except queue.Empty:
                break
            if connection != self._connection:
                continue
            if qos == 1:
                pubacks += _PUBACK_HEAD + mid.to_bytes(2, "big")
            else:
                client.ack(mid, qos)
        if pubacks:
            # All PUBACKs in one write: paho's ack() costs two system calls per message. The bytes
            # are the ones ack() queues: PUBACK, remaining length 2, the packet id (MQTT 5 leaves
            # out the reason code for success, MQTT 5.0 section 3.4.2.1).
            client._packet_queue(PacketTypes.PUBACK << 4, bytes(pubacks), 0, 1)

    def _network_loop(self) -> None:
        """The MQTT thread. A failure here stops the collector rather than leave it deaf."""
        try:
            self._pump_mqtt()
        except Exception as exc:
            log.exception("event=mqtt_thread_failed")
            self._fatal = exc
            self.request_stop()

    def _pump_mqtt(self) -> None:
        """Connect, pump traffic and acks, reconnect with jittered backoff; until closing."""
        client = self._client
        backoff = Backoff(0.5, 30.0)
        target = self.settings.mqtt
        while not self._closing.is_set():
            try:
                client.reconnect()
            except (OSError, ValueError) as exc:
                delay = backoff.next_delay()
                log.warning(
                    "event=broker_unreachable broker=%s:%s error=%r retry_in_s=%.1f",
                    target.host,
                    target.port,
                    str(exc),
                    delay,
                )
                if self._closing.wait(delay):
                    break
                continue
            rc = MQTTErrorCode.MQTT_ERR_SUCCESS
            while rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                rc = client.loop(timeout=_NETWORK_POLL_S)
                sock = client.socket()
                pending = sock.pending if isinstance(sock, BufferedSocket) else None
                reads = 0
                while pending is not None and pending() and reads < _READS_PER_POLL:
                    if (rc := client.loop_read()) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                        break
                    reads += 1
                if self._received:  # one counter update per poll, not per message
                    self.counters.count_received(self._received)
                    self._received = 0
                self._send_acks()
                if client.is_connected():
                    backoff.reset()
                if self._closing.is_set():
                    self._send_acks()
                    client.disconnect()
                    for _ in range(100):  # flush the acks and DISCONNECT
                        if client.loop(timeout=_NETWORK_POLL_S) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                            break
                    log.info("event=broker_disconnected reason=stopping")
                    return
            delay = backoff.next_delay()
            log.warning("event=broker_connection_lost rc=%s retry_in_s=%.1f", rc.name, delay)
            if self._closing.wait(delay):
                break

    # --- the decoding thread (the caller's) -----------------------------------------------------
    def run(self) -> CountersSnapshot:
        """Collect until asked to stop; returns the final counters. Raises BrokerError when the
        broker refuses our credentials, or the store's error if it refuses a batch."""
        self._log_start()
        # Opened (or found away) before messages come in: importing the backend and the first
        # requests are not paid while a backlog pours in.
        self._available_store()
        network = threading.Thread(target=self._network_loop, name="mqtt", daemon=True)
        writer = threading.Thread(target=self._writer_loop, name="store", daemon=True)
        network.start()
        writer.start()
        try:
            self._decode_loop()
        finally:
            self._hand_over(None)  # tells the writer to finish
            writer.join()
            self._closing.set()
            network.join(timeout=10)
            self._write_counters()
            if self._store is not None:
                self._store.close()
        snapshot = self.counters.snapshot()
        log.info(
            "event=stopped received=%d stored=%d quarantined=%d duplicates=%d spooled=%d "
            "replayed=%d acknowledged=%d spool_pending=%d",
            snapshot.received,
            snapshot.stored,
            snapshot.quarantined,
            snapshot.duplicates,
            snapshot.spooled,
            snapshot.replayed,
            snapshot.acknowledged,
            self._spool.pending,
        )
        if self._fatal is not None:
            raise self._fatal
        return snapshot

    def _log_start(self) -> None:
        settings = self.settings
        target = settings.mqtt
        log.info(
            "event=start broker=%s://%s:%d user=%s store=%s topics=%s client_id=%s "
            "clean_start=false session_expiry_s=%d receive_maximum=%d batch=%d/%dms "
            "registry=%s sensors=%d spool=%s spool_pending=%d",
            "mqtts" if target.tls else "mqtt",
            target.host,
            target.port,
            target.username or "-",
            _redacted_store(settings),
            ",".join(subscriptions(settings.share_group)),
            settings.client_id,
            settings.session_expiry_s,
            settings.receive_maximum,
            settings.batch_size,
            settings.batch_wait_ms,
            self._registry.content_hash[:12],
            len(self._catalog.ranges),
            self.spool_dir,
            self._spool.pending,
        )

        if target.username and target.username != settings.client_id:
            log.warning(
                "event=client_id_not_account client_id=%s user=%s note=the shipped broker "
                "config names the session by the account (use_username_as_clientid): set "
                "FLOORWATCH_CLIENT_ID to the account name so spool, counters and session agree",
                settings.client_id,
                target.username,
            )

    def _decode_loop(self) -> None:
        """Take and decode batches, hand them to the writer; stop after the batch at hand."""
        while True:
            if self._reload.is_set():
                self._reload.clear()
                self._reload_registry()
            stopping = self._stop.is_set()
            batch = self._take_batch(wait=not stopping)
            suspects = self._decode_redelivered(batch) if batch.redelivered else []
            if batch.messages:
                if batch.counters_changed:
                    batch.counter_totals = dict(self._totals)  # as of this batch, for the file
                self._hand_over(batch)
            for item, digest in suspects:
                self._commit_alone(item, digest)
            if stopping:
                return

    def _hand_over(self, batch: Batch | None) -> None:
        """Queue a batch for the writer (None: finish). While the writer holds a batch under
        back-pressure this waits; when stopping it gives up: unacknowledged messages are
        redelivered by the broker."""
        while True:
            try:
                self._batches.put(batch, timeout=0.1)
                return
            except queue.Full:
                if self._stop.is_set() and (self._holding or not self._writer_alive):
                    return

    # --- the store writer thread ------------------------------------------------------------------
    def _writer_loop(self) -> None:
        """Commit each batch (store, else spool), then acknowledge it. Runs in its own thread so
        that the next batch is decoded while this one is written (SQLite and HTTP release the
        GIL). Also replays the spool when idle and writes the counters periodically."""
        interval = self.settings.counters_interval_s
        next_counters = time.monotonic() + interval
        next_prune = time.monotonic()
        depth = self._writes_in_flight
        pool = ThreadPoolExecutor(depth, thread_name_prefix="store-write") if depth > 1 else None
        in_flight: deque[InFlight] = deque()
        try:
            while True:
                if in_flight and (len(in_flight) >= depth or in_flight[0].write.done()):
                    if not self._resolve_oldest(in_flight):
                        return
                    continue
                try:
                    batch = self._batches.get(timeout=0.1)
                except queue.Empty:
                    if not in_flight and self._spool.pending:
                        self._replay_when_due()
                else:
                    if batch is _WRITE_RETURNED:
                        continue
                    if batch is None:
                        self._resolve_all(in_flight)
                        return
                    started = pool is not None and self._start_write(pool, batch, in_flight)
                    # else committed on its own, after the older ones: acks go in the order received
                    if not started and not (
                        self._resolve_all(in_flight) and self._commit_until_durable(batch)
                    ):
                        return
                if time.monotonic() >= next_counters:
                    self._write_counters()
                    next_counters = time.monotonic() + interval
                if time.monotonic() >= next_prune and self._prune_quarantine():
                    next_prune = time.monotonic() + PRUNE_INTERVAL_S
        except FloorwatchError as exc:  # e.g. the store refused the quarantine: stop, say why
            log.error("event=writer_failed error=%r", str(exc))
            self._fatal = exc
            self.request_stop()
        except Exception as exc:  # a bug or a full disk: stop rather than run without a writer
            log.exception("event=writer_failed")
            self._fatal = exc
            self.request_stop()
        finally:
            if pool is not None:
                pool.shutdown(wait=True)  # nothing of ours writes after the writer has stopped
            self._writer_alive = False

    def _commit_until_durable(self, batch: Batch) -> bool:
        """Commit the batch, waiting while it can be made durable nowhere, then acknowledge it.
        False when asked to stop before that: it stays unacknowledged."""
        while not self._commit_guarded(batch):
            self._holding = True
            if self._stop.wait(0.5):
                log.warning(
                    "event=stopping_unacknowledged messages=%d "
                    "reason=store_away_and_spool_full note=the broker redelivers them",
                    len(batch.messages),
                )
                return False
        self._holding = False
        self._done(batch)
        return True

    def _done(self, batch: Batch) -> None:
        """The batch is durable: acknowledge it."""
        if batch.counted:
            self._ledger.forget(batch.counted)  # committed: no longer suspects
        self._acknowledge(batch)
        if batch.committed is not None:
            batch.committed.set()

    def _start_write(
        self, pool: ThreadPoolExecutor, batch: Batch, in_flight: deque[InFlight]
    ) -> bool:
        """Start writing the batch to the store beside the writes in flight. False when it
        must be committed on its own: the store is away, or the spool holds older batches
        (replayed first, in order)."""
        if self._spool.pending:
            return False
        store = self._available_store()
        if store is None:
            return False
        durable = SpooledBatch(batch.readings, batch.quarantine)
        write = pool.submit(self._write_to, store, durable)
        write.add_done_callback(self._wake_writer)
        in_flight.append(InFlight(batch, write))
        return True

    def _wake_writer(self, write: Future[Written]) -> None:
        with contextlib.suppress(queue.Full):  # full: the writer has something to wake it
            self._batches.put_nowait(_WRITE_RETURNED)

    def _resolve_all(self, in_flight: deque[InFlight]) -> bool:
        """Resolve every write in flight, oldest first; False when asked to stop meanwhile."""
        while in_flight:
            if not self._resolve_oldest(in_flight):
                return False
        return True

    def _resolve_oldest(self, in_flight: deque[InFlight]) -> bool:
        """Wait for the oldest write in flight and acknowledge its batch. When that write
        failed, the later ones are waited for too, and every one of these batches is committed
        again on its own, in order (to the store, else the spool, else held): nothing is
        acknowledged before it is durable, and a batch written twice is stored once. False
        when asked to stop while holding one."""
        oldest = in_flight.popleft()
        try:
            written = oldest.write.result()
        except Exception as exc:
            if isinstance(exc, StoreUnavailable):
                self._note_store_down(exc)
            log.info(
                "event=write_in_flight_failed messages=%d later_batches=%d error=%s "
                "note=committing them again one at a time",
                len(oldest.batch.messages),
                len(in_flight),
                storable(repr(exc), 300),
            )
            again = [oldest.batch]
            while in_flight:
                later = in_flight.popleft()
                later.write.exception()  # waits; a batch written anyway is stored once
                again.append(later.batch)
            return all(self._commit_until_durable(batch) for batch in again)
        self._count_written(oldest.batch.readings, written)
        self._settle(oldest.batch)
        self._done(oldest.batch)
        return True

    def _take_batch(self, wait: bool) -> Batch:
        """Messages until batch_size readings, the in-flight window, or batch_wait_ms."""
        batch = Batch()
        inbox = self._inbox
        try:
            first = inbox.get(timeout=0.1) if wait else inbox.get_nowait()
        except queue.Empty:
            return batch
        self._take(batch, first)
        size = self.settings.batch_size
        # Up to _QUEUED_BATCHES + writes in flight batches are unacknowledged at once: each takes
        # at most its share of the in-flight window so the broker never stalls on us.
        window = max(1, self.settings.receive_maximum // (_QUEUED_BATCHES + self._writes_in_flight))
        deadline = time.monotonic() + self.settings.batch_wait_ms / 1000
        while len(batch.readings) < size and len(batch.messages) + len(batch.redelivered) < window:
            try:
                item = inbox.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not wait:
                    break
                # Let messages gather instead of waking for each one: a wake-up per message
                # hands the GIL back and forth with the MQTT thread, which is the bottleneck.
                time.sleep(min(remaining, _GATHER_S))
                continue
            self._take(batch, item)
        return batch

    def _take(self, batch: Batch, item: Inbound) -> None:
        if item.dup:
            batch.redelivered.append(item)  # counted first, then decoded (_decode_redelivered)
        else:
            self._decode_into(batch, item)

    def _decode_redelivered(self, batch: Batch) -> list[tuple[Inbound, str]]:
        """Count the batch's redelivered messages durably, then decode them into the batch
        when seen for the first time; set them aside at the ledger's limit. Returns those that
        were in flight when the collector died before (suspects: `_commit_alone`)."""
        suspects: list[tuple[Inbound, str]] = []
        first: list[tuple[Inbound, str]] = []
        for item in batch.redelivered:
            digest = message_digest(item.topic, item.payload)
            seen = self._ledger.count(digest)
            if seen >= self._ledger.limit:
                self._set_aside_redelivered(batch, item, digest, seen)
            elif seen:
                suspects.append((item, digest))
            else:
                first.append((item, digest))
        if first:
            self._ledger.note(digest for _, digest in first)
            for item, digest in first:
                self._decode_into(batch, item)
                batch.counted.append(digest)
        batch.redelivered = []
        return suspects

    def _commit_alone(self, item: Inbound, digest: str) -> None:
        """A suspect: counted, decoded and committed on its own before the next one is
        touched, so a message that kills the collector is the only one to gain counts."""
        self._ledger.note([digest])
        own = Batch(counted=[digest], committed=threading.Event())
        self._decode_into(own, item)
        if own.counters_changed:
            own.counter_totals = dict(self._totals)
        self._hand_over(own)
        assert own.committed is not None
        while not own.committed.wait(0.1):
            if self._stop.is_set() or not self._writer_alive:
                return

    def _set_aside_redelivered(self, batch: Batch, item: Inbound, digest: str, seen: int) -> None:
        self.counters.count_error()
        log.error(
            "event=message_set_aside mid=%d topic=%s message=%s in_flight_at_stops=%d",
            item.mid,
            storable(item.topic, 200),
            digest,
            seen,
        )
        rejection = Rejection(
            COLLECTOR_ERROR,
            f"the collector stopped {seen} times while this message was in flight; set aside",
        )
        batch.messages.append(item)
        self._quarantine_into(batch, item, [rejection])
        batch.spans.append((len(batch.readings), len(batch.quarantine)))
        batch.counted.append(digest)

    def _decode_into(self, batch: Batch, item: Inbound) -> None:
        context = self._context
        # one per receive time: at one reading per message, a dozen messages share a millisecond
        catalog = self._catalog
        if context is None or context.now_ms != item.received_ms or context.catalog is not catalog:
            context = DecodeContext(catalog, item.received_ms, self._limits, self._totals)
            self._context = context
        try:
            out = decode(item.topic, item.payload, context)
        except Exception as exc:  # a bug in a decoder: this message is set aside, not the rest
            out = self._decoder_failed(item, exc)
        batch.messages.append(item)
        if out.readings:
            batch.readings.extend(out.readings)
        if out.rejections:
            self._quarantine_into(batch, item, out.rejections)
        if out.counter_totals:
            self._totals.update(out.counter_totals)
            batch.counters_changed = True
        if out.counted_already:
            self.counters.count_stored(0, duplicates=out.counted_already)
        batch.spans.append((len(batch.readings), len(batch.quarantine)))

    def _quarantine_into(self, batch: Batch, item: Inbound, rejections: list[Rejection]) -> None:
        """The message's quarantine records, made storable, within the budget."""
        records = records_for(item.topic, item.payload, item.received_ms, rejections)
        kept = self._budget.admit(device_of(item.topic), records, item.received_ms)
        if len(kept) < len(records):
            self.counters.count_quarantine_dropped(len(records) - len(kept))
        batch.quarantine.extend(kept)
        batch.reasons.update(rejection.reason for rejection in rejections)

    def _decoder_failed(self, item: Inbound, exc: Exception) -> Decoded:
        self.counters.count_error()
        log.error(
            "event=decoder_failed mid=%d topic=%s message=%s error=%s",
            item.mid,
            storable(item.topic, 200),
            message_digest(item.topic, item.payload),
            storable(repr(exc), 300),
            exc_info=True,
        )
        return Decoded().reject(
            COLLECTOR_ERROR, f"the decoder failed on this message: {type(exc).__name__}: {exc}"
        )

    def _commit(self, batch: Batch) -> bool:
        """Make the batch durable: in the store, else in the spool. False when neither can take
        it (store away and spool full): then nothing is acknowledged."""
        durable = SpooledBatch(batch.readings, batch.quarantine)
        store = self._available_store()
        if store is not None:
            try:
                if self._spool.pending:
                    self._replay_guarded(store)  # older batches first: the order received
                self._write(store, durable)
            except StoreUnavailable as exc:
                self._note_store_down(exc)
                store = None
        if store is None:
            if self._spool.full:
                self._hold(
                    "spool_full",
                    f"spool_bytes={self._spool.size_bytes} spool_max_bytes={self._spool.max_bytes}",
                )
                return False
            try:
                self._spool.append(durable)
            except OSError as exc:  # a full disk, or a spool folder we cannot write
                self._hold("spool_unwritable", f"error={str(exc)!r}")
                return False
            self.counters.count_spooled(len(durable.readings))
            log.info(
                "event=spooled readings=%d quarantined=%d spool_batches=%d spool_bytes=%d",
                len(durable.readings),
                len(durable.quarantine),
                self._spool.pending,
                self._spool.size_bytes,
            )
        if self._held_since is not None:
            log.info("event=backpressure_released held_s=%.1f", time.monotonic() - self._held_since)
            self._held_since = None
        self._settle(batch)
        return True

    def _settle(self, batch: Batch) -> None:
        """After a batch is durable: the people counters' totals saved, its rejections counted."""
        if batch.counter_totals is not None:
            self._save_totals(batch.counter_totals)
        if batch.reasons:
            self.counters.count_quarantined(batch.reasons)

    def _commit_guarded(self, batch: Batch) -> bool:
        """`_commit`, with the collector's own failures caught: when committing the batch
        whole fails (a bug, not the store being away), it is committed message by message, and
        a message that still fails POISON_ATTEMPTS times is set aside, so the rest flows."""
        try:
            return self._commit(batch)
        except Exception as exc:
            self.counters.count_error()
            log.error(
                "event=writer_failed_batch messages=%d mids=%s error=%s "
                "note=committing message by message",
                len(batch.messages),
                ",".join(str(m.mid) for m in batch.messages[:50]),
                storable(repr(exc), 300),
                exc_info=True,
            )
        start_readings = start_quarantine = 0
        for item, (end_readings, end_quarantine) in zip(batch.messages, batch.spans, strict=True):
            part = Batch(
                messages=[item],
                readings=batch.readings[start_readings:end_readings],
                quarantine=batch.quarantine[start_quarantine:end_quarantine],
            )
            start_readings, start_quarantine = end_readings, end_quarantine
            if not self._commit_one(part):
                return False  # held (store away, spool full): the whole batch is tried again
        self._settle(batch)
        return True

    def _commit_one(self, part: Batch) -> bool:
        item = part.messages[0]
        error: Exception | None = None
        for _ in range(POISON_ATTEMPTS):
            try:
                return self._commit(part)
            except Exception as exc:
                error = exc
        self.counters.count_error()
        log.error(
            "event=message_set_aside mid=%d topic=%s message=%s attempts=%d error=%s",
            item.mid,
            storable(item.topic, 200),
            message_digest(item.topic, item.payload),
            POISON_ATTEMPTS,
            storable(repr(error), 300),
        )
        detail = f"the collector failed {POISON_ATTEMPTS} times on this message: {error!r}"
        records = records_for(
            item.topic, item.payload, item.received_ms, [Rejection(COLLECTOR_ERROR, detail)]
        )
        aside = Batch(messages=[item], quarantine=records)
        aside.reasons[COLLECTOR_ERROR] += 1
        try:
            return self._commit(aside)
        except Exception as exc:  # not even that: acknowledged all the same, and said
            self.counters.count_quarantine_unrecorded(1)
            log.error(
                "event=quarantine_unrecorded mid=%d message=%s error=%s",
                item.mid,
                message_digest(item.topic, item.payload),
                storable(repr(exc), 300),
            )
            return True

    def _save_totals(self, totals: dict[str, tuple[int, float]]) -> None:
        """Save the people counters' totals. A full disk (or any OSError) is reported once per
        episode and counted; ingest goes on while the store answers (the totals in memory stay
        right; only a crash before the next successful save could count some passages again)."""
        try:
            self._totals_file.save(totals)
        except OSError as exc:
            self.counters.count_state_unsaved()
            if not self._totals_unsaved:
                log.error(
                    "event=counter_totals_unsaved path=%s error=%s "
                    "note=ingest goes on; saved again with the next commit",
                    self._totals_file.path,
                    storable(str(exc), 300),
                )
            self._totals_unsaved = True
            return
        if self._totals_unsaved:
            log.info("event=counter_totals_saved path=%s", self._totals_file.path)
        self._totals_unsaved = False

    def _prune_quarantine(self) -> bool:
        """Delete quarantine records older than the retention; True when done (or not due)."""
        days = self.settings.quarantine_retention_days
        if not days:
            return True
        store = self._available_store()
        if store is None:
            return False
        before_ms = int(time.time() * 1000) - days * 86_400_000
        try:
            store.prune_quarantine(before_ms)
        except StoreError as exc:
            log.warning("event=quarantine_not_pruned error=%s", storable(str(exc), 300))
            return False
        return True

    def _hold(self, reason: str, details: str) -> None:
        """Back-pressure: the batch can be made durable nowhere, so nothing is acknowledged;
        the broker stops sending when our in-flight window fills and keeps the rest. Said once
        per episode."""
        if self._held_since is None:
            self._held_since = time.monotonic()
            log.warning(
                "event=backpressure reason=%s %s "
                "note=not acknowledging until the store answers; the broker keeps the rest",
                reason,
                details,
            )

    def _write(self, store: Store, batch: SpooledBatch) -> None:
        self._count_written(batch.readings, self._write_to(store, batch))

    @staticmethod
    def _write_to(store: Store, batch: SpooledBatch) -> Written:
        """The store's part of writing a batch (in the writer thread, or one writing beside it):
        the readings, then its quarantine records and those of readings the store refused."""
        new, refused = write_sorting_out_refused(store, batch.readings)
        refused_at_ms = int(time.time() * 1000)
        unrecorded = write_quarantine_carefully(
            store, [*batch.quarantine, *refused_records(refused, refused_at_ms)]
        )
        return Written(new, refused, unrecorded)

    def _count_written(self, readings: Sequence[Reading], written: Written) -> None:
        new, refused, unrecorded = written.new, written.refused, written.unrecorded
        if unrecorded:
            self.counters.count_quarantine_unrecorded(unrecorded)
        refused_count = sum(len(group) for group, _ in refused)
        total = len(readings) - refused_count
        if new is None:  # InfluxDB cannot tell new from already stored
            self.counters.count_stored(total)
        else:
            self.counters.count_stored(new, duplicates=total - new)
        if refused:
            self.counters.count_quarantined(Counter({STORE_REJECTED: refused_count}))
            log.warning(
                "event=store_refused_readings readings=%d reason=%s error=%r",
                refused_count,
                STORE_REJECTED,
                refused[0][1],
            )

    def _replay(self, store: Store) -> None:
        def commit(batch: SpooledBatch) -> None:
            self._write(store, batch)
            self.counters.count_replayed(len(batch.readings))

        pending = self._spool.pending
        batches, readings = self._spool.replay(commit)
        log.info("event=spool_replayed batches=%d of=%d readings=%d", batches, pending, readings)

    def _replay_when_due(self) -> None:
        store = self._available_store()
        if store is None:
            return
        try:
            self._replay_guarded(store)
        except StoreUnavailable as exc:
            self._note_store_down(exc)

    def _replay_guarded(self, store: Store) -> None:
        """Replay the spool; a failure of the collector's own (not the store being away) keeps
        the spool as it is, is said and counted, and is tried again after REPLAY_RETRY_S while
        new batches go on."""
        if time.monotonic() < self._replay_retry_at:
            return
        try:
            self._replay(store)
        except StoreUnavailable:
            raise
        except Exception as exc:
            self.counters.count_error()
            self._replay_retry_at = time.monotonic() + REPLAY_RETRY_S
            log.error(
                "event=spool_replay_failed spool_batches=%d error=%s retry_in_s=%d",
                self._spool.pending,
                storable(repr(exc), 300),
                REPLAY_RETRY_S,
                exc_info=True,
            )

    def _available_store(self) -> Store | None:
        """The store, opened on first use. None while it is down: after a failure it is tried
        again only when its backoff has passed, so a dead store does not slow every batch."""
        if self._store is not None and not self._store_down:
            return self._store
        if time.monotonic() < self._store_retry_at:
            return None
        try:
            if self._store is None:
                self._store = open_collector_store(self.settings, self._sensor_tags)
            else:
                self._store.ping()
        except StoreUnavailable as exc:
            self._note_store_down(exc)
            return None
        if self._store_down:
            log.info("event=store_back store=%s", _redacted_store(self.settings))
        self._store_down = False
        self._store_backoff.reset()
        return self._store

    def _sensor_tags(self, sensor_id: str) -> dict[str, str]:
        return self._registry.sensor_tags(sensor_id)  # follows registry reloads

    def _note_store_down(self, exc: StoreUnavailable) -> None:
        delay = self._store_backoff.next_delay()
        self._store_retry_at = time.monotonic() + delay
        if not self._store_down:
            log.warning("event=store_unavailable error=%r retry_in_s=%.1f", str(exc), delay)
        self._store_down = True

    def _acknowledge(self, batch: Batch) -> None:
        for message in batch.messages:
            if message.qos:
                self._acks.put((message.connection, message.mid, message.qos))
        lag = time.monotonic() - batch.messages[0].received_at
        self.counters.count_acknowledged(len(batch.messages), lag)

    def _write_counters(self) -> None:
        """Log a status line and write the counters to the store (unless it is away)."""
        snapshot = self.counters.snapshot()
        log.info(
            "event=status received=%d stored=%d quarantined=%d duplicates=%d spooled=%d "
            "replayed=%d acknowledged=%d lag_s=%.2f spool_batches=%d store=%s",
            snapshot.received,
            snapshot.stored,
            snapshot.quarantined,
            snapshot.duplicates,
            snapshot.spooled,
            snapshot.replayed,
            snapshot.acknowledged,
            snapshot.lag_s,
            self._spool.pending,
            "down" if self._store_down else "up",
        )
        if self._store is None or self._store_down:
            return
        points = snapshot.points(self.settings.client_id, int(time.time() * 1000))
        try:
            self._store.write_points(points)
        except StoreError as exc:
            log.warning("event=counters_not_written error=%r", str(exc))

    def _reload_registry(self) -> None:
        """SIGHUP: swap in the new registry; an invalid one is refused and the old one kept."""
        try:
            registry = load_registry(self.settings.registry)
        except (FloorwatchError, OSError) as exc:
            log.error(
                "event=registry_reload_refused error=%r keeping=%s",
                str(exc),
                self._registry.content_hash[:12],
            )
            return
        self._registry = registry
        self._catalog = SensorCatalog(registry)
        forget = getattr(self._store, "forget_sensor_tags", None)
        if forget is not None:  # InfluxDB keeps location tags with each reading
            forget()
        log.info(
            "event=registry_reloaded registry=%s sensors=%d",
            registry.content_hash[:12],
            len(self._catalog.ranges),
        )
