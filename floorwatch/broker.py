"""The embedded MQTT broker (amqtt) for the one-command demo: nothing to install.

amqtt speaks MQTT 3.1.1 only, so clients of the embedded broker fall back from MQTT 5 to 3.1.1
(`MqttTarget.protocol_v5` is False): a persistent session there is `clean_session=False`. It
keeps no messages across its own restarts; production uses Mosquitto (deploy/mosquitto/).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from types import TracebackType

from floorwatch.errors import BrokerError

log = logging.getLogger(__name__)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """An amqtt broker on its own thread and event loop. Use as a context manager.

    Example: ``with EmbeddedBroker() as broker: url = broker.url``
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port or _free_port(host)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._broker: object | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}?protocol=3.1.1"

    def _run(self) -> None:
        from amqtt.broker import Broker

        asyncio.set_event_loop(self._loop)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        try:
            broker = Broker(config, loop=self._loop)
            self._loop.run_until_complete(broker.start())
            self._broker = broker
        except Exception as exc:  # amqtt raises its own and OSError types
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(broker.shutdown())
        self._loop.close()

    def start(self) -> EmbeddedBroker:
        # amqtt logs every client connection at INFO: keep the demo's output readable.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self._thread.start()
        if not self._ready.wait(15) or self._error is not None:
            raise BrokerError(
                f"embedded broker could not listen on {self.host}:{self.port}: {self._error}"
            ) from self._error
        log.info("embedded MQTT broker (amqtt, MQTT 3.1.1) on %s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
