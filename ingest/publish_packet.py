"""The PUBLISH packets the collector receives, read without building MQTT 5 properties.

On an MQTT 5 connection paho builds a `Properties` object for every PUBLISH (its constructor
fills several dicts) and unpacks the property list into it: a third of the interpreter's time at
one reading per message. The collector reads no PUBLISH property, and Mosquitto sends none
unless the publisher set some (the collector asks for no topic aliases and no subscription
identifiers). `plain_publish` reads such a packet, whose property length is the single byte 0,
with the same rules as paho's `decode_publish`; every other packet (properties present, QoS 2,
anything malformed or short) gets None, and paho's own parser handles it as before, so hostile
packets meet the same checks they always did (tests/ingest/test_publish_packet.py compares the
two on generated and hostile packets).
"""

from __future__ import annotations

from typing import NamedTuple


class PlainPublish(NamedTuple):
    """A QoS 0 or 1 PUBLISH without properties: the fields paho's decode_publish gives."""

    dup: bool
    qos: int
    retain: bool
    topic: bytes
    mid: int
    payload: bytes


def plain_publish(command: int, packet: bytes | bytearray) -> PlainPublish | None:
    """The PUBLISH of fixed-header byte `command` and body `packet` (everything after the
    remaining length) on an MQTT 5 connection, or None unless it is QoS 0 or 1 with a property
    length of 0: paho then parses it."""
    qos = (command & 0x06) >> 1
    if qos > 1 or len(packet) < 2:
        return None
    topic_end = 2 + ((packet[0] << 8) | packet[1])
    properties_at = topic_end + 2 if qos else topic_end  # QoS 1 has the packet id first
    if len(packet) <= properties_at or packet[properties_at] != 0:
        return None
    mid = (packet[topic_end] << 8) | packet[topic_end + 1] if qos else 0
    return PlainPublish(
        bool(command & 0x08),
        qos,
        bool(command & 0x01),
        bytes(packet[2:topic_end]),  # paho reads into a bytearray
        mid,
        bytes(packet[properties_at + 1 :]),
    )
