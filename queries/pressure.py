"""Pressure and where it fades (section 5.3 of the domain).

Received pressure ``R(o)`` is the sum of the weights of actions sent to ``o`` in a
window. Every figure here can be explained by ``evidence``: the action ids behind it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from pydantic import BaseModel, Field

from graph.errors import InvalidInput, NotFound
from graph.model import Category, Level, Organization, OrgFacts, OrgKind, to_ordinal
from graph.store import ACTION_KINDS, CATEGORIES, ActionTable, Store, gc_paused
from queries.notices import NO_ACTIONS, Notice
from queries.window import Window, strong_mask, weight_array

CASE_SUPPORT = CATEGORIES.index(Category.case_support.value)


@dataclass
class Pressure:
    """Everything section 5.3 needs for one window. Received pressure comes from counts per
    recipient and kind; the actions themselves (who sent what: pass-on, weak forms, evidence)
    are read once, when first asked for, so a level profile never reads them."""

    store: Store
    window: Window
    category: str | None
    facts: dict[str, OrgFacts]  # every organization's kind, level, parent and validity
    children: dict[str, list[str]]  # non-commission children of each organization
    received: dict[str, float]  # R(o) of every organization in the window, commissions excepted, zeros kept
    weights: np.ndarray
    action_count: int = 0  # actions of the category sent in the window, to anyone

    @cached_property
    def orgs(self) -> dict[str, Organization]:
        """Every organization, read when first asked for (a level profile never asks)."""
        return self.store.get_organizations()

    @cached_property
    def actions(self) -> ActionTable:
        return self.store.actions(self.window.start, self.window.end, category=self.category)


def exists_in(org: Organization | OrgFacts, window: Window) -> bool:
    """Whether the organization exists at some time in the window (``valid_from``/``valid_to``)."""
    if org.valid_from and to_ordinal(org.valid_from) >= window.end:
        return False
    return not (org.valid_to and to_ordinal(org.valid_to) <= window.start)


def pressure(
    store: Store, window: Window, *, category: str | None = None, weights: dict[str, float] | None = None
) -> Pressure:
    """Compute received pressure for every organization in the window.

    Examples
    --------
    >>> p = pressure(store, Window.of("2024-01-01", "2025-01-01"))  # doctest: +SKIP
    >>> p.received["P00-03"]  # doctest: +SKIP
    5.6
    """
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(f"unknown category {category!r}; allowed: {', '.join(CATEGORIES)}")
    with gc_paused():  # millions of objects, no cycle: see graph.store.gc_paused
        facts = store.organization_facts()
        recipients, counts = store.received_counts(window.start, window.end, category=category)
        w = weight_array(weights)
        # kind by kind, in a fixed order: every backend adds the same numbers the same way
        totals = np.zeros(len(recipients))
        for code, weight in enumerate(w):
            totals += counts[:, code] * weight
        by_org = dict(zip(recipients, totals.tolist(), strict=True))
        counted = [(i, o) for i, o in facts.items() if o.kind is not OrgKind.commission and exists_in(o, window)]
        received = {i: by_org.get(i, 0.0) for i, _ in counted}
        children: dict[str, list[str]] = {}
        for i, o in counted:
            if o.parent_id:
                children.setdefault(o.parent_id, []).append(i)
    return Pressure(store, window, category, facts, children, received, w, int(counts.sum()))


def notices(p: Pressure) -> list[Notice]:
    """What the figures of ``p`` rest on that the data does not hold: a window without a
    single action gives every organization zero, which is no measured fade."""
    if p.action_count:
        return []
    what = f"{p.category} action" if p.category else "action"
    w = p.window.as_dict()
    return [
        Notice(
            code=NO_ACTIONS,
            message=f"no supervision {what} recorded in [{w['from']}, {w['to']}): every figure is zero "
            "for want of data, not a measured fade",
        )
    ]


# ---------------------------------------------------------------- level profile


class LevelRow(BaseModel):
    level: str
    orgs: int
    median: float
    mean: float
    fade_ratio_from_above: float | None


class Fade(BaseModel):
    from_level: str
    to_level: str
    ratio: float


class LevelProfile(BaseModel):
    window: dict[str, str]
    category: str | None
    levels: list[LevelRow]
    steepest_fade: Fade | None
    notices: list[Notice] = Field(default_factory=list)


def level_profile(p: Pressure, org_ids: Iterable[str] | None = None) -> LevelProfile:
    """Count, median and mean of R per level, and the fade ratio between consecutive levels
    (of ``org_ids`` only, a subtree for instance, when given).

    The fade ratio is ``median R(L+1) / median R(L)``; the steepest fade is the smallest.
    A level whose median is zero gives no ratio to the level below it.
    """
    received = p.received if org_ids is None else {o: p.received[o] for o in org_ids if o in p.received}
    rows, steep = level_rows(p.facts, received)
    return LevelProfile(
        window=p.window.as_dict(), category=p.category, levels=rows, steepest_fade=steep, notices=notices(p)
    )


def level_rows(
    orgs: Mapping[str, Organization | OrgFacts], received: Mapping[str, float | None]
) -> tuple[list[LevelRow], Fade | None]:
    """``level_profile``'s rows and steepest fade for these received pressures (None: the
    organization did not exist then, and is left out)."""
    by_level: dict[Level, list[float]] = {}
    for oid, r in received.items():
        if r is not None:
            by_level.setdefault(orgs[oid].level, []).append(r)
    rows: list[LevelRow] = []
    above: float | None = None
    for level in Level:
        values = by_level.get(level)
        if not values:
            continue
        median = float(np.median(values))
        ratio = (median / above) if above else None
        rows.append(
            LevelRow(
                level=level.value,
                orgs=len(values),
                median=round(median, 4),
                mean=round(float(np.mean(values)), 4),
                fade_ratio_from_above=None if ratio is None else round(ratio, 4),
            )
        )
        above = median
    steep = None
    for upper, lower in itertools.pairwise(rows):
        if lower.fade_ratio_from_above is not None and (steep is None or lower.fade_ratio_from_above < steep.ratio):
            steep = Fade(from_level=upper.level, to_level=lower.level, ratio=lower.fade_ratio_from_above)
    return rows, steep


# ---------------------------------------------------------------- per organization


class OrgPressure(BaseModel):
    org_id: str
    name: str
    level: str
    kind: str
    received: float
    children: int
    children_mean: float | None
    pass_on_ratio: float | None
    sink: bool
    cold: bool
    sent: int
    weak_share: float | None
    commission_share: float | None


def pass_on_ratio(received: float, children: list[float]) -> float | None:
    """The mean pressure the children receive over what their parent receives; None for an
    organization without children or without pressure."""
    if not children or received <= 0:
        return None
    return float(np.mean(children)) / received


def is_sink(received: float, ratio: float | None, *, min_pressure: float, sink_ratio: float) -> bool:
    """A pressure sink receives at least ``min_pressure`` and passes on less than ``sink_ratio``."""
    return bool(received >= min_pressure and ratio is not None and ratio < sink_ratio)


def fades(parent: float, child: float, *, min_pressure: float, sink_ratio: float) -> bool:
    """Pressure fades on the edge from a parent (receiving at least ``min_pressure``) to a child
    receiving less than ``sink_ratio`` of it: the per-edge form of the pass-on ratio."""
    return bool(parent >= min_pressure and child < sink_ratio * parent)


def org_pressures(p: Pressure, *, min_pressure: float = 1.0, sink_ratio: float = 0.5) -> dict[str, OrgPressure]:
    """Received pressure, pass-on ratio, sink and cold flags, weak-form and commission share per organization.

    A pressure sink receives at least ``min_pressure`` and passes on less than ``sink_ratio``
    (mean R of its children / its own R). Cold: R below the 25th percentile of its level, or zero.
    """
    table = p.actions
    strong = strong_mask(p.weights)
    # minlength: an empty table (no action in the window) may still name organizations
    sent = np.bincount(table.from_org.astype(np.int64), minlength=len(table.orgs))
    weak = np.bincount(
        table.from_org.astype(np.int64), weights=~strong[table.kind].astype(bool), minlength=len(table.orgs)
    )
    commission_share = commission_shares(p)
    q25 = level_quartiles(p.facts, p.received)
    codes = table.codes
    out = {}
    for oid, r in p.received.items():
        org = p.orgs[oid]
        kids = p.children.get(oid, [])
        mean_kids = float(np.mean([p.received[c] for c in kids])) if kids else None
        ratio = pass_on_ratio(r, [p.received[c] for c in kids])
        c = codes.get(oid)
        n_sent = int(sent[c]) if c is not None else 0
        out[oid] = OrgPressure(
            org_id=oid,
            name=org.name,
            level=org.level.value,
            kind=org.kind.value,
            received=round(r, 4),
            children=len(kids),
            children_mean=None if mean_kids is None else round(mean_kids, 4),
            pass_on_ratio=None if ratio is None else round(ratio, 4),
            sink=is_sink(r, ratio, min_pressure=min_pressure, sink_ratio=sink_ratio),
            cold=is_cold(r, q25[org.level.value]),
            sent=n_sent,
            weak_share=round(float(weak[c]) / n_sent, 4) if n_sent and c is not None else None,
            commission_share=commission_share.get(oid),
        )
    return out


def organizations(
    p: Pressure,
    *,
    level: str | None = None,
    org_id: str | None = None,
    sinks_only: bool = False,
    min_pressure: float = 1.0,
    sink_ratio: float = 0.5,
) -> list[OrgPressure]:
    """``org_pressures`` filtered (a level, one organization, sinks only) and ordered by received
    pressure, highest first.

    Raises
    ------
    InvalidInput
        ``level`` is not a level (the message suggests the nearest).
    NotFound
        ``org_id`` is not an organization counted in the window (commissions are not).
    """
    if level is not None and level not in {lv.value for lv in Level}:
        raise InvalidInput(f"unknown level {level!r}{_nearest(level, [lv.value for lv in Level])}")
    if org_id is not None and org_id not in p.received:
        raise NotFound(f"no organization with id {org_id!r} in the window{_nearest(org_id, list(p.received))}")
    figures = org_pressures(p, min_pressure=min_pressure, sink_ratio=sink_ratio)
    rows = [
        f
        for f in figures.values()
        if (level is None or f.level == level) and (org_id is None or f.org_id == org_id) and (not sinks_only or f.sink)
    ]
    return sorted(rows, key=lambda f: (-f.received, f.org_id))


def _nearest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


def level_quartiles(
    orgs: Mapping[str, Organization | OrgFacts], received: Mapping[str, float | None]
) -> dict[str, float]:
    """The 25th percentile of received pressure per level (None: not there, left out)."""
    by_level: dict[str, list[float]] = {}
    for oid, r in received.items():
        if r is not None:
            by_level.setdefault(orgs[oid].level.value, []).append(r)
    return {lv: float(np.percentile(v, 25)) for lv, v in by_level.items()}


def is_cold(received: float, quartile: float) -> bool:
    """Cold: no pressure at all, or less than the 25th percentile of its level."""
    return bool(received == 0 or received < quartile)


def commission_shares(p: Pressure) -> dict[str, float]:
    """For each committee that sent actions (categories other than case_support): the share done by a commission."""
    table = p.actions
    if not len(table):
        return {}
    commission = _commission_codes(p)
    eligible = table.category != CASE_SUPPORT
    total = np.bincount(table.from_org[eligible], minlength=len(table.orgs))
    by_commission = np.bincount(table.from_org[eligible & commission[table.by_org]], minlength=len(table.orgs))
    out = {}
    for code, org_id in enumerate(table.orgs):
        org = p.facts.get(org_id)
        if org is not None and org.kind is OrgKind.committee and total[code]:
            out[org_id] = round(float(by_commission[code]) / float(total[code]), 4)
    return out


def _commission_codes(p: Pressure) -> np.ndarray:
    """Boolean per organization code of the action table: is it a commission."""
    return np.array([o in p.facts and p.facts[o].kind is OrgKind.commission for o in p.actions.orgs], dtype=bool)


def evidence(p: Pressure, org_id: str, figure: str = "received") -> list[str]:
    """The action ids behind a figure of ``org_id``: ``received``, ``sent``, ``weak`` or ``commission``."""
    table = p.actions
    code = table.codes.get(org_id, -1)
    if figure == "received":
        mask = table.to_org == code
    elif figure == "sent":
        mask = table.from_org == code
    elif figure == "weak":
        mask = (table.from_org == code) & ~strong_mask(p.weights)[table.kind]
    elif figure == "commission":
        commission = _commission_codes(p)
        mask = (table.from_org == code) & commission[table.by_org] & (table.category != CASE_SUPPORT)
    else:
        raise InvalidInput(f"unknown figure {figure!r}: received, sent, weak or commission")
    return table.id_list(np.flatnonzero(mask))


def received_by_kind(p: Pressure, org_id: str) -> dict[str, dict[str, float]]:
    """Count and pressure received by ``org_id`` per action kind (for a scorecard or a view)."""
    return received_breakdown(p, [org_id])[org_id]["kind"]


def received_breakdown(p: Pressure, org_ids: Iterable[str]) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """For each of ``org_ids``: count and pressure received in the window per action kind
    (``"kind"``) and per duty category (``"category"``), the kinds and categories with none
    left out. The pressures add up to ``received``."""
    table = p.actions
    wanted = list(org_ids)
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {o: {"kind": {}, "category": {}} for o in wanted}
    row_of = {code: i for i, o in enumerate(wanted) if (code := table.codes.get(o, -1)) >= 0}
    if not len(table) or not row_of:
        return out
    idx = np.flatnonzero(np.isin(table.to_org, list(row_of)))
    rows = np.array([row_of[c] for c in table.to_org[idx]], dtype=int)
    w = p.weights[table.kind[idx]]
    for part, column, names in (("kind", table.kind, ACTION_KINDS), ("category", table.category, CATEGORIES)):
        counts = np.zeros((len(wanted), len(names)))
        sums = np.zeros((len(wanted), len(names)))
        np.add.at(counts, (rows, column[idx]), 1)
        np.add.at(sums, (rows, column[idx]), w)
        for i, oid in enumerate(wanted):
            out[oid][part] = {
                names[j]: {"count": int(counts[i, j]), "pressure": round(float(sums[i, j]), 4)}
                for j in np.flatnonzero(counts[i])
            }
    return out


@dataclass
class ByYear:
    """Received pressure per calendar year of the data's span (``received_by_year``)."""

    years: list[int]
    received: dict[str, list[float | None]]  # per organization, a value a year; None: it did not exist then
    actions: list[int] = field(default_factory=list)  # actions of the category sent each year, to anyone


