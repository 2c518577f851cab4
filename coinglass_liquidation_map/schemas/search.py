"""Mode ``search_symbols``'s boundary models: the input that asks for a search, the item that
answers it, and the parameters of its MCP tool."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, computed_field

from coinglass_liquidation_map.formatting import sentence_of
from coinglass_liquidation_map.inputs import InputModel, ToolArguments
from coinglass_liquidation_map.market_data import Instrument
from coinglass_liquidation_map.outputs import SuccessItem

SEARCH_SUCCESS_MESSAGE = "Futures symbols fetched successfully."
MaxResults = Annotated[int, Field(ge=1, le=10000)]


class SearchSymbolsInput(InputModel):
    """Find the futures instruments CoinGlass supports."""

    mode: Literal["search_symbols"]
    keyword: str = Field(default="", max_length=100)
    exchange: str | None = Field(default=None, max_length=50)
    quote_asset: str | None = Field(default=None, alias="quoteAsset", max_length=20)
    max_results: MaxResults | None = Field(default=None, alias="maxResults")


class SearchSymbolsItem(SuccessItem):
    """A successful search: every matching instrument, best matches first."""

    success: Literal[True] = True
    message: str = SEARCH_SUCCESS_MESSAGE
    mode: Literal["search_symbols"] = "search_symbols"
    keyword: str
    data: list[Instrument]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary_text(self) -> str:
        """One plain sentence for people and agents: how many instruments match, and the
        first of them."""
        asked = f" match {self.keyword!r}" if self.keyword else " are listed"
        found = self.data
        first = f"the first is {found[0].symbol} ({found[0].base_asset}/{found[0].quote_asset})"
        return sentence_of(f"{len(found):,} instrument(s){asked}", first if found else "")


class SearchToolArguments(ToolArguments):
    """What an agent may ask of a search: a keyword, an exchange, and how many results. The
    tool's description is the catalog's."""

    keyword: str = Field(
        default="",
        description=(
            "Matches the base asset, quote asset, exchange, instrument id or symbol,"
            " case-insensitive (e.g. btc, okx, eth-usdt); empty lists every instrument."
        ),
    )
    exchange: str | None = Field(
        default=None,
        description="Only instruments of this exchange (case-insensitive), e.g. Binance or OKX.",
    )
    max_results: MaxResults = Field(
        default=50, description="At most this many instruments, best matches first."
    )

    def fields(self) -> dict[str, object]:
        return {"keyword": self.keyword, "exchange": self.exchange, "maxResults": self.max_results}
