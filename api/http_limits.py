"""What the API's HTTP server refuses before any route runs, and the headers every answer gets.

- Request headers are read before authentication, so their size is bounded here: uvicorn's
  httptools parser has no limit of its own (three 64 MB headers to `/health` took the API from
  114 to 376 MiB). Over MAX_HEADER_BYTES the connection gets 431 (RFC 6585 5) and is closed.
- `X-Content-Type-Options: nosniff` on every answer, and on HTML (the docs page, the monthly
  reports) a Content-Security-Policy allowing no scripts, frames, forms or remote content: a
  report shows text that came from the registry and from suppliers' contests.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 32 * 1024  # request line and headers; browsers send a few kB
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"content-length: 47\r\n"
    b"connection: close\r\n\r\n"
    b'{"detail":"request headers larger than 32 KiB"}'
)


class BoundedHeadersProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, counting the bytes of each request until its headers are
    complete. `floorwatch serve` runs uvicorn with it (`http=`)."""

    _header_bytes = 0
    _in_headers = True

    def data_received(self, data: bytes) -> None:
        if self._in_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._in_headers and self._header_bytes > MAX_HEADER_BYTES:
            self.logger.warning("request headers over %d bytes: refused", MAX_HEADER_BYTES)
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_headers, self._header_bytes = True, 0  # the next request on this connection


class SecurityHeaders:
    """ASGI middleware adding nosniff to every answer and the CSP to HTML ones."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
