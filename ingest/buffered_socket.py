"""A read buffer under paho-mqtt's socket.

paho reads each packet with at least three `recv` calls (the type byte, each length byte, the
body), so one small message costs three system calls before any of our work. `BufferedSocket`
reads up to 64 kB at a time and hands paho the bytes from memory. It has `pending()`, as paho's
TLS sockets do: paho then reads again without waiting in `select()` while bytes are buffered.
Everything else (send, fileno, close, setblocking) goes to the socket itself.
"""

from __future__ import annotations

import socket
from typing import Any

READ_BYTES = 65_536


class BufferedSocket:
    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._buffer = bytearray()

    def recv(self, size: int) -> bytes:
        buffer = self._buffer
        if not buffer:
            data = self._sock.recv(READ_BYTES)  # BlockingIOError when there is nothing: paho's cue
            if len(data) <= size:
                return data  # b"" when the broker closed the connection
            buffer += data
        out = bytes(buffer[:size])
        del buffer[:size]  # cheap: CPython moves a bytearray's start instead of copying
        return out

    def pending(self) -> int:
        return len(self._buffer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)
