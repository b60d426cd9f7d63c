"""Wire formats: each sensor's reports as MQTT messages (topic, JSON text), as the collector
decodes them (the README's "The sensor protocol"; SenML is RFC 8428, the LoRaWAN events those of
ChirpStack v4's and The Things Stack v3's MQTT integrations, as their documentation defines them).

- native: topic `floorwatch/up/{sensor_id}`, `{"ts": <epoch s>, "kind": "moisture", "value":
  12.3, "seq": 42}`, one message per reading; with `batch` > 1 `{"readings": [...]}`.
- SenML (RFC 8428): same topic, a JSON array; the record name `n` is the kind, `bt` the base
  time (epoch s), later records of a pack carry `t` relative to it: `[{"bt": 1790000000, "n":
  "moisture", "u": "%", "v": 12.3}]`.
- ChirpStack v4 up event: topic `application/{app}/device/{devEui}/event/up`, camelCase, zero
  values left out, decoded fields in `object`, `time` RFC 3339.
- The Things Stack v3 uplink: topic `v3/{app}@{tenant}/devices/eui-{devEui}/up`,
  `uplink_message.decoded_payload`, `received_at` RFC 3339 with nanoseconds,
  `end_device_ids.dev_eui` in upper case as TTS writes it.

LoRaWAN sensors (with `lorawan` in the registry) publish through their municipality's network
server (scenario `formats.lorawan_network`); their decoded fields are the registry's field
mapping inverted: value = (sum of fields) x scale + offset, so a field = (value - offset) /
scale, rounded to an integer for integer fields (waterleak 0..255, battery, counters). A
cumulative mapping (people counter) sends running totals `total_in`/`total_out` that wrap at
`counter_max`, with the per-report `period_in`/`period_out` beside them as the VS350 decoder does.
A LoRaWAN sensor whose mapping the simulator cannot invert (value maps, nested paths, source
units, logged records: `FieldMapping.plain` is false) sends native messages (SenML at
`senml_schools`) instead, as a gateway bridge would; its own decoder output is tested in
tests/ingest with the vendors' documented examples.
"""

from __future__ import annotations

import base64
import json
import zlib
from json.encoder import encode_basestring
from typing import Literal

import numpy as np

from floorwatch.readings import Kind
from floorwatch.registry.model import SensorPlace
from floorwatch.registry.schema import FieldMapping
from simulators.scenario import Scenario
from simulators.sensors import SensorSeries

Format = Literal["native", "senml", "chirpstack", "tts"]

SENML_UNITS = {
    Kind.MOISTURE: "%",
    Kind.FOOTFALL: "count",
    Kind.TEMPERATURE: "Cel",
    Kind.HUMIDITY: "%RH",
    Kind.BATTERY: "%EL",
}
INTEGER_KINDS = {Kind.FOOTFALL}
INTEGER_FIELDS = {"waterleak", "battery", "vdd", "pulseAbs", "humidity"}
BYTE_FIELDS = {"waterleak"}


def format_of(place: SensorPlace, scenario: Scenario) -> Format:
    """Which wire format a sensor uses (module docstring)."""
    formats = scenario.formats
    if place.sensor.lorawan is not None and all(m.plain for m in place.sensor.lorawan.mappings):
        return formats.lorawan_network.get(place.school.municipality, formats.default_network)
    return "senml" if place.school.id in formats.senml_schools else "native"


def topic_of(place: SensorPlace, scenario: Scenario) -> str:
    formats = scenario.formats
    kind = format_of(place, scenario)
    lorawan = place.sensor.lorawan
    if kind == "chirpstack" and lorawan is not None:
        return f"application/{formats.chirpstack_application}/device/{lorawan.dev_eui}/event/up"
    if kind == "tts" and lorawan is not None:
        return f"v3/{formats.tts_application}@{formats.tts_tenant}/devices/eui-{lorawan.dev_eui}/up"
    return f"floorwatch/up/{place.sensor.id}"


