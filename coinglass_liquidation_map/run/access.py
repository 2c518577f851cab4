"""Which CoinGlass key and server a request talks to: the user's key, or the one the actor's
publisher configured for everyone."""

from __future__ import annotations

import logging
import math
import os

from coinglass_liquidation_map.coinglass.client import DEFAULT_BASE_URL, CoinGlassClient
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.coinglass.pacing import WINDOW_SECS
from coinglass_liquidation_map.errors import InvalidApiKey, MissingApiKey
from coinglass_liquidation_map.inputs import InputModel, header_safe_key
from coinglass_liquidation_map.retry import RetryPolicy

API_KEY_ENV = "COINGLASS_API_KEY"
# Where local runs and tests point the actor at the sandbox instead of CoinGlass.
BASE_URL_ENV = "COINGLASS_BASE_URL"
# How long the server counts a key's requests for: CoinGlass's minute unless a server standing
# in for it (the sandbox, in tests that must not wait a minute) counts in a shorter window.
RATE_WINDOW_ENV = "COINGLASS_RATE_WINDOW_SECS"


def open_endpoints(request: InputModel, log: logging.Logger) -> Endpoints:
    """CoinGlass with the user's key, or the publisher's; raises MissingApiKey before any
    request is sent."""
    if request.api_key:
        api_key = request.api_key.get_secret_value()
    elif publishers_key := os.environ.get(API_KEY_ENV, "").strip():
        try:
            api_key = header_safe_key(publishers_key)
        except ValueError as error:
            raise InvalidApiKey(
                f"The CoinGlass key configured for this actor ({API_KEY_ENV}) is malformed."
                " Enter your own key in the apiKey input, or tell the actor's publisher."
            ) from error
    else:
        raise MissingApiKey(
            "No CoinGlass API key: enter yours in the apiKey input (CoinGlass account → API;"
            f" liquidation maps and heatmaps need the Professional plan), or set {API_KEY_ENV}."
            " To try any input without a key, run it from the Actor's source against the"
            " bundled CoinGlass sandbox: make run SANDBOX=1 INPUT='<the input as JSON>'."
        )
    client = CoinGlassClient(
        api_key,
        base_url=os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL,
        timeout_secs=request.request_timeout_secs,
        retry=RetryPolicy(max_retries=request.max_retries),
        max_requests_per_minute=request.max_requests_per_minute,
        rate_window_secs=_rate_window_secs(),
        log=log,
    )
    return Endpoints(client)


def _rate_window_secs() -> float:
    try:
        window = float(os.environ.get(RATE_WINDOW_ENV, ""))
    except ValueError:
        return WINDOW_SECS
    return window if 0 < window < math.inf else WINDOW_SECS