def received_by_year(p: Pressure, org_ids: Iterable[str]) -> ByYear:
    """``R(o)`` of each of ``org_ids`` in every calendar year of the data, with the window's
    category and weights: one read of the actions of the whole span."""
    wanted = list(org_ids)
    span = p.store.date_range()
    if span is None:
        return ByYear([], {o: [] for o in wanted}, [])
    first, last = dt.date.fromordinal(span[0]).year, dt.date.fromordinal(span[1]).year
    years = list(range(first, last + 1))
    starts = np.array([dt.date(y, 1, 1).toordinal() for y in [*years, last + 1]])
    table = p.store.actions(int(starts[0]), int(starts[-1]), category=p.category)
    grid = np.zeros((len(years), len(table.orgs)))
    actions = np.zeros(len(years), dtype=np.int64)
    if len(table):
        year_of = np.searchsorted(starts, table.date, side="right") - 1
        np.add.at(grid, (year_of, table.to_org), p.weights[table.kind])
        actions = np.bincount(year_of, minlength=len(years))
    codes = table.codes
    windows = [Window(int(starts[y]), int(starts[y + 1])) for y in range(len(years))]
    received: dict[str, list[float | None]] = {}
    for o in wanted:
        org = p.facts[o]
        received[o] = [
            (float(grid[y, codes[o]]) if o in codes else 0.0) if exists_in(org, year) else None
            for y, year in enumerate(windows)
        ]
    return ByYear(years, received, [int(a) for a in actions])


