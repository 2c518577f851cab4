"""A loopback imitation of the CoinGlass API v4 for offline tests and demos.

It follows the contract as CoinGlass publishes it, variants included: string
``code`` envelopes, errors delivered with HTTP 200, both shapes of the
aggregated map, every lenient encoding of map rows, and the pair and coin liquidation heatmaps
of every model and range. Standard library only.

In-process use::

    with SandboxServer() as sandbox:
        client.get(f"{sandbox.url}/api/futures/supported-coins",
                   headers={"CG-API-KEY": SandboxServer.PRO_KEY})
        sandbox.add_faults("http_429", Fault("slow", seconds=0.2))

Command line: ``python sandbox/sandbox_server.py [--host H] [--port P] [--latency-ms MS]``
prints one line ``SANDBOX_URL=http://H:P`` once listening and serves until SIGTERM/SIGINT.

Keys (header ``CG-API-KEY``): ``PRO_KEY`` (Professional) opens every endpoint;
``STANDARD_KEY`` (Standard) and ``HOBBY_KEY`` (Hobbyist) get what CoinGlass's plan table gives
their plan (``PLANS``, lowest first): every plan the pair lists, pairs-markets, the
liquidation histories and the subscription (which names the key's plan); Standard and up
coins-markets; Professional alone the maps, heatmaps and max pain. A plan too low gets
``{"code":"401","msg":"Upgrade plan"}`` (HTTP 200). No header: HTTP 200
``{"code":"400","msg":"API key missing."}``; any other key: HTTP 200
``{"code":"400","msg":"Invalid API key provided"}``.
``add_key(key, plan, limit=)`` accepts another key on a plan until ``reset()``, with a
limit of its own where given, as Enterprise keys have.

Ranges: the maps take ``accepted_ranges`` (1d, 7d and 30d, as documented) and answer any other
HTTP 200 ``{"code":"500","msg":"Server Error"}``, as CoinGlass answered live; the heatmaps
take their own eight and answer another with ``{"code":"400",...}``, and answer a range longer
than a young coin's history (``sandbox_data.LISTED_DAYS``) with the same "500" body.

Rate limits: every answered request of a key counts in a sliding window of
``rate_window_secs`` (a minute, as CoinGlass's), whichever process sent it; each answer
carries ``API-KEY-MAX-LIMIT`` (the plan's limit) and ``API-KEY-USE-LIMIT`` (the key's use in
the window, itself included). A request past the limit is answered HTTP 429 and not counted;
``limit_refusals`` counts those answers. ``spend(key, count)`` stands for the key's other
users: that many requests counted now (or when the key's next request arrives), in no request
log. ``meet(count)`` holds the next ``count`` requests until all of them have arrived.

Faults are scripted with ``add_faults`` (queued, consumed one per matching request) or
``set_fault`` (every matching request until cleared). A fault is a kind name, or a
``Fault`` when it takes a parameter:

* ``http_429``: HTTP 429, short text body;
* ``Fault("http_429_retry_after", retry_after=30)``: the same with ``Retry-After``
  (seconds as an int, or an HTTP-date string sent verbatim);
* ``http_500_spring``: HTTP 500 with a Spring-style JSON error body;
* ``http_502_html`` / ``http_503``: an HTML page from the fronting proxy;
* ``http_408``: HTTP 408 with ``{"code":"408",...}``;
* ``reset``: the connection is dropped (TCP RST) without any response;
* ``Fault("slow", seconds=0.5)``: sleep, then answer normally;
* ``truncated_json``: HTTP 200 ``application/json`` envelope cut mid-way;
* ``not_json``: HTTP 200 plain text; ``unknown_shape``: HTTP 200 JSON of no published shape;
* ``upgrade_plan`` (+ ``_success_false``, ``_data_list``, ``_40001``): plan errors;
* ``key_missing``, ``invalid_key_200``, ``invalid_key_401``: key errors;
* ``bad_param``: ``{"code":"400","msg":"symbol is invalid"}``;
* ``endpoint_not_found``: HTTP 404 ``{"code":"404","msg":"Endpoint not found"}``;
* ``empty_map`` / ``Fault("huge_map", rows=50_000)``: a normal answer (key checks
  included) whose map is empty or holds exactly that many rows;
* ``msg_absent``: a normal answer whose success envelope has no ``msg``.

Faults apply to ``/api/`` paths only and come before any key check; ``set_fault(None,
path)`` lifts a permanent one, ``reset()`` lifts all.

``map_variant`` re-encodes every served map (see ``sandbox_data.MAP_VARIANTS``) and
``aggregated_shape`` picks ``merged`` or ``by_instrument`` for the coin map.
``heatmap_variant`` re-encodes every served heatmap (see ``sandbox_heatmaps.HEATMAP_VARIANTS``),
and ``move_market(coin, pct)`` moves a coin's prices, maps, heatmaps and max-pain prices
between two runs.

Liquidation histories (``PAIR_HISTORY_PATH``, ``COIN_HISTORY_PATH``, every plan) answer from
``sandbox_history``: minute by minute liquidations of each pair, plus a burst on the side each
``move_market`` went through at the moment it was made, by CoinGlass's time rules (``start_time``
moved to the next bucket start, ``limit`` at most 1000, an end in the future is now, as read
from ``wall_clock``). An interval below the plan's floor (Hobbyist 4h, Startup 30m) gets
``{"code":"401","msg":"Upgrade plan"}``, a start older than the plan reads is moved to the
earliest one it does. The pair's amounts come as text, the coin's (over the pairs of the
exchanges ``exchange_list`` names) as numbers, as their documentation shows them.

Max pain (``MAX_PAIN_PATH``, Professional) lists every coin but ``sandbox_data.NOT_IN_MAX_PAIN``
in one answer (``sandbox_data.max_pain``), for a ``range`` of ``sandbox_data.MAX_PAIN_RANGES``;
with none it answers for ``24h``, and any other value gets HTTP 200
``{"code":"500","msg":"Server Error"}``, as the coin map answered live for a range it does not
take. ``max_pain_orientation`` places each item's sides: ``live`` (longs below the price, shorts
above; the default), ``docs`` (every item the other way round, as CoinGlass's documentation
sample has it) or ``mixed`` (only ``sandbox_data.MAX_PAIN_MIXED_SWAPPED`` the other way round).

Coins markets (``COINS_MARKETS_PATH``, Standard and up) pages through ``sandbox_data.coins_markets``
(every coin but ``sandbox_data.NOT_IN_COINS_MARKETS``, largest open interest first): ``per_page``
rows (``DEFAULT_PER_PAGE`` when not sent, at most ``MAX_PER_PAGE`` whatever is asked) of page
``page`` (from 1), ``[]`` past the end; a ``per_page`` or ``page`` that is not a whole number
from 1 gets ``{"code":"400","msg":"per_page is invalid"}``. ``exchange_list`` (names as
``supported-exchanges`` spells them, any case, comma-separated, spaces around names ignored)
keeps only those exchanges' share of each coin's open interest and liquidations, and only the
coins they list; names it does not know are ignored. With ``markets_drift`` on, open interest
moves between two answers (the n-th answer since ``reset()`` is drawn with ``drift_step=n``),
so the order shifts and a coin can show on two pages.

Hyperliquid positions (``HYPERLIQUID_POSITIONS_PATH``, Standard and up) page through
``sandbox_positions.positions`` of ``symbol`` (a coin), ``sandbox_positions.PAGE_SIZE`` a page,
largest first: ``current_page`` (from 1, page 1 when not sent) with ``total_pages``, ``[]`` past
the end, and ``total_pages`` 0 for a coin Hyperliquid does not list; a ``current_page`` that is
not a whole number from 1 gets ``{"code":"400","msg":"current_page is invalid"}``. The mark
price moves with ``move_market``. ``pairs-markets`` has the coin's Hyperliquid row, whose open
interest (one side) the positions' notional is a share of.

``requests`` lists what arrived (method, path, decoded query, lower-cased headers); it
lives in memory only, since nothing is ever logged or echoed back.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import signal
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, ClassVar, cast
from urllib.parse import parse_qsl, urlsplit

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # lets the file run as a script and load from any cwd
    sys.path.insert(0, _HERE)

import sandbox_data as data  # noqa: E402
import sandbox_heatmaps as heatmaps  # noqa: E402
import sandbox_history as history  # noqa: E402
import sandbox_positions  # noqa: E402

FAULT_KINDS: frozenset[str] = frozenset(
    {
        "http_429",
        "http_429_retry_after",
        "http_500_spring",
        "http_502_html",
        "http_503",
        "http_408",
        "reset",
        "slow",
        "truncated_json",
        "not_json",
        "unknown_shape",
        "upgrade_plan",
        "upgrade_plan_success_false",
        "upgrade_plan_data_list",
        "upgrade_plan_40001",
        "key_missing",
        "invalid_key_200",
        "invalid_key_401",
        "bad_param",
        "endpoint_not_found",
        "empty_map",
        "huge_map",
        "msg_absent",
    }
)
AGGREGATED_SHAPES: tuple[str, ...] = ("merged", "by_instrument")
# CoinGlass's plans, from the lowest to the highest; a plan reaches every endpoint a lower one does.
PLANS: tuple[str, ...] = ("HOBBYIST", "STARTUP", "STANDARD", "PROFESSIONAL")
# The ranges the maps take, those CoinGlass documents. Any other range (90d, 180d, 365d, 12h, ...)
# is answered HTTP 200 {"code":"500","msg":"Server Error"}, as live calls were.
DEFAULT_RANGES: frozenset[str] = frozenset({"1d", "7d", "30d"})

MAP_PATH = "/api/futures/liquidation/map"
AGGREGATED_MAP_PATH = "/api/futures/liquidation/aggregated-map"
PAIR_HEATMAP_PATH = "/api/futures/liquidation/heatmap"
COIN_HEATMAP_PATH = "/api/futures/liquidation/aggregated-heatmap"
MAX_PAIN_PATH = "/api/futures/liquidation/max-pain"
COINS_MARKETS_PATH = "/api/futures/coins-markets"
HYPERLIQUID_POSITIONS_PATH = "/api/hyperliquid/position"
PAIR_HISTORY_PATH = "/api/futures/liquidation/history"
COIN_HISTORY_PATH = "/api/futures/liquidation/aggregated-history"
# coins-markets rows per page when the query names none, and at most (CoinGlass documents
# neither: a larger per_page gets this many).
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Fault:
    """A scripted misbehaviour; ``retry_after``, ``seconds`` and ``rows`` serve only
    ``http_429_retry_after``, ``slow`` and ``huge_map`` respectively."""

    kind: str
    retry_after: int | str = 1
    seconds: float = 1.0
    rows: int = 50_000

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")

    @classmethod
    def of(cls, fault: Fault | str) -> Fault:
        return fault if isinstance(fault, Fault) else cls(fault)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    received_at: float = 0.0  # time.monotonic(), to measure waits between attempts


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Encoded:
    """An answer's ``data`` already encoded as JSON, sent as it is."""

    json: bytes


