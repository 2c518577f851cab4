"""A symbol as the user typed it, resolved against CoinGlass's instruments: case and spaces
forgiven, and close names suggested when nothing matches; and the heatmap of what it names,
which heatmaps and the maps CoinGlass refuses are read from."""

from __future__ import annotations

from collections.abc import Callable

from coinglass_liquidation_map.analysis import symbols
from coinglass_liquidation_map.coinglass.endpoints import Endpoints
from coinglass_liquidation_map.errors import InvalidParameter, NotServed, UnknownSymbol
from coinglass_liquidation_map.inputs import Target
from coinglass_liquidation_map.market_data import Heatmap, Instrument
from coinglass_liquidation_map.run.upstream import InstrumentSource

# An instrument id is listed on a dozen exchanges or more; the message names the first ones.
MAX_SAME_ID = 8


async def resolve_instrument(instruments: InstrumentSource, symbol: str) -> Instrument:
    """The instrument ``symbol`` names (case and spaces forgiven), checked against a fresh list
    before it is called unknown, since a stored list may predate a new listing."""
    for fresh in (False, True):
        candidates = await instruments(fresh=fresh)
        found = symbols.resolve(candidates, symbol)
        if found is not None:
            return found
    close = symbols.suggestions(candidates, symbol)
    raise UnknownSymbol(
        f"CoinGlass has no futures instrument {symbol!r}.{_did_you_mean(close)} Run mode"
        " search_symbols to list the supported ones."
    )


async def resolve_coin(instruments: InstrumentSource, name: str) -> str:
    """The coin ``name`` names, as CoinGlass spells it (case forgiven)."""
    candidates = await instruments()
    found = symbols.resolve_coin(candidates, name)
    if found is None:
        same_id = symbols.with_instrument_id(candidates, name)
        if same_id:
            # An instrument id typed without its exchange: those instruments, then their coin.
            coins = dict.fromkeys(instrument.base_asset for instrument in same_id)
            close = [instrument.symbol for instrument in same_id[:MAX_SAME_ID]]
            close += [f"the coin {coin} (its map across exchanges)" for coin in coins]
        else:
            close = symbols.coin_suggestions(candidates, name)
        raise UnknownSymbol(
            f"CoinGlass has no futures on a coin named {name!r}.{_did_you_mean(close)}"
            " Run mode search_symbols to list the supported instruments."
        )
    return found


def _did_you_mean(close: list[str]) -> str:
    return f" Did you mean {', '.join(close)}?" if close else ""


async def resolved_heatmap(
    endpoints: Endpoints,
    instruments: InstrumentSource,
    target: Target,
    range_: str,
    model: str,
    *,
    pair_refused: Callable[[str], str] | None = None,
) -> tuple[str, str, Heatmap]:
    """The heatmap of the instrument or coin ``target`` names over ``range_`` (as CoinGlass
    names it) under ``model``, with its symbol as resolved and its coin. A pair's heatmap
    CoinGlass refuses is raised with ``pair_refused``'s note for the pair's coin."""
    if target.is_coin:
        coin = await resolve_coin(instruments, target.symbol)
        return coin, coin, await endpoints.coin_heatmap(coin, range_, model)
    instrument = await resolve_instrument(instruments, target.symbol)
    try:
        heatmap = await endpoints.pair_heatmap(
            instrument.exchange, symbols.instrument_id(instrument), range_, model
        )
    except InvalidParameter as refused:
        # A range longer than the coin's history: its coin heatmap and every model lack it too.
        if pair_refused is None or isinstance(refused, NotServed):
            raise
        raise refused.with_note(pair_refused(instrument.base_asset)) from refused
    return instrument.symbol, instrument.base_asset, heatmap
