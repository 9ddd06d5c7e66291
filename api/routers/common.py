"""Query parameters shared by the routers: dates are ISO, validated; windows are named."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

from graph.model import Category, from_ordinal, to_ordinal
from graph.store import Store
from queries.window import latest_date

DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"


def _a_date(value: str | None) -> str | None:
    """A date of the right shape that is no day (2022-13-01) is refused as the parameter's own
    error, so the 422 names it, rather than by the query later."""
    if value is not None:
        to_ordinal(value)
    return value


Day = AfterValidator(_a_date)
AtQuery = Annotated[
    str | None,
    Query(pattern=DATE, description="a date (default: the latest date in the data)", examples=["2022-06-01"]),
    Day,
]
FromQuery = Annotated[
    str | None, Query(alias="from", pattern=DATE, description="window start", examples=["2024-01-01"]), Day
]
ToQuery = Annotated[
    str | None, Query(alias="to", pattern=DATE, description="window end, exclusive", examples=["2025-01-01"]), Day
]
CategoryQuery = Annotated[Category | None, Query(description="only this duty category")]


def day(store: Store, at: str | None) -> str:
    """``at`` checked (a real date), or the latest date in the data."""
    return from_ordinal(to_ordinal(at)) if at else from_ordinal(latest_date(store))