@functools.cache
def _encoded_coin_map(symbol: str, range_: str, move: float) -> _Encoded:
    # Encoded once: a coin map is a few hundred kB, and encoding it per request would make the
    # sandbox, not the client, the slow side of a benchmark.
    listed = data.aggregated_map_by_instrument(symbol, range_, move)
    return _Encoded(json.dumps(listed, separators=(",", ":")).encode())


def _json_reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """``payload`` as JSON; an envelope whose ``data`` is already encoded takes it as it is."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(data, _Encoded):
        head = json.dumps({**payload, "data": None}, separators=(",", ":"))
        body = head.removesuffix("null}").encode() + data.json + b"}"
    else:
        body = json.dumps(payload, separators=(",", ":")).encode()
    return Reply(status, body, headers=headers or {})


def _error(
    code: str, msg: str, status: int = 200, headers: dict[str, str] | None = None, **extra: Any
) -> Reply:
    return _json_reply({"code": code, "msg": msg, **extra}, status, headers)


def _proxy_page(status: int, reason: str) -> Reply:
    html = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return Reply(status, html.encode(), "text/html")


_KEY_MISSING = _error("400", "API key missing.")
_INVALID_KEY = _error("400", "Invalid API key provided")
_NOT_FOUND = _error("404", "Endpoint not found", status=404)
_BAD_RANGE = _error("400", "range is invalid")
# What the maps (and the coin map, live) answer for a range they do not take, HTTP 200 like
# every body error.
_SERVER_ERROR = _error("500", "Server Error")

# Faults whose answer does not depend on the request.
_CANNED_FAULTS: dict[str, Reply] = {
    "http_429": Reply(429, b"Too Many Requests", "text/plain"),
    "http_502_html": _proxy_page(502, "Bad Gateway"),
    "http_503": _proxy_page(503, "Service Temporarily Unavailable"),
    "http_408": _error("408", "Request Timeout", status=408),
    "truncated_json": Reply(
        200, b'{"code":"0","msg":"success","data":{"data":{"96935":[[96935,1579370.77,25,nu'
    ),
    "not_json": Reply(200, b"Service is busy, please try again later.", "text/plain"),
    "unknown_shape": _json_reply({"result": "ok", "items": []}),
    "upgrade_plan": _error("401", "Upgrade plan"),
    "upgrade_plan_success_false": _error("401", "Upgrade plan", success=False),
    "upgrade_plan_data_list": _error("401", "Upgrade plan", data=[]),
    "upgrade_plan_40001": _error("40001", "Upgrade plan"),
    "key_missing": _KEY_MISSING,
    "invalid_key_200": _INVALID_KEY,
    "invalid_key_401": _error("401", "Invalid API key provided", status=401),
    "bad_param": _error("400", "symbol is invalid"),
    "endpoint_not_found": _NOT_FOUND,
}


_MEETING_FELL_THROUGH = _proxy_page(503, "Service Temporarily Unavailable")


def _fault_reply(fault: Fault, path: str) -> Reply | None:
    """The whole answer for a fault that replaces one; None if it only alters a normal one."""
    if fault.kind in _CANNED_FAULTS:
        return _CANNED_FAULTS[fault.kind]
    if fault.kind == "http_429_retry_after":
        retry_after = {"Retry-After": str(fault.retry_after)}
        return Reply(429, b"Too Many Requests", "text/plain", retry_after)
    if fault.kind == "http_500_spring":
        timestamp = time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime())
        spring = {"timestamp": timestamp, "status": 500, "error": "Internal Server Error"}
        return _json_reply({**spring, "path": path}, 500)
    return None


def _map_override(fault: Fault | None) -> data.LiqMap | None:
    if fault is None:
        return None
    if fault.kind == "empty_map":
        return {}
    if fault.kind == "huge_map":
        return data.huge_map(fault.rows)
    return None


@dataclass(frozen=True)
class _Call:
    """What an endpoint needs to build its answer once key and parameters are checked."""

    query: dict[str, str]
    key: str
    map_override: data.LiqMap | None  # set by the empty_map and huge_map faults


@dataclass(frozen=True)
class _Endpoint:
    required: tuple[str, ...]
    plan: str  # the lowest plan it answers, as CoinGlass's plan table says
    answer: Callable[[SandboxServer, _Call], Any]  # returns the envelope's "data"
    ranges: frozenset[str] | None = None  # the ranges it takes, when not the maps'
    default_range: str | None = None  # the range it answers for when the query names none
    counts: tuple[str, ...] = ()  # parameters that must be whole numbers from 1 when sent
    bad_range: Reply = _BAD_RANGE  # its answer to a range it does not take
    # Its own refusal of a query, after the plan and required parameters are checked.
    check: Callable[[dict[str, str], str], Reply | None] | None = None

    @property
    def takes_range(self) -> bool:
        return "range" in self.required or self.default_range is not None


def _supported_pairs(_: SandboxServer, call: _Call) -> Any:
    pairs = data.supported_pairs()
    exchange = call.query.get("exchange")
    if not exchange:
        return pairs
    return {exchange: pairs[exchange]} if exchange in pairs else {}


def _pair_map(server: SandboxServer, call: _Call) -> Any:
    liq_map = call.map_override
    if liq_map is None:
        exchange, symbol, range_ = call.query["exchange"], call.query["symbol"], call.query["range"]
        move = server.market_move(data.coin_of(exchange, symbol) or "")
        liq_map = data.liquidation_map(exchange, symbol, range_, move)
    return {"data": data.apply_variant(liq_map, server.map_variant)}


def _aggregated_map(server: SandboxServer, call: _Call) -> Any:
    symbol, range_, override = call.query["symbol"], call.query["range"], call.map_override
    move = server.market_move(symbol)
    if server.aggregated_shape == "merged":
        merged = data.aggregated_map_merged(symbol, range_, move) if override is None else override
        return {"data": data.apply_variant(merged, server.map_variant)}
    if override is None and server.map_variant == "standard":
        encoded = _encoded_coin_map(symbol, range_, move)
        return encoded if encoded.json != b"{}" else {"data": {}}  # unknown coin: an empty map
    listed = data.aggregated_map_by_instrument(symbol, range_, move)
    if not listed:  # unknown coin: upstream answers with an empty map
        return {"data": {}}
    if override is not None:
        first = listed["data"][0]
        listed["data"] = [{**first, "liqMapV2": override}] if override else []
    for item in listed["data"]:
        item["liqMapV2"] = data.apply_variant(item["liqMapV2"], server.map_variant)
    return listed


def _heatmap_answer(model: str, coin_wide: bool) -> Callable[[SandboxServer, _Call], Any]:
    def answer(server: SandboxServer, call: _Call) -> Any:
        query = call.query
        if coin_wide:
            symbol = query["symbol"]
            found = heatmaps.coin_heatmap(symbol, query["range"], model, server.market_move(symbol))
        else:
            exchange, symbol = query["exchange"], query["symbol"]
            move = server.market_move(data.coin_of(exchange, symbol) or "")
            found = heatmaps.pair_heatmap(exchange, symbol, query["range"], model, move)
        if call.map_override == {}:  # the empty_map fault: an empty answer, as model2 has given
            found = heatmaps.empty()
        return heatmaps.encoded(found, server.heatmap_variant)

    return answer


def _young_coin_check(coin_wide: bool) -> Callable[[dict[str, str], str], Reply | None]:
    """A heatmap over more history than its coin has: answered with the "500" body, as
    CoinGlass answered live for young coins' long ranges."""

    def check(query: dict[str, str], plan: str) -> Reply | None:
        coin = query["symbol"] if coin_wide else data.coin_of(query["exchange"], query["symbol"])
        listed = data.LISTED_DAYS.get(coin or "")
        too_long = listed is not None and data.range_days(query["range"]) > listed
        return _SERVER_ERROR if too_long else None

    return check


