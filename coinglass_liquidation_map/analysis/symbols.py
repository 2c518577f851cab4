"""Pure functions over CoinGlass's instruments: search, resolve, suggest."""

from __future__ import annotations

from collections.abc import Callable

from coinglass_liquidation_map.market_data import Instrument

MAX_SUGGESTIONS = 5


def instrument_id(instrument: Instrument) -> str:
    """The v4 ``symbol`` parameter: the actor's symbol after its first underscore."""
    return instrument.symbol.partition("_")[2]


def filtered(
    candidates: list[Instrument], *, exchange: str | None, quote_asset: str | None
) -> list[Instrument]:
    """The instruments of one exchange and/or quote asset (case-insensitive); None keeps all."""
    return [
        instrument
        for instrument in candidates
        if (exchange is None or instrument.exchange.lower() == exchange.lower())
        and (quote_asset is None or instrument.quote_asset.lower() == quote_asset.lower())
    ]


def search(
    candidates: list[Instrument],
    keyword: str,
    open_interest: Callable[[Instrument], float] | None = None,
) -> list[Instrument]:
    """Instruments matching ``keyword`` case-insensitively, best first.

    Exact base-asset matches come first, by ``open_interest`` (largest first) when it is
    known, then instruments where any field starts with the keyword, then those that merely
    contain it; alphabetically by exchange and symbol within each. An empty keyword matches
    everything.
    """
    needle = keyword.strip().lower()
    ranked: list[tuple[int, float, str, str, Instrument]] = []
    for instrument in candidates:
        fields = _searchable(instrument)
        interest = 0.0
        if instrument.base_asset.lower() == needle:
            rank = 0
            interest = open_interest(instrument) if open_interest else 0.0
        elif any(field.startswith(needle) for field in fields):
            rank = 1
        elif any(needle in field for field in fields):
            rank = 2
        else:
            continue
        exchange, symbol = instrument.exchange.lower(), instrument.symbol.lower()
        ranked.append((rank, -interest, exchange, symbol, instrument))
    ranked.sort(key=lambda entry: entry[:4])
    return [entry[4] for entry in ranked]


def resolve(candidates: list[Instrument], symbol: str) -> Instrument | None:
    """The instrument ``symbol`` names, ignoring case and surrounding spaces; None if none does."""
    wanted = symbol.strip().lower()
    for instrument in candidates:
        if instrument.symbol.lower() == wanted:
            return instrument
    return None


def resolve_coin(candidates: list[Instrument], coin: str) -> str | None:
    """The base asset ``coin`` names, ignoring case; None if no instrument trades it."""
    wanted = coin.strip().upper()
    return next((i.base_asset for i in candidates if i.base_asset.upper() == wanted), None)


def coin_suggestions(candidates: list[Instrument], coin: str) -> list[str]:
    """Up to five real coins closest to a coin that does not exist."""
    coins = sorted({instrument.base_asset for instrument in candidates})
    return _closest(coin.upper(), coins, cutoff=0.5)


def with_instrument_id(candidates: list[Instrument], name: str) -> list[Instrument]:
    """The instruments whose id is ``name`` (case and separators forgiven), those spelled as
    typed first, then by exchange: what someone who typed ``BTCUSDT`` alone meant."""
    wanted = name.strip().lower()
    bare = _bare(wanted)
    found = [i for i in candidates if _bare(instrument_id(i)) == bare]
    return sorted(found, key=lambda i: (instrument_id(i).lower() != wanted, i.exchange.lower()))


def _bare(name: str) -> str:
    return "".join(char for char in name.lower() if char.isalnum())


def suggestions(candidates: list[Instrument], symbol: str) -> list[str]:
    """Up to five real symbols closest to a symbol that does not exist."""
    by_lower = {instrument.symbol.lower(): instrument.symbol for instrument in candidates}
    wanted = symbol.strip().lower()
    close = _closest(wanted, list(by_lower), cutoff=0.6)
    if len(close) < MAX_SUGGESTIONS:
        # Same instrument id on other exchanges: the usual mistake is the exchange part.
        wanted_id = wanted.partition("_")[2]
        close += [
            key for key in by_lower if key.partition("_")[2] == wanted_id and key not in close
        ]
    return [by_lower[key] for key in close[:MAX_SUGGESTIONS]]


def _closest(word: str, candidates: list[str], *, cutoff: float) -> list[str]:
    # Imported here, because only a name CoinGlass does not list needs it, and a run that
    # imports it at start carries it in memory for nothing.
    import difflib  # noqa: PLC0415

    return difflib.get_close_matches(word, candidates, n=MAX_SUGGESTIONS, cutoff=cutoff)


def _searchable(instrument: Instrument) -> tuple[str, ...]:
    return (
        instrument.base_asset.lower(),
        instrument.quote_asset.lower(),
        instrument.exchange.lower(),
        instrument_id(instrument).lower(),
        instrument.symbol.lower(),
    )
