"""Text that came from a device (topics, names, values, payloads), made safe to keep and show.

A device can send any byte sequence, and `json.loads` turns ``"\\ud800"`` into a lone surrogate
that no UTF-8 encoder takes: SQLite, the InfluxDB line protocol, log files and JSON answers
would all fail on it. Everything the collector records about a rejected message goes through
`storable` (for text) or `payload_text` (for the raw payload) first. Both are for the reject
path only: valid readings never carry device text (their sensor id and kind come from the
registry).

What is replaced, always with a visible escape so a technician can still see what was sent:
- lone surrogates (U+D800..U+DFFF) -> ``\\udXXX``
- C0 and C1 control characters, NUL included (but not tab, line feed and carriage return in
  payloads, which JSON allows as whitespace) -> ``\\xNN`` or ``\\u00NN``
- bidirectional overrides and isolates and the zero-width marks (U+200B..U+200F,
  U+202A..U+202E, U+2066..U+2069, U+FEFF), which make a shown text read differently from what
  it is (Unicode Technical Report 36, "Bidirectional Text Spoofing") -> ``\\uXXXX``
- bytes that are not UTF-8 (also overlong forms and encoded surrogates) -> ``\\xNN``

`storable` cuts text to a limit in characters, with a marker saying how much was cut.
"""

from __future__ import annotations

import re

# Escaped in every field; in payloads tab, LF and CR are kept (JSON whitespace).
_SPOOFING_AND_SURROGATES = r"\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff"
_UNSAFE = re.compile(rf"[\x00-\x1f{_SPOOFING_AND_SURROGATES}]")
_UNSAFE_IN_PAYLOAD = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f{_SPOOFING_AND_SURROGATES}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def storable(text: str, limit: int = 1_000) -> str:
    """`text` with every character that cannot be stored or shown safely escaped, cut to `limit`
    characters (of the original) plus a marker. The result always encodes as UTF-8."""
    return _UNSAFE.sub(_escape, _cut(text, limit))


def payload_text(payload: bytes, limit: int) -> str:
    """The first `limit` bytes of a raw payload as storable text (no marker: the record's size
    says it was cut): bytes that are not UTF-8 become ``\\xNN``, other unsafe characters are
    escaped as in `storable`."""
    text = payload[:limit].decode("utf-8", errors="backslashreplace")
    return _UNSAFE_IN_PAYLOAD.sub(_escape, text)