def _max_pain(server: SandboxServer, call: _Call) -> Any:
    return data.max_pain(call.query["range"], server.market_moves(), server.max_pain_orientation)


def _coins_markets(server: SandboxServer, call: _Call) -> Any:
    query = call.query
    per_page = min(int(query.get("per_page", DEFAULT_PER_PAGE)), MAX_PER_PAGE)
    page = int(query.get("page", 1))
    exchanges = None
    if query.get("exchange_list", "").strip():
        known = {name.lower(): name for name in data.supported_exchanges()}
        named = (name.strip().lower() for name in query["exchange_list"].split(","))
        exchanges = {known[name] for name in named if name in known}
    moves = tuple(sorted(server.market_moves().items()))
    chosen = None if exchanges is None else frozenset(exchanges)
    with _MARKETS_BUILT_ONCE:
        rows = _market_rows(moves, server.next_drift_step(), chosen)
    return rows[(page - 1) * per_page : page * per_page]


# A scan asks for every page at once: the list behind them is built once per market state, as
# the coin maps are, or building it for each page would make the sandbox the slow side.
_MARKETS_BUILT_ONCE = threading.Lock()


@functools.lru_cache(maxsize=64)  # a drifting market is a new state at every answer
def _market_rows(
    moves: tuple[tuple[str, float], ...], drift_step: int, exchanges: frozenset[str] | None
) -> list[dict[str, Any]]:
    return data.coins_markets(dict(moves), drift_step, exchanges)


