"""The CoinGlass client against mocked HTTP: envelopes, every published error, retries, limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Self

import httpx
import pytest
import respx
from helpers import MAP_PATH
from pydantic import BaseModel, model_validator

from coinglass_liquidation_map import errors
from coinglass_liquidation_map.coinglass.client import CoinGlassClient
from coinglass_liquidation_map.coinglass.endpoints import COIN_HEATMAP_PATH, Endpoints
from coinglass_liquidation_map.market_data import LiquidationMap
from coinglass_liquidation_map.retry import RetryPolicy

BASE = "https://cg.test"
KEY = "secret-key-123"
MAP_URL = f"{BASE}{MAP_PATH}"
USE = "API-KEY-USE-LIMIT"
PARAMS = {"exchange": "Binance", "symbol": "BTCUSDT", "range": "1d"}
# Enough retries that every attempt number below still gets its delay.
POLICY = RetryPolicy(max_retries=10)


@pytest.fixture
def waits() -> list[float]:
    """The backoffs the client waited, in order; recorded instead of slept."""
    return []


@pytest.fixture
async def client(waits: list[float]) -> AsyncIterator[CoinGlassClient]:
    async def wait(seconds: float) -> None:
        waits.append(seconds)

    async with CoinGlassClient(
        KEY, base_url=BASE, retry=RetryPolicy(max_retries=2), sleep=wait
    ) as cg:
        yield cg


async def fetch(client: CoinGlassClient) -> LiquidationMap:
    return await Endpoints(client).pair_map("Binance", "BTCUSDT", "1d")


MAP_BODY = {
    "code": "0",
    "msg": "success",
    "data": {"data": {"48935": [[48935, 1579370.77, 25, None]]}},
}


@respx.mock
async def test_sends_key_header_and_split_parameters(client: CoinGlassClient) -> None:
    route = respx.get(MAP_URL).respond(json=MAP_BODY)
    payload = await fetch(client)
    request = route.calls.last.request
    assert request.headers["CG-API-KEY"] == KEY
    assert dict(request.url.params) == PARAMS
    assert payload.data == {"48935": [(48935, 1579370.77, 25, None)]}


@respx.mock
@pytest.mark.parametrize(
    "body",
    [
        {"code": "0", "data": {"data": {}}},  # msg absent
        {"code": 0, "msg": "success", "data": {"data": {}}},  # code as a number
        {"code": "0", "msg": "success", "data": {}},  # an empty object for the map
        {"code": "0", "msg": "success", "data": None},
        {"code": "0", "msg": "success", "data": {"data": None}},
    ],
)
async def test_accepts_envelope_variants(client: CoinGlassClient, body: object) -> None:
    respx.get(MAP_URL).respond(json=body)
    assert (await fetch(client)).data == {}


ERROR_CASES = [
    # (status, body, error class, upstream code)
    (200, {"code": "401", "msg": "Upgrade plan"}, errors.PlanTooLow, "401"),
    (200, {"code": "401", "msg": "Upgrade plan", "success": False}, errors.PlanTooLow, "401"),
    (200, {"code": "401", "msg": "Upgrade plan", "data": []}, errors.PlanTooLow, "401"),
    (200, {"code": "40001", "msg": "Upgrade plan"}, errors.PlanTooLow, "40001"),
    (200, {"code": "400", "msg": "API key missing."}, errors.InvalidApiKey, "400"),
    (401, {"code": "400", "msg": "API key missing."}, errors.InvalidApiKey, "400"),
    (200, {"code": "400", "msg": "Invalid API key provided"}, errors.InvalidApiKey, "400"),
    (401, {"code": "401", "msg": "Invalid API key provided"}, errors.InvalidApiKey, "401"),
    (401, "", errors.InvalidApiKey, "401"),
    (200, {"code": "400", "msg": "range is invalid"}, errors.InvalidParameter, "400"),
    (404, {"code": "404", "msg": "Endpoint not found"}, errors.EndpointNotFound, "404"),
    (200, {"code": "0", "msg": "success", "data": [1, 2]}, errors.BadResponse, "200"),
    (200, {"result": "ok", "items": []}, errors.BadResponse, "200"),
    (200, {"code": None, "msg": "success", "data": {"data": {}}}, errors.BadResponse, "200"),
    (200, {"code": "0", "data": {"data": 5}}, errors.BadResponse, "200"),
    (200, {"code": "0"}, errors.BadResponse, "200"),
]


@respx.mock
@pytest.mark.parametrize(("status", "body", "error_class", "code"), ERROR_CASES)
async def test_maps_published_errors_without_retrying(
    client: CoinGlassClient,
    status: int,
    body: object,
    error_class: type[errors.CoinGlassError],
    code: str,
) -> None:
    route = respx.get(MAP_URL).respond(status, json=body)
    with pytest.raises(error_class) as caught:
        await fetch(client)
    assert type(caught.value) is error_class
    assert caught.value.upstream_code == code
    assert not caught.value.retryable
    assert route.call_count == 1


RETRYABLE_CASES = [
    (
        httpx.Response(200, json={"code": "429", "msg": "Too many requests for this API key"}),
        errors.RateLimited,
        "429",
    ),
    (
        httpx.Response(200, json={"code": "503", "msg": "Service unavailable"}),
        errors.UpstreamUnavailable,
        "503",
    ),
    (httpx.Response(429), errors.RateLimited, "429"),
    (
        httpx.Response(500, json={"timestamp": 1, "status": 500, "error": "Internal Server Error"}),
        errors.UpstreamUnavailable,
        "500",
    ),
    (httpx.Response(502, text="<html>Bad gateway</html>"), errors.UpstreamUnavailable, "502"),
    (httpx.Response(408), errors.UpstreamUnavailable, "408"),
    (
        httpx.Response(200, text='{"code":"0","data":{"data":{"1":[[1,'),
        errors.TruncatedResponse,
        "200",
    ),
    (httpx.Response(200, text="<html>maintenance</html>"), errors.TruncatedResponse, "200"),
    (httpx.ConnectError("refused"), errors.NetworkError, None),
    (httpx.RemoteProtocolError("reset"), errors.NetworkError, None),
    (httpx.ReadTimeout("slow"), errors.UpstreamTimeout, None),
]


@respx.mock
@pytest.mark.parametrize(("outcome", "error_class", "code"), RETRYABLE_CASES)
async def test_retries_transient_failures_then_reports_them(
    client: CoinGlassClient,
    waits: list[float],
    outcome: httpx.Response | Exception,
    error_class: type[errors.CoinGlassError],
    code: str | None,
) -> None:
    route = respx.get(MAP_URL).mock(side_effect=[outcome] * 3)
    with pytest.raises(error_class) as caught:
        await fetch(client)
    assert route.call_count == 3  # max_retries=2 → three attempts
    assert caught.value.retryable
    assert caught.value.upstream_code == code
    assert caught.value.message.endswith("Gave up after 3 attempts.")
    # The last attempt's own failure is kept as the cause, said as it was raised.
    last = caught.value.__cause__
    assert isinstance(last, error_class)
    assert caught.value.message == f"{last.message} Gave up after 3 attempts."
    if isinstance(outcome, Exception):  # httpx's own error, translated once, is kept too
        assert isinstance(last.__cause__, httpx.TransportError)
    assert len(waits) == 2  # between the attempts, none after the last


@respx.mock
async def test_a_retry_that_succeeds_returns_the_data(client: CoinGlassClient) -> None:
    route = respx.get(MAP_URL).mock(
        side_effect=[httpx.Response(429), httpx.Response(200, json=MAP_BODY)]
    )
    assert list((await fetch(client)).data) == ["48935"]
    assert route.call_count == 2


@respx.mock
async def test_zero_retries_means_one_attempt() -> None:
    route = respx.get(MAP_URL).respond(503)
    async with CoinGlassClient(KEY, base_url=BASE, retry=RetryPolicy(max_retries=0)) as cg:
        with pytest.raises(errors.UpstreamUnavailable) as caught:
            await fetch(cg)
    assert route.call_count == 1
    assert "Gave up" not in caught.value.message


@respx.mock
async def test_slow_answer_is_a_timeout(client: CoinGlassClient) -> None:
    respx.get(MAP_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(errors.UpstreamTimeout, match="requestTimeoutSecs"):
        await fetch(client)


def test_retry_after_seconds_and_http_date_are_capped() -> None:
    assert POLICY.header_wait("7") == 7.0
    assert POLICY.header_wait(None) is None
    assert POLICY.header_wait("soon") is None
    assert POLICY.header_wait("3600") == 60.0
    now = 1_700_000_000.0
    assert POLICY.header_wait("Tue, 14 Nov 2023 22:13:40 GMT", now=now) == 20.0
    assert POLICY.header_wait("Tue, 14 Nov 2023 22:00:00 GMT", now=now) == 0.0
    # Digits float() cannot read, and a date past what a timestamp holds, are unreadable too.
    assert POLICY.header_wait("²") is None
    assert POLICY.header_wait("Mon, 01 Jan 99999999999999999999 00:00:00 GMT") is None


@respx.mock
async def test_an_unreadable_retry_after_is_ignored(
    client: CoinGlassClient, waits: list[float]
) -> None:
    unreadable = {b"Retry-After": b"\xb2"}  # a raw byte, which httpx reads as "²"
    respx.get(MAP_URL).mock(
        side_effect=[
            httpx.Response(429, headers=unreadable),
            httpx.Response(200, json=MAP_BODY, headers=unreadable),
        ]
    )
    assert list((await fetch(client)).data) == ["48935"]
    assert len(waits) == 1
    assert 0 <= waits[0] <= RetryPolicy().rate_limit_base_secs  # the backoff, not the header


def test_backoff_is_full_jitter_exponential_and_obeys_retry_after() -> None:
    failure = errors.UpstreamUnavailable("x")
    assert [POLICY.delay(failure, n, fraction=lambda: 1.0) for n in (1, 2, 3, 7, 8)] == [
        0.5,
        1.0,
        2.0,
        30.0,  # 32 s, capped
        30.0,
    ]
    assert POLICY.delay(failure, 3, fraction=lambda: 0.25) == 0.5
    assert POLICY.delay(failure, 1, fraction=lambda: 0.0) == 0.0
    limited = errors.RateLimited("x")
    # Per-minute limits: rate limits back off from 2 s, not 0.5 s.
    assert [POLICY.delay(limited, n, fraction=lambda: 1.0) for n in (1, 2, 3, 5)] == [2, 4, 8, 30]
    assert POLICY.delay(errors.RateLimited("x", retry_after=4.0), 1) == 4.0


def test_refusals_are_never_retried() -> None:
    for refusal in (
        errors.PlanTooLow("x"),
        errors.InvalidApiKey("x"),
        errors.InvalidParameter("x"),
        errors.BadResponse("x"),
    ):
        assert POLICY.delay(refusal, 1) is None


@respx.mock
async def test_a_bug_is_raised_at_once_not_retried(client: CoinGlassClient) -> None:
    route = respx.get(MAP_URL).mock(side_effect=ValueError("bug"))
    with pytest.raises(ValueError, match="bug"):
        await fetch(client)
    assert route.call_count == 1


@respx.mock
async def test_the_client_waits_what_retry_after_asks_between_attempts(
    client: CoinGlassClient, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    limited = httpx.Response(429, headers={"Retry-After": "4"})
    respx.get(MAP_URL).mock(side_effect=[limited, limited, httpx.Response(200, json=MAP_BODY)])
    assert list((await fetch(client)).data) == ["48935"]
    assert waits == [4.0, 4.0]
    assert [record.getMessage() for record in caplog.records] == [
        f"CoinGlass {MAP_PATH} failed (rate_limited); attempt 2 of 3 in 4.0 s.",
        f"CoinGlass {MAP_PATH} failed (rate_limited); attempt 3 of 3 in 4.0 s.",
    ]


@respx.mock
async def test_a_spent_key_window_holds_the_next_request_until_it_rolls_over() -> None:
    now = [0.0]
    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    route = respx.get(MAP_URL)
    route.side_effect = [
        httpx.Response(200, json=MAP_BODY, headers={"API-KEY-MAX-LIMIT": "30", USE: "27"}),
        httpx.Response(200, json=MAP_BODY, headers={"API-KEY-MAX-LIMIT": "30", USE: "1"}),
    ]
    async with CoinGlassClient(KEY, base_url=BASE, sleep=wait, clock=lambda: now[0]) as cg:
        await fetch(cg)
        now[0] = 20.0
        await fetch(cg)
    assert waits == [40.0]
    assert route.call_count == 2


@respx.mock
async def test_upstream_text_never_echoes_the_key(client: CoinGlassClient) -> None:
    respx.get(MAP_URL).respond(json={"code": "400", "msg": f"Invalid API key provided: {KEY}"})
    with pytest.raises(errors.InvalidApiKey) as caught:
        await fetch(client)
    assert KEY not in caught.value.message


@respx.mock
@pytest.mark.parametrize(
    ("range_", "max_retries", "attempts", "raised"),
    [
        # A range CoinGlass does not document: its "500" body is a refusal, asked once more.
        ("90d", 2, 2, errors.InvalidParameter),
        ("365d", 0, 1, errors.InvalidParameter),
        # A documented one: the same body is an outage, retried like any.
        ("30d", 2, 3, errors.UpstreamUnavailable),
    ],
)
async def test_a_server_error_body_refuses_only_a_range_coinglass_does_not_document(
    waits: list[float],
    range_: str,
    max_retries: int,
    attempts: int,
    raised: type[errors.CoinGlassError],
) -> None:
    route = respx.get(MAP_URL).respond(json={"code": "500", "msg": "Server Error"})

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    retry = RetryPolicy(max_retries=max_retries)
    async with CoinGlassClient(KEY, base_url=BASE, retry=retry, sleep=wait) as cg:
        with pytest.raises(raised) as caught:
            await Endpoints(cg).pair_map("Binance", "BTCUSDT", range_)
    assert route.call_count == attempts
    assert caught.value.upstream_code == "500"
    if raised is errors.InvalidParameter:
        said = "on both attempts" if attempts > 1 else "on its only attempt"
        assert caught.value.message == (
            "CoinGlass answered with a server error (code 500) in a successful response"
            f" {said}, as it answers what it does not serve: this input is not available."
            f" CoinGlass documents only the ranges 1d, 7d, 30d for this map; it may not accept"
            f" {range_}."
        )


@respx.mock
async def test_an_http_server_error_stays_an_outage_for_any_range(client: CoinGlassClient) -> None:
    route = respx.get(MAP_URL).respond(502, text="<html>Bad Gateway</html>")
    with pytest.raises(errors.UpstreamUnavailable):
        await Endpoints(client).pair_map("Binance", "BTCUSDT", "90d")
    assert route.call_count == 3  # the first attempt and both retries


class Numbered(BaseModel):
    """A numbered answer."""

    n: int


def told(events: list[str]) -> type[Numbered]:
    """Numbered answers that say in ``events`` when each is decoded."""

    class Told(Numbered):
        @model_validator(mode="after")
        def say_decoded(self) -> Self:
            events.append(f"decoded {self.n}")
            return self

    return Told


def numbered_answers(
    events: list[str], held: dict[str, asyncio.Event]
) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
    """A sandbox of numbered answers: each request is told in ``events``, and the answer of a
    number in ``held`` waits for its event."""

    async def answer(request: httpx.Request) -> httpx.Response:
        n = request.url.params["n"]
        events.append(f"sent {n}")
        if n in held:
            await held[n].wait()
        return httpx.Response(200, json={"code": "0", "data": {"n": int(n)}})

    return answer


async def first_request_sent(client: CoinGlassClient, events: list[str]) -> None:
    """The key's first request goes alone (pacing); its answer, silent on the key's use, lets
    the next ones go together, so only a bound holds them back."""
    await client.get(MAP_PATH, {"n": "0"}, told(events))
    events.clear()


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0)


@respx.mock
async def test_a_bounded_request_hands_its_slot_on_before_its_answer_is_decoded(
    client: CoinGlassClient,
) -> None:
    events: list[str] = []
    first_answered = asyncio.Event()
    respx.get(MAP_URL).mock(side_effect=numbered_answers(events, {"1": first_answered}))
    await first_request_sent(client, events)
    bounded = client.bounded(asyncio.Semaphore(1))
    async with asyncio.timeout(5):  # a regression fails instead of hanging
        numbered = told(events)
        both = asyncio.gather(*(bounded.get(MAP_PATH, {"n": n}, numbered) for n in "12"))
        await until(lambda: bool(events))
        for _ in range(10):  # turns of the loop in which a second request could leave
            await asyncio.sleep(0)
        assert events == ["sent 1"]  # one slot: the second waits for the first's answer
        first_answered.set()
        assert [numbered.n for numbered in await both] == [1, 2]
    # The first answer is decoded only once the second request is on its way.
    assert events == ["sent 1", "sent 2", "decoded 1", "decoded 2"]


@respx.mock
async def test_a_bounded_request_waiting_to_retry_holds_no_slot() -> None:
    events: list[str] = []
    retry_now = asyncio.Event()

    async def wait(seconds: float) -> None:
        events.append("waiting to retry")
        await retry_now.wait()

    answer = numbered_answers(events, {})
    failed_once: list[str] = []

    async def failing_once(request: httpx.Request) -> httpx.Response:
        if request.url.params["n"] == "1" and not failed_once:
            failed_once.append("1")
            events.append("sent 1")
            return httpx.Response(503)
        return await answer(request)

    respx.get(MAP_URL).mock(side_effect=failing_once)
    async with CoinGlassClient(KEY, base_url=BASE, sleep=wait) as cg:
        await first_request_sent(cg, events)
        bounded = cg.bounded(asyncio.Semaphore(1))
        async with asyncio.timeout(5):
            numbered = told(events)
            both = asyncio.gather(*(bounded.get(MAP_PATH, {"n": n}, numbered) for n in "12"))
            # The second request is answered while the first still waits to be sent again.
            await until(lambda: "decoded 2" in events and "waiting to retry" in events)
            assert sorted(events) == ["decoded 2", "sent 1", "sent 2", "waiting to retry"]
            retry_now.set()
            assert [numbered.n for numbered in await both] == [1, 2]
    assert events[4:] == ["sent 1", "decoded 1"]


HEATMAP_URL = f"{BASE}{COIN_HEATMAP_PATH.format(model='model1')}"
SERVER_ERROR_BODY = {"code": "500", "msg": "Server Error"}


@respx.mock
async def test_a_long_heatmap_answered_with_the_500_body_twice_is_not_served(
    client: CoinGlassClient, waits: list[float]
) -> None:
    route = respx.get(HEATMAP_URL).respond(json=SERVER_ERROR_BODY)
    with pytest.raises(errors.NotServed) as refused:
        await Endpoints(client).coin_heatmap("NEWCOIN", "1y", "model1")
    assert route.call_count == 2  # once more, as a passing fault would pass
    assert refused.value.type == "invalid_parameter"
    assert "this input is not available" in refused.value.message
    assert "CoinGlass keeps a 1y heatmap only of what has traded that long" in refused.value.message


@pytest.mark.parametrize(("range_", "body"), [("30d", SERVER_ERROR_BODY), ("1y", {"code": "503"})])
@respx.mock
async def test_other_server_errors_of_a_heatmap_stay_outages(
    client: CoinGlassClient, range_: str, body: dict[str, str]
) -> None:
    route = respx.get(HEATMAP_URL).respond(json=body)
    with pytest.raises(errors.UpstreamUnavailable):
        await Endpoints(client).coin_heatmap("BTC", range_, "model1")
    assert route.call_count == 3  # every attempt the policy allows
