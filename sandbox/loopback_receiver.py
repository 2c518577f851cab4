"""What the test receivers of the actor's POSTs share: an HTTP server on loopback, run on its
own thread while its ``with`` block lasts, that hands each POST to ``reply`` and sends back
what ``reply`` says. Each receiver only says how it answers."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class LoopbackReceiver:
    """A loopback server of POSTs; a receiver implements ``reply``."""

    def __init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: a test reads what arrived, not a log of it."""

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                content_type = self.headers.get("Content-Type", "")
                status, headers, body = receiver.reply(
                    self.path, content_type, self.rfile.read(length)
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Polled often, so that a test does not wait half a second for it to stop.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def origin(self) -> str:
        """``http://host:port`` of the server."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reply(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """The status, headers and body that answer one POST."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