def _hyperliquid_positions(server: SandboxServer, call: _Call) -> Any:
    coin = call.query["symbol"]
    number = int(call.query.get("current_page", 1))
    return sandbox_positions.page(coin, number, server.market_move(coin))


def _history_check(query: dict[str, str], plan: str) -> Reply | None:
    """The liquidation histories' own refusals: an interval below the plan's floor is
    "Upgrade plan"; an unknown interval, a limit past 1000 or a time that is no number, a 400."""
    interval = query["interval"]
    if interval not in history.INTERVAL_MS:
        return _error("400", "interval is invalid")
    if plan not in history.HISTORY_DAYS[interval]:
        return _error("401", "Upgrade plan")
    limit = query.get("limit", str(history.MAX_LIMIT))
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= history.MAX_LIMIT):
        return _error("400", f"limit must be between 1 and {history.MAX_LIMIT}")
    for name in ("start_time", "end_time"):
        value = query.get(name)
        if value is not None and not (value.isascii() and value.isdigit()):
            return _error("400", f"{name} is invalid")
    return None


def _history_rows(
    server: SandboxServer, call: _Call, coin: str, pairs: list[tuple[str, str]]
) -> list[tuple[int, float, float]]:
    query = call.query
    interval, now_ms = query["interval"], server.now_ms()
    times = history.bucket_times(
        interval,
        server.plan_of(call.key) or "",
        now_ms=now_ms,
        start_ms=int(query["start_time"]) if "start_time" in query else None,
        end_ms=int(query["end_time"]) if "end_time" in query else None,
        limit=int(query.get("limit", history.MAX_LIMIT)),
    )
    return history.history(pairs, interval, times, server.market_move_history(coin), now_ms)