def _numbers(values: np.ndarray, integer: bool) -> list[str]:
    if integer:
        return [str(v) for v in values.astype(np.int64).tolist()]
    return [repr(v) for v in values.tolist()]


def link_quality(salt: int, seq: np.ndarray) -> tuple[list[int], list[float]]:
    """Plausible rssi (dBm) and snr (dB) per uplink, a deterministic function of the sensor and
    its frame counter (no random state, so any slice of the stream gives the same values)."""
    mixed = (seq.astype(np.uint64) * np.uint64(2654435761) + np.uint64(salt)) % np.uint64(1 << 32)
    u = mixed.astype(np.float64) / float(1 << 32)
    rssi = np.round(-104.0 + 14.0 * u).astype(np.int64)
    snr = np.round(9.5 - 8.0 * ((u * 7.0) % 1.0), 1)
    return rssi.tolist(), snr.tolist()


def rfc3339(seconds: np.ndarray) -> list[str]:
    """Epoch seconds as RFC 3339 UTC strings ('2026-10-01T06:05:12Z')."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return [f"{t}Z" for t in text.tolist()]


def lorawan_fields(
    place: SensorPlace, series: SensorSeries, rows: slice
) -> dict[str, list[float | int]]:
    """The decoded fields of each uplink, per field name (the registry mapping inverted)."""
    lorawan = place.sensor.lorawan
    assert lorawan is not None
    fields: dict[str, list[float | int]] = {}
    for mapping in lorawan.mappings:
        kind = str(mapping.kind)
        if kind not in series.values:
            continue
        if mapping.cumulative:
            fields.update(_counter_fields(mapping, series, rows))
            continue
        raw = (series.values[kind][rows] - mapping.offset) / mapping.scale
        first = mapping.fields[0]
        if first in INTEGER_FIELDS or kind in INTEGER_KINDS:
            raw = np.round(raw)
            if first in BYTE_FIELDS:
                raw = np.clip(raw, 0, 255)
            fields[first] = raw.astype(np.int64).tolist()
        else:
            fields[first] = np.round(raw, 1).tolist()
        for other in mapping.fields[1:]:  # a sum of fields: the others read zero
            fields[other] = [0] * len(fields[first])
    return fields


def _counter_fields(
    mapping: FieldMapping, series: SensorSeries, rows: slice
) -> dict[str, list[float | int]]:
    wrap = mapping.counter_max or 2**32
    total_in = series.totals["in"][rows] % wrap
    total_out = series.totals["out"][rows] % wrap
    result: dict[str, list[float | int]] = {}
    if len(mapping.fields) >= 2:
        result[mapping.fields[0]] = total_in.tolist()
        result[mapping.fields[1]] = total_out.tolist()
        for name in mapping.fields[2:]:
            result[name] = [0] * len(total_in)
    else:
        result[mapping.fields[0]] = (
            (series.totals["in"][rows] + series.totals["out"][rows]) % wrap
        ).tolist()
    if any(name.startswith("total_") for name in mapping.fields):
        before = slice(max((rows.start or 0) - 1, 0), rows.stop)
        for direction in ("in", "out"):
            totals = series.totals[direction][before]
            period = np.diff(totals, prepend=totals[:1])
            result[f"period_{direction}"] = period[len(period) - len(total_in) :].tolist()
    return result


class Encoder:
    """Turns one sensor's reports into messages. `batch` applies to native and SenML only."""

    def __init__(self, place: SensorPlace, scenario: Scenario):
        self.place = place
        self.scenario = scenario
        self.format: Format = format_of(place, scenario)
        self.topic = topic_of(place, scenario)
        self.batch = scenario.formats.batch if self.format in ("native", "senml") else 1
        self._id_hash = zlib.crc32(place.sensor.id.encode())

    def message_times(self, series: SensorSeries) -> np.ndarray:
        """When each message is sent (epoch s): at its last report. One message per report,
        or per `batch` reports; native single readings of several kinds go one per kind."""
        last = np.minimum(np.arange(self.batch, len(series) + self.batch, self.batch), len(series))
        return series.sent_s[last[: -(-len(series) // self.batch)] - 1]

    def encode(
        self, series: SensorSeries, first: int, last: int, times: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[str]]:
        """(send times, payloads) of messages first..last-1 (indices into `times`, the
        sensor's message_times, computed here when not given)."""
        rows = slice(first * self.batch, min(last * self.batch, len(series)))
        if self.format == "native":
            payloads = self._native(series, rows)
        elif self.format == "senml":
            payloads = self._senml(series, rows)
        elif self.format == "chirpstack":
            payloads = self._chirpstack(series, rows)
        else:
            payloads = self._tts(series, rows)
        sent = (self.message_times(series) if times is None else times)[first:last]
        if len(payloads) != len(sent):  # native: one message per kind and report
            sent = np.repeat(sent, len(payloads) // max(len(sent), 1))
        return sent, payloads

    def readings_in(self, series: SensorSeries, first: int, last: int) -> int:
        """How many readings messages first..last-1 carry."""
        rows = min(last * self.batch, len(series)) - first * self.batch
        return max(rows, 0) * len(series.values)

    # --- native -----------------------------------------------------------------------------
    def _stamps(self, series: SensorSeries, rows: slice) -> list[str]:
        """Epoch seconds as JSON numbers, with the series' millisecond tag if it has one."""
        if series.tag_ms:
            return [f"{t}.{series.tag_ms:03d}" for t in series.ts_s[rows].tolist()]
        return [str(t) for t in series.ts_s[rows].tolist()]

    def _native(self, series: SensorSeries, rows: slice) -> list[str]:
        ts = self._stamps(series, rows)
        seq = series.seq[rows].tolist()
        per_kind = []
        for kind, values in series.values.items():
            numbers = _numbers(values[rows], kind in INTEGER_KINDS)
            per_kind.append(
                [
                    f'{{"ts":{t},"kind":"{kind}","value":{v},"seq":{q}}}'
                    for t, v, q in zip(ts, numbers, seq, strict=True)
                ]
            )
        if self.batch == 1:
            if len(per_kind) == 1:
                return per_kind[0]
            return [p for group in zip(*per_kind, strict=True) for p in group]
        records = [r for group in zip(*per_kind, strict=True) for r in group]
        size = self.batch * len(per_kind)
        return [
            '{"readings":[' + ",".join(records[i : i + size]) + "]}"
            for i in range(0, len(records), size)
        ]

    # --- SenML ------------------------------------------------------------------------------
    def _senml(self, series: SensorSeries, rows: slice) -> list[str]:
        ts = series.ts_s[rows].tolist()
        stamps = self._stamps(series, rows)
        kinds = list(series.values)
        numbers = [_numbers(series.values[k][rows], k in INTEGER_KINDS) for k in kinds]
        units = [f',"u":"{SENML_UNITS[k]}"' if k in SENML_UNITS else "" for k in kinds]  # type: ignore[index]
        payloads = []
        for start in range(0, len(ts), self.batch):
            base = ts[start]
            records = []
            for i in range(start, min(start + self.batch, len(ts))):
                for k, kind in enumerate(kinds):
                    if i == start and k == 0:
                        head = f'"bt":{stamps[i]},'
                    elif i == start:
                        head = ""
                    else:
                        head = f'"t":{ts[i] - base},'
                    records.append(f'{{{head}"n":"{kind}"{units[k]},"v":{numbers[k][i]}}}')
            payloads.append("[" + ",".join(records) + "]")
        return payloads

    # --- LoRaWAN ----------------------------------------------------------------------------
    @staticmethod
    def _frm_payloads(fields: dict[str, list[float | int]]) -> list[str]:
        """Compact binary payloads (2 bytes per field, big-endian, x10 for decimals), base64."""
        columns = []
        for values in fields.values():
            array = np.asarray(values)
            if array.dtype.kind == "f":
                array = np.round(array * 10)
            columns.append(array.astype(np.int64) & 0xFFFF)
        raw = np.stack(columns, axis=1).astype(">u2")
        return [base64.b64encode(row.tobytes()).decode() for row in raw]

    def _chirpstack(self, series: SensorSeries, rows: slice) -> list[str]:
        place = self.place
        lorawan = place.sensor.lorawan
        assert lorawan is not None
        fields = lorawan_fields(place, series, rows)
        names = list(fields)
        frm = self._frm_payloads(fields) if len(series.seq[rows]) else []
        times = rfc3339(series.ts_s[rows])
        if series.tag_ms:
            times = [f"{t[:-1]}.{series.tag_ms:03d}Z" for t in times]
        seq = series.seq[rows].tolist()
        rssi, snr = link_quality(self._id_hash, series.seq[rows])
        app = self.scenario.formats.chirpstack_application
        device_info = json.dumps(
            {
                "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
                "tenantName": place.school.municipality,
                "applicationId": app,
                "applicationName": "floorwatch",
                "deviceProfileId": f"{zlib.crc32(b'vs350'):08x}-0000-4000-8000-000000000350",
                "deviceProfileName": "Milesight people counter",
                "deviceName": place.sensor.id,
                "devEui": lorawan.dev_eui,
                "tags": {"school": place.school.id, "entrance": place.entrance.id},
            },
            separators=(",", ":"),
        )
        dev_addr = f"{self._id_hash & 0x01FFFFFF:08x}"
        payloads = []
        for i in range(len(seq)):
            obj = ",".join(f'"{name}":{fields[name][i]}' for name in names)
            counter = f'"fCnt":{seq[i]},' if seq[i] else ""
            dedup = (
                f"{self._id_hash:08x}-{seq[i] & 0xFFFF:04x}-4{(seq[i] >> 16) & 0xFFF:03x}-8000-"
                f"{self._id_hash ^ seq[i]:012x}"
            )
            uplink = (self._id_hash + seq[i]) & 0xFFFF
            payloads.append(
                f'{{"deduplicationId":"{dedup}","time":"{times[i]}","deviceInfo":{device_info},'
                f'"devAddr":"{dev_addr}","adr":true,"dr":5,{counter}"fPort":85,'
                f'"data":"{frm[i]}","object":{{{obj}}},'
                f'"rxInfo":[{{"gatewayId":"a84041ffff1f0001","uplinkId":{uplink},'
                f'"rssi":{rssi[i]},"snr":{snr[i]},"context":"AAAAAA==",'
                f'"metadata":{{"region_config_id":"eu868","region_common_name":"EU868"}}}}],'
                f'"txInfo":{{"frequency":868100000,"modulation":{{"lora":{{"bandwidth":125000,'
                f'"spreadingFactor":7,"codeRate":"CR_4_5"}}}}}}}}'
            )
        return payloads

    def _tts(self, series: SensorSeries, rows: slice) -> list[str]:
        place = self.place
        lorawan = place.sensor.lorawan
        assert lorawan is not None
        formats = self.scenario.formats
        fields = lorawan_fields(place, series, rows)
        names = list(fields)
        frm = self._frm_payloads(fields) if len(series.seq[rows]) else []
        ts = series.ts_s[rows]
        times = [t[:-1] for t in rfc3339(ts)]
        seq = series.seq[rows].tolist()
        rssi, snr = link_quality(self._id_hash, series.seq[rows])
        eui = lorawan.dev_eui.upper()
        device = encode_basestring(f"eui-{lorawan.dev_eui}")
        app = encode_basestring(formats.tts_application)
        dev_addr = f"{self._id_hash & 0x01FFFFFF:08X}"
        # The network server stamps the uplink a fraction of a second after the device sent it;
        # below the millisecond, under half of one, so rounding and truncating to ms agree.
        fraction_ms = self._tts_fraction_ms(series)
        payloads = []
        for i in range(len(seq)):
            decoded = ",".join(f'"{name}":{fields[name][i]}' for name in names)
            received = f"{times[i]}.{fraction_ms:03d}{(seq[i] * 7919) % 500_000:06d}Z"
            gateway_time = f"{times[i]}.{max(fraction_ms - 60, 0):03d}000000Z"
            counter = f'"f_cnt":{seq[i]},' if seq[i] else ""
            ulid = f"01J{self._id_hash:010X}{seq[i]:013X}"
            payloads.append(
                f'{{"end_device_ids":{{"device_id":{device},"application_ids":{{"application_id":{app}}},'
                f'"dev_eui":"{eui}","join_eui":"0000000000000000","dev_addr":"{dev_addr}"}},'
                f'"correlation_ids":["as:up:{ulid}","gs:uplink:{ulid}"],'
                f'"received_at":"{received}","uplink_message":{{"session_key_id":"AYx{self._id_hash:08X}==",'
                f'"f_port":5,{counter}"frm_payload":"{frm[i]}",'
                f'"decoded_payload":{{{decoded}}},"rx_metadata":[{{"gateway_ids":{{"gateway_id":'
                f'"floorwatch-gw-1","eui":"A84041FFFF1F0002"}},"time":"{gateway_time}",'
                f'"timestamp":{(int(ts[i]) * 1_000_000 + fraction_ms * 1000) & 0xFFFFFFFF},'
                f'"rssi":{rssi[i]},"channel_rssi":{rssi[i]},"snr":{snr[i]}}}],'
                f'"settings":{{"data_rate":{{"lora":{{"bandwidth":125000,"spreading_factor":7,'
                f'"coding_rate":"4/5"}}}},"frequency":"868100000"}},"received_at":"{received}",'
                f'"consumed_airtime":"0.061696s"}}}}'
            )
        return payloads

    def received_ms(self, series: SensorSeries, index: int) -> int:
        """The reading time the collector will store for report `index` (ms since epoch)."""
        base = int(series.ts_s[index]) * 1000
        if self.format == "tts":
            return base + self._tts_fraction_ms(series)
        return base + series.tag_ms

    def stored_readings(self, series: SensorSeries) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What a collector stores from this sensor's messages, per kind: (times ms, values).

        The wire format's own effects included: LoRaWAN values pass through the integer fields
        of the mapping (value = field x scale + offset, to 0.001), a people counter's first
        uplink gives no footfall (nothing to subtract), and LoRaWAN uplinks carry rssi and snr.
        """
        offset = self._tts_fraction_ms(series) if self.format == "tts" else series.tag_ms
        times = series.ts_s * 1000 + offset
        lorawan = self.place.sensor.lorawan
        if lorawan is None or self.format not in ("chirpstack", "tts"):
            return {kind: (times, values) for kind, values in series.values.items()}
        stored: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        fields = lorawan_fields(self.place, series, slice(0, len(series)))
        for mapping in lorawan.mappings:
            kind = str(mapping.kind)
            if kind not in series.values:
                continue
            per_field = [np.asarray(fields[name], dtype=np.float64) for name in mapping.fields]
            if mapping.cumulative:  # passages: the increase of the running totals
                wrap = mapping.counter_max or 2**32
                increase = np.sum([np.diff(v) % wrap for v in per_field], axis=0)
                stored[kind] = (times[1:], np.round(increase * mapping.scale + mapping.offset, 3))
            else:
                total = np.sum(per_field, axis=0)
                stored[kind] = (times, np.round(total * mapping.scale + mapping.offset, 3))
        rssi, snr = link_quality(self._id_hash, series.seq)
        stored[str(Kind.RSSI)] = (times, np.asarray(rssi, dtype=np.float64))
        stored[str(Kind.SNR)] = (times, np.asarray(snr, dtype=np.float64))
        return stored

    def _tts_fraction_ms(self, series: SensorSeries) -> int:
        return series.tag_ms or 100 + self._id_hash % 800
