"""A webhook on loopback, as Slack, Discord or a user's endpoint would receive the actor's
alerts: it records every POST and answers with the statuses it is told to, in turn."""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

from loopback_receiver import LoopbackReceiver

# In the path, as real webhook URLs carry their token: what must never be logged or stored.
TOKEN = "T0KEN-4f9c2e7a-never-logged"


class WebhookReceiver(LoopbackReceiver):
    """A loopback webhook; ``answers`` are the statuses of the next POSTs, 200 after them."""

    def __init__(self, *answers: int) -> None:
        super().__init__()
        self.answers: deque[int] = deque(answers)
        self.bodies: list[Any] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.origin}/hooks/{TOKEN}"

    def reply(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Record a POST and answer it with the next status."""
        with self._lock:
            status = self.answers.popleft() if self.answers else 200
            self.bodies.append(json.loads(body or b"null"))
            self.statuses.append(status)
        # No wait before the next attempt: the actor's backoff obeys Retry-After.
        return status, {"Retry-After": "0"}, b"ok"