def _pair_history(server: SandboxServer, call: _Call) -> Any:
    exchange, symbol = call.query["exchange"], call.query["symbol"]
    coin = data.coin_of(exchange, symbol)
    if coin is None:
        return []
    return history.pair_rows(_history_rows(server, call, coin, [(exchange, symbol)]))


def _coin_history(server: SandboxServer, call: _Call) -> Any:
    coin = call.query["symbol"]
    named = {name.strip().lower() for name in call.query["exchange_list"].split(",")}
    pairs = [pair for pair in data.pairs_of(coin) if pair[0].lower() in named]
    return history.coin_rows(_history_rows(server, call, coin, pairs))


def _subscription(server: SandboxServer, call: _Call) -> Any:
    return {"level": server.plan_of(call.key), "expired": False}


_ENDPOINTS: dict[str, _Endpoint] = {
    "/api/futures/supported-exchange-pairs": _Endpoint((), "HOBBYIST", _supported_pairs),
    "/api/futures/supported-coins": _Endpoint((), "HOBBYIST", lambda *_: data.supported_coins()),
    "/api/futures/supported-exchanges": _Endpoint(
        (), "HOBBYIST", lambda *_: data.supported_exchanges()
    ),
    "/api/futures/pairs-markets": _Endpoint(
        ("symbol",),
        "HOBBYIST",
        lambda server, call: data.pairs_markets(
            call.query["symbol"], server.market_move(call.query["symbol"])
        ),
    ),
    MAP_PATH: _Endpoint(
        ("exchange", "symbol", "range"), "PROFESSIONAL", _pair_map, bad_range=_SERVER_ERROR
    ),
    AGGREGATED_MAP_PATH: _Endpoint(
        ("symbol", "range"), "PROFESSIONAL", _aggregated_map, bad_range=_SERVER_ERROR
    ),
    "/api/user/account/subscription": _Endpoint((), "HOBBYIST", _subscription),
    PAIR_HISTORY_PATH: _Endpoint(
        ("exchange", "symbol", "interval"), "HOBBYIST", _pair_history, check=_history_check
    ),
    COIN_HISTORY_PATH: _Endpoint(
        ("exchange_list", "symbol", "interval"), "HOBBYIST", _coin_history, check=_history_check
    ),
    MAX_PAIN_PATH: _Endpoint(
        (),
        "PROFESSIONAL",
        _max_pain,
        frozenset(data.MAX_PAIN_RANGES),
        default_range="24h",
        bad_range=_SERVER_ERROR,
    ),
    COINS_MARKETS_PATH: _Endpoint((), "STANDARD", _coins_markets, counts=("per_page", "page")),
    HYPERLIQUID_POSITIONS_PATH: _Endpoint(
        ("symbol",), "STANDARD", _hyperliquid_positions, counts=("current_page",)
    ),
    **{
        f"{PAIR_HEATMAP_PATH}/{model}": _Endpoint(
            ("exchange", "symbol", "range"),
            "PROFESSIONAL",
            _heatmap_answer(model, coin_wide=False),
            frozenset(heatmaps.HEATMAP_RANGES),
            check=_young_coin_check(coin_wide=False),
        )
        for model in heatmaps.HEATMAP_MODELS
    },
    **{
        f"{COIN_HEATMAP_PATH}/{model}": _Endpoint(
            ("symbol", "range"),
            "PROFESSIONAL",
            _heatmap_answer(model, coin_wide=True),
            frozenset(heatmaps.HEATMAP_RANGES),
            check=_young_coin_check(coin_wide=True),
        )
        for model in heatmaps.HEATMAP_MODELS
    },
}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Idle keep-alive connections must not make stop() wait for their threads.
    block_on_close = False
    # socketserver's default backlog of 5 drops connections when many clients arrive at once.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on keep-alive clients so a stopped server really stops answering."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already gone
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-answer are routine here (timeouts, resets under test).
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; Nagle would hold the body for a delayed ACK.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return "nginx"  # what the fronting proxy shows; no Python version leak

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: stdout carries only the URL line, and logs could leak keys."""

    def _receive(self) -> tuple[SandboxServer, RecordedRequest]:
        sandbox = cast(_HTTPServer, self.server).sandbox
        target = urlsplit(self.path)
        request = RecordedRequest(
            self.command,
            target.path,
            dict(parse_qsl(target.query, keep_blank_values=True)),
            {name.lower(): value for name, value in self.headers.items()},
            time.monotonic(),
        )
        sandbox._record(request)
        return sandbox, request

    def do_GET(self) -> None:
        sandbox, request = self._receive()
        with sandbox._in_flight(request.path):
            if not sandbox._met():
                self._send(_MEETING_FELL_THROUGH)
                return
            if sandbox.latency_ms > 0:
                time.sleep(sandbox.latency_ms / 1000)
            fault = sandbox._take_fault(request.path)
            if fault is not None and fault.kind == "reset":
                self._abort()
                return
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.seconds)
            self._send(sandbox._answer(request, fault))

    def _not_allowed(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._receive()
        self._send(_error("405", "Method not allowed", status=405))

    do_POST = do_PUT = do_PATCH = do_DELETE = _not_allowed

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def _abort(self) -> None:
        # Linger 0 makes close() send an RST instead of a graceful FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


class SandboxServer:
    """The sandbox, served from a daemon thread; see the module docstring for behaviour."""

    PRO_KEY = "sandbox-pro-key"
    STANDARD_KEY = "sandbox-standard-key"
    HOBBY_KEY = "sandbox-hobby-key"
    # Requests per minute by plan, as CoinGlass publishes them.
    RATE_LIMITS: ClassVar[dict[str, int]] = dict(zip(PLANS, (30, 80, 300, 1200), strict=True))

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency_ms: float = 0) -> None:
        self.host = host
        self.port = port
        self._default_latency_ms = latency_ms
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._meeting: threading.Barrier | None = None
        self.reset()

    def reset(self) -> None:
        """Forget recorded requests, faults and usage; restore every default."""
        with self._lock:
            if self._meeting is not None:
                self._meeting.abort()  # what it still holds is sent away, not counted
            self._requests: list[RecordedRequest] = []
            self._queued: list[tuple[str | None, Fault]] = []
            self._permanent: dict[str | None, Fault] = {}
            self._usage: dict[str, deque[float]] = {}  # key -> when each counted request came
            self._plans = {
                self.PRO_KEY: "PROFESSIONAL",
                self.STANDARD_KEY: "STANDARD",
                self.HOBBY_KEY: "HOBBYIST",
            }
            self._limits: dict[str, int] = {}  # keys with a limit of their own
            self._spending: dict[str, int] = {}  # spent by others when the key is next used
            self._meeting = None
            self._to_meet = 0
            self._limit_refusals = 0
            self.rate_window_secs = 60.0
            self.clock: Callable[[], float] = time.monotonic  # tests move time without waiting
            self.wall_clock: Callable[[], float] = time.time  # the histories' now, in seconds
            self._busy: dict[str, int] = {}
            self._peaks: dict[str, int] = {}
        self.latency_ms = self._default_latency_ms
        self._market_moves: dict[str, float] = {}
        self._move_history: dict[str, list[history.Move]] = {}
        self._max_pain_orientation = "live"
        self.markets_drift = False
        self._drift_step = 0
        self.accepted_ranges: set[str] = set(DEFAULT_RANGES)
        self._map_variant = "standard"
        self._heatmap_variant = "published"
        self._aggregated_shape = "merged"

    @property
    def map_variant(self) -> str:
        return self._map_variant

    @map_variant.setter
    def map_variant(self, variant: str) -> None:
        if variant not in data.MAP_VARIANTS:
            raise ValueError(f"map_variant must be one of {data.MAP_VARIANTS}")
        self._map_variant = variant

    @property
    def heatmap_variant(self) -> str:
        return self._heatmap_variant

    @heatmap_variant.setter
    def heatmap_variant(self, variant: str) -> None:
        if variant not in heatmaps.HEATMAP_VARIANTS:
            raise ValueError(f"heatmap_variant must be one of {heatmaps.HEATMAP_VARIANTS}")
        self._heatmap_variant = variant

    def move_market(self, coin: str, pct: float) -> None:
        """Move ``coin``'s prices ``pct`` percent from their base (0 moves them back): its
        maps lose the buckets the price has traded through and reshape the rest, and its
        max-pain prices move with it, and its liquidation histories liquidate the side the
        move went through, now."""
        moved = history.Move(self.now_ms(), self.market_move(coin), pct)
        self._move_history.setdefault(coin, []).append(moved)
        self._market_moves[coin] = pct

    def market_move_history(self, coin: str) -> list[history.Move]:
        """Every move of ``coin``'s market since reset(), oldest first."""
        return list(self._move_history.get(coin, []))

    def now_ms(self) -> int:
        """The time the liquidation histories take for now, in ms since the epoch."""
        return int(self.wall_clock() * 1000)

    def market_move(self, coin: str) -> float:
        """How far ``coin`` has been moved from its base, in percent."""
        return self._market_moves.get(coin, 0.0)

    def market_moves(self) -> dict[str, float]:
        """Every coin moved from its base, with how far, in percent."""
        return dict(self._market_moves)

    def next_drift_step(self) -> int:
        """The coins-markets drift step of the answer being built: 0 while ``markets_drift`` is
        off, else 1 for the first answer since reset(), 2 for the next ..."""
        if not self.markets_drift:
            return 0
        with self._lock:
            self._drift_step += 1
            return self._drift_step

    @property
    def max_pain_orientation(self) -> str:
        return self._max_pain_orientation

    @max_pain_orientation.setter
    def max_pain_orientation(self, orientation: str) -> None:
        if orientation not in data.MAX_PAIN_ORIENTATIONS:
            raise ValueError(f"max_pain_orientation must be one of {data.MAX_PAIN_ORIENTATIONS}")
        self._max_pain_orientation = orientation

    @property
    def aggregated_shape(self) -> str:
        return self._aggregated_shape

    @aggregated_shape.setter
    def aggregated_shape(self, shape: str) -> None:
        if shape not in AGGREGATED_SHAPES:
            raise ValueError(f"aggregated_shape must be one of {AGGREGATED_SHAPES}")
        self._aggregated_shape = shape

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            raise RuntimeError("already started")
        self._httpd = _HTTPServer((self.host, self.port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits for at most one poll
            name="sandbox-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("not started")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    # -- scripting -----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def add_faults(self, *faults: Fault | str, path: str | None = None) -> None:
        """Queue faults, each consumed by the next request whose path starts with ``path``
        (any ``/api/`` request when None)."""
        with self._lock:
            self._queued.extend((path, Fault.of(fault)) for fault in faults)

    def set_fault(self, fault: Fault | str | None, path: str | None = None) -> None:
        """Apply ``fault`` to every matching request (after queued ones); None clears it."""
        with self._lock:
            if fault is None:
                self._permanent.pop(path, None)
            else:
                self._permanent[path] = Fault.of(fault)

    # -- request handling (called from handler threads) ----------------------------

    def peak_in_flight(self, path: str) -> int:
        """The most requests to ``path`` that were being answered at the same moment."""
        with self._lock:
            return self._peaks.get(path, 0)

    @contextlib.contextmanager
    def _in_flight(self, path: str) -> Iterator[None]:
        with self._lock:
            self._busy[path] = self._busy.get(path, 0) + 1
            self._peaks[path] = max(self._peaks.get(path, 0), self._busy[path])
        try:
            yield
        finally:
            with self._lock:  # reset() may have forgotten the count meanwhile
                self._busy[path] = max(self._busy.get(path, 1) - 1, 0)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _take_fault(self, path: str) -> Fault | None:
        if not path.startswith("/api/"):
            return None

        def matches(prefix: str | None) -> bool:
            return prefix is None or path.startswith(prefix)

        with self._lock:
            for index, (prefix, fault) in enumerate(self._queued):
                if matches(prefix):
                    del self._queued[index]
                    return fault
            return next((f for p, f in self._permanent.items() if matches(p)), None)

    def add_key(self, key: str, plan: str = "PROFESSIONAL", limit: int | None = None) -> None:
        """Accept another API key on ``plan`` (one of ``RATE_LIMITS``) until reset(), with
        ``limit`` requests per window instead of the plan's when given."""
        if plan not in self.RATE_LIMITS:
            raise ValueError(f"unknown plan {plan!r}")
        with self._lock:
            self._plans[key] = plan
            if limit is not None:
                self._limits[key] = limit

    def plan_of(self, key: str) -> str | None:
        """The plan of a known key, or None."""
        with self._lock:
            return self._plans.get(key)

    @property
    def limit_refusals(self) -> int:
        """How many requests were answered 429 for passing their key's limit."""
        with self._lock:
            return self._limit_refusals

    def spend(self, key: str, count: int, *, on_next_request: bool = False) -> None:
        """Count ``count`` requests of the key's other users in its window: now, or just before
        the key's next request arrives (whenever a process about to start sends it)."""
        with self._lock:
            if on_next_request:
                self._spending[key] = self._spending.get(key, 0) + count
            else:
                self._used(key).extend([self.clock()] * count)

    def meet(self, count: int, timeout_secs: float = 20.0) -> None:
        """Hold each of the next ``count`` requests until all of them have arrived, so that
        processes started together send together, however unevenly they start. A meeting
        that times out or outlives a ``reset()`` sends those it held away with HTTP 503,
        counted nowhere: a client's own timeout is longer than ``timeout_secs``."""
        with self._lock:
            self._meeting = threading.Barrier(count, timeout=timeout_secs)
            self._to_meet = count

    def _met(self) -> bool:
        """Wait for the meeting the request is part of, if any; False when it fell through."""
        with self._lock:
            if self._meeting is None or self._to_meet == 0:
                return True
            meeting = self._meeting
            self._to_meet -= 1
        try:
            meeting.wait()
        except threading.BrokenBarrierError:
            return False
        with self._lock:
            return self._meeting is meeting  # not reset meanwhile

    def limit_of(self, key: str, plan: str) -> int:
        with self._lock:
            return self._limits.get(key, self.RATE_LIMITS[plan])

    def _used(self, key: str) -> deque[float]:
        """The key's counted requests still in the window (the lock held)."""
        used = self._usage.setdefault(key, deque())
        while used and used[0] <= self.clock() - self.rate_window_secs:
            used.popleft()
        return used

    def _count_use(self, key: str, limit: int) -> int | None:
        """The key's use with this request counted, or None when it would pass ``limit``."""
        with self._lock:
            used = self._used(key)
            used.extend([self.clock()] * self._spending.pop(key, 0))
            if len(used) >= limit:
                self._limit_refusals += 1
                return None
            used.append(self.clock())
            return len(used)

    def _refusal(self, endpoint: _Endpoint, query: dict[str, str], plan: str) -> Reply | None:
        """The plan or parameter error owed to an authenticated caller, if any."""
        if PLANS.index(plan) < PLANS.index(endpoint.plan):
            return _error("401", "Upgrade plan")
        missing = [name for name in endpoint.required if not query.get(name)]
        if missing:
            return _error("400", f"{missing[0]} is required")
        for name in endpoint.counts:
            value = query.get(name)
            if value is not None and not (value.isascii() and value.isdigit() and int(value) >= 1):
                return _error("400", f"{name} is invalid")
        if endpoint.takes_range and not self._takes_range(query["range"], endpoint):
            return endpoint.bad_range
        return endpoint.check(query, plan) if endpoint.check is not None else None

    def _takes_range(self, range_: str, endpoint: _Endpoint) -> bool:
        if range_ not in (endpoint.ranges or self.accepted_ranges):
            return False
        try:
            data.range_days(range_)
        except ValueError:  # accepted by configuration but meaningless to the generator
            return False
        return True

    def _answer(self, request: RecordedRequest, fault: Fault | None) -> Reply:
        path, query = request.path, request.query
        key = request.headers.get("cg-api-key", "")
        replaced = None if fault is None else _fault_reply(fault, path)
        if replaced is not None:
            return replaced
        endpoint = _ENDPOINTS.get(path)
        if endpoint is None:
            return _NOT_FOUND
        plan = self.plan_of(key)
        if plan is None:
            return _INVALID_KEY if key else _KEY_MISSING
        limit = self.limit_of(key, plan)
        use = self._count_use(key, limit)
        if use is None:
            return Reply(429, b"Too Many Requests", "text/plain", _limits(limit, limit))
        limits = _limits(limit, use)
        if endpoint.default_range is not None:
            query = {"range": endpoint.default_range, **query}
        refusal = self._refusal(endpoint, query, plan)
        if refusal is not None:
            return Reply(refusal.status, refusal.body, headers=limits)
        payload = endpoint.answer(self, _Call(query, key, _map_override(fault)))
        envelope: dict[str, Any] = {"code": "0", "msg": "success", "data": payload}
        if fault is not None and fault.kind == "msg_absent":
            del envelope["msg"]
        return _json_reply(envelope, headers=limits)


def _limits(limit: int, use: int) -> dict[str, str]:
    return {"API-KEY-MAX-LIMIT": str(limit), "API-KEY-USE-LIMIT": str(use)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the CoinGlass API v4 sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay added per request")
    parser.add_argument(
        "--rate-window-secs", type=float, default=60.0, help="the window keys' limits count in"
    )
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with SandboxServer(args.host, args.port, args.latency_ms) as sandbox:
        sandbox.rate_window_secs = args.rate_window_secs
        print(f"SANDBOX_URL={sandbox.url}", flush=True)
        stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
