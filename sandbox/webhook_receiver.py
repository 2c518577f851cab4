"""A webhook on loopback, as Slack, Discord or a user's endpoint would receive the actor's
alerts: it records every POST and answers with the statuses it is told to, in turn."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

# In the path, as real webhook URLs carry their token: what must never be logged or stored.
TOKEN = "T0KEN-4f9c2e7a-never-logged"


class WebhookReceiver:
    """A loopback webhook; ``answers`` are the statuses of the next POSTs, 200 after them."""

    def __init__(self, *answers: int) -> None:
        self.answers: deque[int] = deque(answers)
        self.bodies: list[Any] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: a test reads what arrived, not a log of it."""

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                status = receiver.take(body)
                self.send_response(status)
                # No wait before the next attempt: the actor's backoff obeys Retry-After.
                self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/{TOKEN}"

    def take(self, body: Any) -> int:
        """Record a POST and pick its answer."""
        with self._lock:
            status = self.answers.popleft() if self.answers else 200
            self.bodies.append(body)
            self.statuses.append(status)
            return status

    def __enter__(self) -> WebhookReceiver:
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
