"""Time windows and weights shared by the queries.

Nothing silently means "today": a read without a window takes the last full
calendar year in the data (the data's last year when it reaches 31 December; the
data's whole span when shorter), and every answer names the window it used. A lone
``from`` or ``to`` makes a window of one year from or up to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from graph.errors import InvalidInput
from graph.model import DEFAULT_WEIGHTS, STRONG_FORM_MIN_WEIGHT, from_ordinal, to_ordinal
from graph.store import ACTION_KINDS, Store


@dataclass(frozen=True)
class Window:
    """A half-open date window ``[start, end)`` as ordinals."""

    start: int
    end: int

    @classmethod
    def of(cls, start: str | dt.date, end: str | dt.date) -> Window:
        lo, hi = to_ordinal(start), to_ordinal(end)
        if hi <= lo:
            raise InvalidInput(f"empty window: to ({end}) must be after from ({start})")
        return cls(lo, hi)

    def as_dict(self) -> dict[str, str]:
        return {"from": from_ordinal(self.start), "to": from_ordinal(self.end)}

    def contains(self, day: int) -> bool:
        return self.start <= day < self.end


def default_window(store: Store, start: str | None = None, end: str | None = None) -> Window:
    """The window asked for; missing ends default to the last full year in the data."""
    if start and end:
        return Window.of(start, end)
    span = store.date_range()
    if span is None:
        raise InvalidInput("the store is empty: load a dataset first")
    last = dt.date.fromordinal(span[1])
    if (last.month, last.day) == (12, 31):  # the data's last year is complete: it is the one
        year_end = dt.date(last.year + 1, 1, 1)
    elif last.year > dt.date.fromordinal(span[0]).year:
        year_end = dt.date(last.year, 1, 1)
    else:
        year_end = last
    lo = to_ordinal(start) if start else dt.date(year_end.year - 1, 1, 1).toordinal()
    hi = to_ordinal(end) if end else (year_end.toordinal() if year_end.toordinal() > lo else span[1] + 1)
    if not start and end:
        lo = dt.date.fromordinal(hi).replace(year=dt.date.fromordinal(hi).year - 1).toordinal()
    if start and not end:
        hi = dt.date.fromordinal(lo).replace(year=dt.date.fromordinal(lo).year + 1).toordinal()
    return Window(lo, hi)


def latest_date(store: Store) -> int:
    span = store.date_range()
    if span is None:
        raise InvalidInput("the store is empty: load a dataset first")
    return span[1]


def weight_array(weights: dict[str, float] | None = None) -> np.ndarray:
    """Weights indexed by action-kind code (unknown kinds in ``weights`` are an error)."""
    w = dict(DEFAULT_WEIGHTS)
    for kind, value in (weights or {}).items():
        if kind not in w:
            raise InvalidInput(f"unknown action kind {kind!r} in weights; allowed: {', '.join(ACTION_KINDS)}")
        w[kind] = float(value)
    return np.array([w[k] for k in ACTION_KINDS], dtype=float)


def strong_mask(weights: np.ndarray) -> np.ndarray:
    """Boolean per action-kind code: a strong form (weight >= 0.5)."""
    return weights >= STRONG_FORM_MIN_WEIGHT
