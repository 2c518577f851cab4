"""The market scan's sources as pydantic models: every coin's max pain, and a page of every
coin's market, as ``liquidation/max-pain`` and ``coins-markets`` send them. Loaded by the runs
that scan."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, PrivateAttr, RootModel

from coinglass_liquidation_map.coinglass.payloads import WireFigure, lenient_number
from coinglass_liquidation_map.market_data import CoinMarket, MaxPain


class MaxPainRow(BaseModel):
    """One coin of ``liquidation/max-pain``."""

    symbol: str
    price: WireFigure = None
    long_max_pain_liq_price: WireFigure = None
    long_max_pain_liq_level: WireFigure = None
    short_max_pain_liq_price: WireFigure = None
    short_max_pain_liq_level: WireFigure = None

    def max_pain(self) -> MaxPain:
        return MaxPain(
            coin=self.symbol,
            price=self.price,
            long_price=self.long_max_pain_liq_price,
            long_level=self.long_max_pain_liq_level,
            short_price=self.short_max_pain_liq_price,
            short_level=self.short_max_pain_liq_level,
        )


def _rows_with_a_coin(value: Any, row: type[BaseModel]) -> Any:
    """The rows of a list answer that name a coin, each figure read leniently; an absent list
    is empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        return value  # no list to salvage rows from: fails validation as it is
    figures = row.model_fields.keys() - {"symbol"}
    return [
        {key: lenient_number(field) if key in figures else field for key, field in each.items()}
        for each in value
        if isinstance(each, dict) and isinstance(each.get("symbol"), str)
    ]


class MaxPainList(RootModel[list[MaxPainRow]]):
    """``data`` of ``liquidation/max-pain``: every coin, in no documented order."""

    @classmethod
    def salvaged(cls, value: Any) -> Self:
        """What can be read of an answer the published shape does not fit: the coins that
        are named; a row without a coin cannot be placed."""
        return cls.model_validate(_rows_with_a_coin(value, MaxPainRow))

    def max_pain(self) -> list[MaxPain]:
        """Each coin once (its first row), in CoinGlass's order."""
        seen: dict[str, MaxPain] = {}
        for row in self.root:
            seen.setdefault(row.symbol, row.max_pain())
        return list(seen.values())


class CoinMarketRow(BaseModel):
    """One coin of ``coins-markets``: of its fifty documented fields, those the scan reads;
    every one but ``symbol`` optional."""

    symbol: str
    current_price: WireFigure = None
    open_interest_usd: WireFigure = None
    open_interest_change_percent_24h: WireFigure = None
    avg_funding_rate_by_oi: WireFigure = None
    long_short_ratio_24h: WireFigure = None
    long_liquidation_usd_24h: WireFigure = None
    short_liquidation_usd_24h: WireFigure = None

    def market(self) -> CoinMarket:
        return CoinMarket(
            coin=self.symbol,
            price=self.current_price,
            open_interest_usd=self.open_interest_usd,
            oi_change_pct_24h=self.open_interest_change_percent_24h,
            funding_rate=self.avg_funding_rate_by_oi,
            long_short_ratio_24h=self.long_short_ratio_24h,
            long_liquidations_usd_24h=self.long_liquidation_usd_24h,
            short_liquidations_usd_24h=self.short_liquidation_usd_24h,
        )


class CoinMarketsPage(RootModel[list[CoinMarketRow]]):
    """``data`` of one page of ``coins-markets``: a bare list, with no total."""

    _rows_sent: int | None = PrivateAttr(None)

    @classmethod
    def salvaged(cls, value: Any) -> Self:
        """The named coins of a page the published shape does not fit, as for max pain."""
        page = cls.model_validate(_rows_with_a_coin(value, CoinMarketRow))
        page._rows_sent = len(value) if isinstance(value, list) else 0
        return page

    @property
    def rows_sent(self) -> int:
        """How many rows CoinGlass sent, those salvage left out included: whether the page is
        the last is read from this."""
        return len(self.root) if self._rows_sent is None else self._rows_sent

    def markets(self) -> list[CoinMarket]:
        return [row.market() for row in self.root]