@dataclass
class YearFigures:
    """One calendar year's received pressure, pass-on ratio and sink flag (``yearly_figures``)."""

    year: int
    actions: int  # 0: no action recorded that year, so its figures are no data, not zeros
    received: dict[str, float | None]  # None: the organization did not exist that year
    pass_on_ratio: dict[str, float | None]
    sink: dict[str, bool]
    cold: dict[str, bool] = field(default_factory=dict)
    levels: list[LevelRow] = field(default_factory=list)  # level_profile's rows, of ``profile_of``
    steepest_fade: Fade | None = None


def yearly_figures(
    p: Pressure,
    org_ids: Iterable[str],
    *,
    min_pressure: float = 1.0,
    sink_ratio: float = 0.5,
    profile_of: Iterable[str] = (),
) -> list[YearFigures]:
    """``org_ids``' figures in every calendar year of the data, by ``org_pressures``' rules, each
    year with the children that existed in it (not only those of ``p``'s window); and the level
    profile of ``profile_of`` (a subtree, say) each year, from the same one read."""
    wanted = list(dict.fromkeys(org_ids))
    kids: dict[str, list[str]] = {}
    for i, org in p.facts.items():
        if org.parent_id and org.kind is not OrgKind.commission:
            kids.setdefault(org.parent_id, []).append(i)
    # every organization of the hierarchy: a year's quartiles (the cold rule) are of its whole level
    counted = [i for i, o in p.facts.items() if o.kind is not OrgKind.commission]
    profiled = list(dict.fromkeys(profile_of))
    by_year = received_by_year(p, set(wanted) | set(counted) | set(profiled))
    out = []
    for y, year in enumerate(by_year.years):
        received = {o: by_year.received[o][y] for o in wanted}
        ratio: dict[str, float | None] = {}
        for o, r in received.items():
            children = [v for c in kids.get(o, []) if (v := by_year.received[c][y]) is not None]
            ratio[o] = None if r is None else pass_on_ratio(r, children)
        sink = {
            o: r is not None and is_sink(r, ratio[o], min_pressure=min_pressure, sink_ratio=sink_ratio)
            for o, r in received.items()
        }
        q25 = level_quartiles(p.facts, {o: by_year.received[o][y] for o in counted})
        cold = {o: r is not None and is_cold(r, q25[p.facts[o].level.value]) for o, r in received.items()}
        rows, steep = level_rows(p.facts, {o: by_year.received[o][y] for o in profiled})
        out.append(YearFigures(year, by_year.actions[y], received, ratio, sink, cold, rows, steep))
    return out
