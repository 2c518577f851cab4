"""Telegram's Bot API on loopback, as far as the actor's alerts use it: ``sendMessage`` (JSON)
and ``sendPhoto`` (multipart). It checks the bot's token in the path and Telegram's limits on
text and captions, records every call, and answers as it is told to, in turn: ok, flood
control (429 with ``retry_after``), or a refusal such as 400 or 403. The group
``MIGRATED_CHAT_ID`` became the supergroup ``CHAT_ID``: a call to it is refused with
``migrate_to_chat_id``, as Telegram refuses a group's old id."""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from loopback_receiver import LoopbackReceiver

# Shaped as @BotFather's tokens are, so that what redacts a real one is tested on it.
TOKEN = "123456789:AAF-l00pback_secret-never-logged"
CHAT_ID = "-1001234567890"
# A group that became the supergroup CHAT_ID: Telegram refuses it and names the new id.
MIGRATED_CHAT_ID = "-4009876543"
MAX_TEXT_CHARS = 4096
MAX_CAPTION_CHARS = 1024


@dataclass(frozen=True)
class Answer:
    """How the receiver answers one call: Telegram's status, description and, for flood
    control, the seconds to wait."""

    status: int = 200
    description: str = ""
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None


OK = Answer()
BLOCKED = Answer(403, "Forbidden: bot was blocked by the user")
CHAT_NOT_FOUND = Answer(400, "Bad Request: chat not found")


def flood(retry_after: int) -> Answer:
    """Flood control, asking for a wait of ``retry_after`` seconds."""
    return Answer(429, f"Too Many Requests: retry after {retry_after}", retry_after)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart call."""

    filename: str | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Call:
    """One call as it arrived, and the status it was answered with."""

    method: str
    token: str
    fields: dict[str, Any]  # the JSON body, or the form's text fields
    files: dict[str, Upload] = field(default_factory=dict)
    status: int = 200


class TelegramReceiver(LoopbackReceiver):
    """A loopback Bot API; ``answers`` answer the next calls that reach a method with the
    right token, ok after them."""

    def __init__(self, *answers: Answer) -> None:
        super().__init__()
        self.answers: deque[Answer] = deque(answers)
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The API's base URL, as ``TELEGRAM_API_BASE_URL`` takes it."""
        return self.origin

    def sent(self, method: str) -> list[Call]:
        """The calls of ``method`` that were taken."""
        return [call for call in self.calls if call.method == method and call.status == 200]

    def reply(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Record a call and answer it: with the next answer, or Telegram's refusal."""
        status, answer = self._answer(path, content_type, body)
        return status, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    def _answer(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        token, _, method = path.removeprefix("/bot").partition("/")
        method = method.lower()  # Telegram's method names ignore case
        fields, files = _read(content_type, body)
        with self._lock:
            if not path.startswith("/bot") or token != TOKEN:
                answer = Answer(401, "Unauthorized")
            elif method not in ("sendmessage", "sendphoto"):
                answer = Answer(404, "Not Found")
            else:
                answer = _refusal(method, fields, files) or (
                    self.answers.popleft() if self.answers else OK
                )
            self.calls.append(Call(method, token, fields, files, answer.status))
        if answer.status == 200:
            return 200, {"ok": True, "result": {"message_id": len(self.calls), "chat": {}}}
        refused: dict[str, Any] = {
            "ok": False,
            "error_code": answer.status,
            "description": answer.description,
        }
        parameters = {
            "retry_after": answer.retry_after,
            "migrate_to_chat_id": answer.migrate_to_chat_id,
        }
        if any(value is not None for value in parameters.values()):
            refused["parameters"] = {k: v for k, v in parameters.items() if v is not None}
        return answer.status, refused


def _refusal(method: str, fields: dict[str, Any], files: dict[str, Upload]) -> Answer | None:
    """Telegram's own refusal of a call that breaks its rules, if it does."""
    message = method == "sendmessage"
    text = str(fields.get("text" if message else "caption") or "")
    broken = {
        "chat_id is empty": "chat_id" not in fields,
        "message text is empty": message and not text,
        "message is too long": message and len(text) > MAX_TEXT_CHARS,
        "there is no photo in the request": not message and "photo" not in files,
        "message caption is too long": not message and len(text) > MAX_CAPTION_CHARS,
    }
    problem = next((problem for problem, found in broken.items() if found), None)
    if problem:
        return Answer(400, f"Bad Request: {problem}")
    if str(fields.get("chat_id")) == MIGRATED_CHAT_ID:
        upgraded = "Bad Request: group chat was upgraded to a supergroup chat"
        return Answer(400, upgraded, migrate_to_chat_id=int(CHAT_ID))
    return None


def _read(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Upload]]:
    """A call's fields and file parts: a JSON body, or a multipart form."""
    if content_type.startswith("application/json"):
        loaded = json.loads(body or b"null")
        return (loaded if isinstance(loaded, dict) else {}), {}
    if not content_type.startswith("multipart/form-data"):
        return {}, {}
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            files[name] = Upload(part.get_filename(), part.get_content_type(), content)
        else:
            fields[name] = content.decode()
    return fields, files
