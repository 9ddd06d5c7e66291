"""The pressure map: a subtree coloured by received pressure, on level rings.

Layout: a radial tree. The root sits in the middle and each level below it is a ring
(the level bands of the map); every node's angle is the middle of the arc its subtree
takes, so a city and its counties point the same way. A flat strip of level bands turns a
province into a line tens of thousands of pixels wide; rings keep the first zoom readable.
The page draws the labels at one size on screen, only where they fit (view.js).

Above the node budget, the deepest levels are collapsed, one level at a time, into one
aggregate node per parent ("312 村 villages, median 0.4"). The page opens an aggregate in
place, one level at a time, from the contents it holds (``embed`` nodes of them at most) or,
served, from the API (``expand_aggregate``).

Marks: a pressure sink (receives at least ``min_pressure``, passes on less than
``sink_ratio``) has a thick black border; an edge where pressure fades, a child receiving
less than ``sink_ratio`` of its parent's pressure (the per-edge form of the pass-on ratio),
is red and dashed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph.errors import InvalidInput, NotFound
from graph.model import Level, from_ordinal, to_ordinal
from graph.store import Store
from queries.lookups import Holding, leaders_of
from queries.pressure import (
    Fade,
    LevelRow,
    OrgPressure,
    Pressure,
    YearFigures,
    fades,
    level_profile,
    level_rows,
    org_pressures,
    pressure,
    received_breakdown,
    yearly_figures,
)
from queries.window import Window, default_window, latest_date
from viz import DEFAULT_BUDGET, DEFAULT_EMBED
from viz.view import NO_DATA, PAGE_LABELS, Placed, View, heat, heat_legend, radial_layout, to_view, vis_nodes

FADE_COLOR = "#d7301f"
EDGE_COLOR = "#9e9e9e"
SINK_BORDER = "#111111"
RING_STEP = 420.0  # minimum distance between two rings
GAP = 14.0  # room between two neighbours on a ring
BELOW = "::below"  # an aggregate's id: the organization it hangs from, then this


@dataclass
class _Shown:
    """A node of the map: an organization, or an aggregate of the levels collapsed below one."""

    id: str
    parent: str | None
    depth: int  # rings from the root
    children: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # for an aggregate: every organization it holds
    head: list[str] = field(default_factory=list)  # for an aggregate: its members on the shallowest level
    size: float = 10.0
    placed: Placed = field(default_factory=lambda: Placed(0.0, 0.0, 0, 0.0, (0.0, 0.0)))


def default_root(p: Pressure) -> str:
    """The top of the hierarchy; a top with a single child (the central committee above one
    province) gives way to that child."""
    tops = sorted(o for o in p.received if not p.orgs[o].parent_id or p.orgs[o].parent_id not in p.received)
    if not tops:
        raise InvalidInput("the store has no organization in this window")
    root = tops[0]
    while len(p.children.get(root, [])) == 1:
        root = p.children[root][0]
    return root


def pressure_map(
    store: Store,
    *,
    root: str | None = None,
    depth: int | None = None,
    window: Window | None = None,
    category: str | None = None,
    as_of: str | dt.date | None = None,
    budget: int = DEFAULT_BUDGET,
    weights: dict[str, float] | None = None,
    min_pressure: float = 1.0,
    sink_ratio: float = 0.5,
    embed: int | None = None,
) -> View:
    """Build the pressure map of ``root``'s subtree (``depth`` levels below it; all by default).

    Examples
    --------
    >>> view = pressure_map(store, root="P00", budget=1500)  # doctest: +SKIP
    >>> write_view(view, Path("pressure.html"))  # doctest: +SKIP
    """
    if budget < 2:
        raise InvalidInput("the node budget must be at least 2")
    if embed is None:
        embed = min(budget, DEFAULT_EMBED)
    rule = {"min_pressure": min_pressure, "sink_ratio": sink_ratio}
    window, at, p, figures, years, root, tree = _base(store, root, depth, window, category, as_of, weights, rule)
    sizes = _subtree_sizes(p, root)
    shown, collapsed = _collapse(p, tree, root, budget, sizes)
    _layout(shown, root)
    plans = _plan(p, tree, shown, sizes, embed)
    every = {**shown, **{k: v for part in plans.values() for k, v in part.items()}}
    raw = _raw_columns(p, every, figures, years, tree)
    context = _Context(store, p, figures, rule, raw, every, from_ordinal(at))
    yearly = _arrays(context, list(shown))
    top = max((v for col in yearly["columns"] for v in col["values"] if v is not None), default=0.0)
    context.top = top
    _paint(yearly, top)

    w = window.as_dict()
    cat = f", category {category}" if category else ""
    for col, r in zip(yearly["columns"], raw, strict=True):
        span = f"[{w['from']}, {w['to']})" if r.key == "window" else r.key
        what = f"no supervision action recorded in {span}{cat}: no data" if r.nodata else "received pressure in"
        what = what if r.nodata else f"{what} {span}{cat}"
        col.update(key=r.key, label=r.label, nodata=r.nodata, profile=r.profile)
        col["subtitle"] = f"{what}; leaders as of {from_ordinal(at)}"
    yearly["selected"] = next(i for i, r in enumerate(raw) if r.key == "window")
    view = View(
        kind="pressure",
        title=f"Pressure map: {p.orgs[root].name} ({root})",
        subtitle=yearly["columns"][yearly["selected"]]["subtitle"],
    )
    view.data = {
        "root": root,
        "window": w,
        "as_of": from_ordinal(at),
        "budget": budget,
        "collapsed_levels": collapsed,
        "rings": _rings(p, shown, tree),
        "levels": _levels(p, shown),
        "yearly": yearly,
        # what the page sends to the API to expand an aggregate this file does not hold
        "query": {
            "root": root,
            "depth": depth,
            "from": w["from"],
            "to": w["to"],
            "category": category,
            "as_of": from_ordinal(at),
            "top": top,
        },
    }
    _fill(view, context, shown, yearly)
    # every organization inside an aggregate, with its parent and name: the page's search finds
    # it and opens the aggregates on the way to it
    view.data["tree"] = {m: [p.orgs[m].parent_id, p.orgs[m].name] for s in shown.values() for m in s.members}
    # the aggregates' contents, opened in the page without a server, up to ``embed`` nodes
    view.data["expand"] = {agg: expansion_payload(context, every[agg], part) for agg, part in plans.items()}
    view.legend = [
        heat_legend(top, "received pressure (log scale, cold to hot)"),
        {"label": "organization (size: organizations under it)", "color": "#fdae61"},
        {"label": "aggregate of collapsed levels (double-click: expand)", "color": "#abd9e9", "shape": "box"},
        {"label": f"pressure sink (passes on < {sink_ratio})", "color": "#ffffff", "border": SINK_BORDER},
        {"label": f"pressure fades: child receives < {sink_ratio} of its parent", "color": FADE_COLOR, "line": True},
        {"label": "leads (hierarchy)", "color": EDGE_COLOR, "line": True},
        *({"text": ring["label"]} for ring in view.data["rings"]),
    ]
    view.options = PAGE_LABELS
    # the order in which the page places labels, each where it does not cover one placed before:
    # the levels from the root down, the larger subtrees first
    view.data["label_order"] = _label_order(shown.values())
    return view


def expand_aggregate(
    store: Store,
    node: str,
    *,
    root: str | None = None,
    depth: int | None = None,
    window: Window | None = None,
    category: str | None = None,
    as_of: str | dt.date | None = None,
    top: float,
    weights: dict[str, float] | None = None,
    min_pressure: float = 1.0,
    sink_ratio: float = 0.5,
) -> dict[str, Any]:
    """What the page adds when it opens the aggregate ``node`` (``ORG::below``) of a map built
    with the same arguments: ORG's children, each with the aggregate of what lies below it,
    coloured on the map's scale ``top``. The API serves it for the aggregates a page does not hold."""
    if not node.endswith(BELOW):
        raise InvalidInput(f"{node!r} is not an aggregate: an aggregate's id is ORG{BELOW}")
    rule = {"min_pressure": min_pressure, "sink_ratio": sink_ratio}
    window, at, p, figures, years, root, tree = _base(store, root, depth, window, category, as_of, weights, rule)
    parent = node[: -len(BELOW)]
    if parent not in tree or not any(c in tree for c in p.children.get(parent, [])):
        raise NotFound(f"no aggregate {node!r} on the map rooted at {root!r}")
    sizes = _subtree_sizes(p, root)
    agg = _aggregate(p, parent, tree, tree[parent] + 1)
    assert agg is not None  # checked above: something lies below it
    part = _expansion(p, tree, agg, sizes)
    every = {parent: _Shown(parent, None, tree[parent]), **part}
    raw = _raw_columns(p, every, figures, years, tree, profiles=False)  # the chart is the map's
    context = _Context(store, p, figures, rule, raw, every, from_ordinal(at))
    context.top = top
    return expansion_payload(context, agg, part)


# ---------------------------------------------------------------- tree and collapse


def _subtree(p: Pressure, root: str, depth: int | None) -> dict[str, int]:
    """Every organization under ``root`` (within ``depth``) with its ring number."""
    out = {root: 0}
    frontier = [root]
    d = 0
    while frontier and (depth is None or d < depth):
        d += 1
        frontier = [c for o in frontier for c in sorted(p.children.get(o, []))]
        out.update((c, d) for c in frontier)
    return out


def _collapse(
    p: Pressure, tree: dict[str, int], root: str, budget: int, sizes: dict[str, int]
) -> tuple[dict[str, _Shown], int]:
    """Collapse the deepest rings into aggregates until the map fits the budget."""
    deepest = max(tree.values())
    keep = deepest
    while keep > 0:
        visible = sum(1 for d in tree.values() if d <= keep)
        parents_below = len({o for o, d in tree.items() if d == keep and any(c in tree for c in p.children.get(o, []))})
        if visible + (parents_below if keep < deepest else 0) <= budget:
            break
        keep -= 1
    shown: dict[str, _Shown] = {}
    for oid, d in tree.items():
        if d <= keep:
            parent = p.orgs[oid].parent_id if oid != root else None
            shown[oid] = _Shown(oid, parent, d, size=_size(sizes.get(oid, 1)))
    if keep < deepest:
        for oid in [o for o, d in tree.items() if d == keep]:
            if (agg := _aggregate(p, oid, tree, keep + 1)) is not None:
                shown[agg.id] = agg
    for s in shown.values():
        if s.parent in shown:
            shown[s.parent].children.append(s.id)
    return shown, deepest - keep


def _aggregate(p: Pressure, oid: str, tree: dict[str, int], depth: int) -> _Shown | None:
    """The aggregate of everything in ``tree`` below ``oid``, drawn on ring ``depth`` (none if nothing is)."""
    members = _descendants(p, oid, tree)
    if not members:
        return None
    head = sorted(c for c in p.children.get(oid, []) if c in tree)
    return _Shown(f"{oid}{BELOW}", oid, depth, members=members, head=head, size=_size(len(members)))


def _size(organizations: int) -> float:
    """A node's size: its subtree's organizations (an aggregate's: those it holds), on a log scale."""
    return round(6.0 + 3.0 * math.log2(1 + organizations), 1)  # as the page has it, to lay it out again


def _descendants(p: Pressure, oid: str, tree: dict[str, int]) -> list[str]:
    out: list[str] = []
    stack = [c for c in p.children.get(oid, []) if c in tree]
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(k for k in p.children.get(c, []) if k in tree)
    return sorted(out)


def _subtree_sizes(p: Pressure, root: str) -> dict[str, int]:
    order = [root]
    for o in order:
        order.extend(p.children.get(o, []))
    sizes: dict[str, int] = {}
    for o in reversed(order):
        sizes[o] = 1 + sum(sizes[c] for c in p.children.get(o, []))
    return sizes


# ---------------------------------------------------------------- layout


def _layout(shown: dict[str, _Shown], root: str) -> None:
    children = {o: sorted(s.children) for o, s in shown.items()}
    room = {o: 2 * s.size + GAP for o, s in shown.items()}
    for o, placed in radial_layout(children, root, room, step=RING_STEP).items():
        shown[o].placed = placed


def _label_order(shown: Iterable[_Shown]) -> list[str]:
    return [s.id for s in sorted(shown, key=lambda s: (s.depth, -s.size, s.id))]


# ---------------------------------------------------------------- expanding an aggregate


def _expansion(p: Pressure, tree: dict[str, int], agg: _Shown, sizes: dict[str, int]) -> dict[str, _Shown]:
    """What replaces an aggregate when it is opened: its parent's children, each with the
    aggregate of what lies below it. The page lays the map out again (view.js ``relayout``)."""
    parent = agg.parent or ""
    out: dict[str, _Shown] = {}
    for c in agg.head:
        out[c] = _Shown(c, parent, agg.depth, size=_size(sizes.get(c, 1)))
        if (sub := _aggregate(p, c, tree, agg.depth + 1)) is not None:
            out[sub.id] = sub
            out[c].children.append(sub.id)
    return out


def _plan(
    p: Pressure, tree: dict[str, int], shown: dict[str, _Shown], sizes: dict[str, int], embed: int
) -> dict[str, dict[str, _Shown]]:
    """The aggregates whose contents the page holds, at most ``embed`` nodes in all: breadth
    first from the map's aggregates in label order (the shallowest and largest first), then
    the aggregates those contents hold."""
    plans: dict[str, dict[str, _Shown]] = {}
    used = 0
    queue = deque(shown[o] for o in _label_order(s for s in shown.values() if s.members))
    while queue:
        agg = queue.popleft()
        part = _expansion(p, tree, agg, sizes)
        if used + len(part) > embed:
            continue
        used += len(part)
        plans[agg.id] = part
        queue.extend(part[o] for o in _label_order(s for s in part.values() if s.members))
    return plans


def expansion_payload(ctx: _Context, agg: _Shown, part: dict[str, _Shown]) -> dict[str, Any]:
    """An opened aggregate as the page merges it (view.js ``merge``): the nodes and edges drawn
    for it, their details, links and search entries, and their figures in every column of the
    year control (the aggregate's parent first, for the edges from it)."""
    yearly = _arrays(ctx, [agg.parent or "", *part])
    _paint(yearly, ctx.top)
    sub = View(kind="pressure", title="", subtitle="")
    _fill(sub, ctx, part, yearly)
    return {
        "aggregate": agg.id,
        "nodes": vis_nodes(sub.nodes),
        "edges": sub.edges,
        "details": sub.details,
        "links": sub.links,
        "find": sub.data.get("find", {}),
        "levels": _levels(ctx.p, part),
        "label_order": _label_order(part.values()),
        "yearly": {
            "ids": yearly["ids"],
            "edges": yearly["edges"],
            "tips": yearly.get("tips", {}),
            "labels": yearly.get("labels", {}),
            "columns": [{k: col[k] for k in _COLUMN_ARRAYS} for col in yearly["columns"]],
        },
    }


def _rings(p: Pressure, shown: dict[str, _Shown], tree: dict[str, int]) -> list[dict[str, object]]:
    """One ring per level, labelled with the subtree level's median pressure and its fade from the ring above."""
    profile = {row.level: row for row in level_profile(p, tree).levels}
    radius: dict[int, float] = {}
    levels: dict[int, set[str]] = defaultdict(set)
    for s in shown.values():
        if s.depth:
            radius[s.depth] = math.hypot(s.placed.x, s.placed.y)
            for m in s.members or [s.id]:
                levels[s.depth].add(p.orgs[m].level.value)
    out = []
    for d in sorted(radius):
        names = [lv for lv in (x.value for x in Level) if lv in levels[d]]
        text = " / ".join(f"{Level(lv).zh} {lv}" for lv in names)
        row = profile.get(names[0]) if len(names) == 1 else None
        if row is not None:
            text += f": median {row.median}"
            if row.fade_ratio_from_above is not None:
                text += f", x{row.fade_ratio_from_above} of the level above"
        tag = " / ".join(Level(lv).zh for lv in names)
        out.append({"radius": round(radius[d], 1), "tag": tag, "label": f"ring {d}: {text}"})
    return out


# ---------------------------------------------------------------- figures per node


@dataclass
class _Raw:
    """One option of the year control (the window, or a calendar year): each organization's
    received pressure, pass-on ratio, sink and cold flags, and the subtree's level profile."""

    key: str
    label: str
    nodata: bool
    received: dict[str, float | None]
    ratio: dict[str, float | None]
    sink: dict[str, bool]
    cold: dict[str, bool]
    profile: dict[str, object] | None


_COLUMN_ARRAYS = ("values", "colors", "ratios", "sinks", "colds", "fades")


def _base(
    store: Store,
    root: str | None,
    depth: int | None,
    window: Window | None,
    category: str | None,
    as_of: str | dt.date | None,
    weights: dict[str, float] | None,
    rule: dict[str, float],
) -> tuple[Window, int, Pressure, dict[str, OrgPressure], list[YearFigures], str, dict[str, int]]:
    """What a map and an aggregate opened on it both start from: the window (the default one),
    the day of the leaders, the figures, the root (checked) and its subtree with ring numbers."""
    window = window or default_window(store)
    at = to_ordinal(as_of) if as_of is not None else latest_date(store)
    p, figures, years = _window_figures(store, window, category, weights, rule)
    root = root or default_root(p)
    if root not in p.received:
        raise NotFound(f"no organization with id {root!r} in the window (commissions are not on the map)")
    return window, at, p, figures, years, root, _subtree(p, root, depth)


def _window_figures(
    store: Store, window: Window, category: str | None, weights: dict[str, float] | None, rule: dict[str, float]
) -> tuple[Pressure, dict[str, OrgPressure], list[YearFigures]]:
    """The window's pressure, every organization's figures in it and in every calendar year: the
    same for every map and every aggregate opened on it, so the store keeps them until its data
    changes (``Store.memo``): a served page's later maps and expands skip them."""

    def compute() -> tuple[Pressure, dict[str, OrgPressure], list[YearFigures]]:
        p = pressure(store, window, category=category, weights=weights)
        lo, ratio = rule["min_pressure"], rule["sink_ratio"]
        figures = org_pressures(p, min_pressure=lo, sink_ratio=ratio)
        return p, figures, yearly_figures(p, list(p.received), min_pressure=lo, sink_ratio=ratio)

    weighed = tuple(sorted((weights or {}).items()))
    key = ("pressure map", window.start, window.end, category, weighed, tuple(sorted(rule.items())))
    return store.memo(key, compute)


def _raw_columns(
    p: Pressure,
    every: dict[str, _Shown],
    figures: dict[str, OrgPressure],
    years: list[YearFigures],
    tree: dict[str, int],
    *,
    profiles: bool = True,
) -> list[_Raw]:
    """What the year control switches between: the window, then every calendar year of the data,
    for every organization drawn or heading an aggregate. A year without a single action is no
    data (grey, no marks, no profile), not zeros."""
    single = [o for o, s in every.items() if not s.members]
    ids = list(dict.fromkeys([*single, *(m for s in every.values() for m in s.head)]))
    w = p.window.as_dict()
    calendar = w["from"][5:] == "01-01" and w["to"][5:] == "01-01" and int(w["to"][:4]) - int(w["from"][:4]) == 1
    year_of_window = int(w["from"][:4]) if calendar else None
    nodata = not p.action_count
    window = _Raw(
        "window",
        f"{year_of_window} (the window)" if calendar else f"window [{w['from']}, {w['to']})",
        nodata,
        {o: figures[o].received for o in ids},
        {o: figures[o].pass_on_ratio for o in ids},
        {o: figures[o].sink for o in ids},
        {o: figures[o].cold for o in ids},
        None if nodata or not profiles else _profile(*level_rows(p.orgs, {o: p.received.get(o) for o in tree})),
    )
    out = []
    for year in years:
        if year.year == year_of_window:
            out.append(window)  # the window is that very year: one option, the window's figures
        elif not year.actions:
            out.append(_Raw(str(year.year), f"{year.year} (no data)", True, dict.fromkeys(ids), {}, {}, {}, None))
        else:
            # the subtree's level profile that year (yearly_figures' ``profile_of``, from its figures)
            profile = _profile(*level_rows(p.orgs, {o: year.received.get(o) for o in tree})) if profiles else None
            figures_then = (year.received, year.pass_on_ratio, year.sink, year.cold)
            out.append(_Raw(str(year.year), str(year.year), False, *figures_then, profile))
    if window not in out:
        out.insert(0, window)
    return out


@dataclass
class _Context:
    """What every part of one map is built from: the figures, the columns, the nodes of the
    map and of the aggregates' contents, their leaders and the breakdown of what they received."""

    store: Store
    p: Pressure
    figures: dict[str, OrgPressure]
    rule: dict[str, float]
    raw: list[_Raw]
    every: dict[str, _Shown]
    at: str  # leaders as of this day
    top: float = 0.0
    leaders: dict[str, list[Holding]] = field(default_factory=dict)
    breakdown: dict[str, dict[str, dict[str, dict[str, float]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        single = [o for o, s in self.every.items() if not s.members]
        self.leaders = leaders_of(self.store, single, self.at)
        self.breakdown = received_breakdown(self.p, single)


def _arrays(ctx: _Context, ids: list[str]) -> dict[str, Any]:
    """Per column, the figures of ``ids`` (an aggregate: the median of its top level that existed
    then) and of the edges between them, as the page's year control reads them."""
    index = {o: k for k, o in enumerate(ids)}
    edges = [
        (f"{s.parent}->{s.id}", index[s.parent], index[s.id])
        for o in ids
        if (s := ctx.every[o]).parent is not None and s.parent in index
    ]
    columns = []
    for r in ctx.raw:
        values: list[float | None] = []
        for o in ids:
            s = ctx.every[o]
            if s.members:
                vals = [v for m in s.head if (v := r.received.get(m)) is not None]
                values.append(round(float(np.median(vals)), 4) if vals else None)
            else:
                values.append(None if (v := r.received[o]) is None else round(v, 4))
        fade = [
            (u := values[a]) is not None and (v := values[b]) is not None and fades(u, v, **ctx.rule)
            for _, a, b in edges
        ]
        columns.append(
            {
                "values": values,
                "ratios": [None if (x := r.ratio.get(o)) is None else round(x, 4) for o in ids],
                "sinks": [bool(r.sink.get(o)) for o in ids],
                "colds": [bool(r.cold.get(o)) for o in ids],
                "fades": fade,
            }
        )
    selected = next(i for i, r in enumerate(ctx.raw) if r.key == "window")
    return {
        "ids": ids,
        "edges": [list(e) for e in edges],
        "columns": columns,
        "keys": [r.key for r in ctx.raw],
        "selected": selected,
    }


def _paint(yearly: dict[str, Any], top: float) -> None:
    for col in yearly["columns"]:
        col["colors"] = [NO_DATA if v is None else heat(v, top) for v in col["values"]]


def _fill(view: View, ctx: _Context, part: dict[str, _Shown], yearly: dict[str, Any]) -> None:
    """The nodes of ``part`` and the edges of ``yearly``, with their details, links and search entries."""
    index = {o: k for k, o in enumerate(yearly["ids"])}
    for s in part.values():
        if s.members:
            _aggregate_node(view, ctx, s, yearly, index[s.id])
        else:
            _org_node(view, ctx, s, yearly, index[s.id])
    view.edges.extend(_edge(yearly, e) for e in range(len(yearly["edges"])))


def _profile(rows: list[LevelRow], steep: Fade | None) -> dict[str, object]:
    """A column's level profile as the chart beside the map draws it."""
    levels = [
        {"level": r.level, "zh": Level(r.level).zh, "orgs": r.orgs, "median": r.median, "fade": r.fade_ratio_from_above}
        for r in rows
    ]
    return {"levels": levels, "steepest": None if steep is None else steep.model_dump()}


def _levels(p: Pressure, shown: dict[str, _Shown]) -> dict[str, list[str]]:
    """The nodes of each level (an aggregate: its top level's), for the chart to select them."""
    out: dict[str, list[str]] = defaultdict(list)
    for s in shown.values():
        level = p.orgs[s.head[0] if s.members and s.head else s.id].level.value
        out[level].append(s.id)
    return dict(out)


def _org_node(view: View, ctx: _Context, s: _Shown, yearly: dict, k: int) -> None:
    p, f = ctx.p, ctx.figures[s.id]
    org = p.orgs[s.id]
    tip = f"{org.name} ({s.id}) received {{value}}{{sink}}"
    view.nodes.append(
        {
            "id": s.id,
            "label": org.name,
            "name": org.name,
            "x": round(s.placed.x, 1),
            "y": round(s.placed.y, 1),
            "size": round(s.size, 1),
            "shape": "dot",
            **_marks(yearly, k, tip, None),
            "attrs": {
                "org_id": s.id,
                "level": org.level.value,
                "kind": org.kind.value,
                "received": f.received,
                "sink": f.sink,
                "cold": f.cold,
                "pass_on_ratio": f.pass_on_ratio if f.pass_on_ratio is not None else -1.0,
            },
        }
    )
    breakdown = ctx.breakdown[s.id]
    kinds, cats = breakdown["kind"], breakdown["category"]
    n_actions = sum(int(k["count"]) for k in kinds.values())
    # the most senior post first (leaders_of gives them in position order)
    ranked = sorted(ctx.leaders.get(s.id, []), key=lambda h: (-h.post.rank, h.post.position_id))
    names = "; ".join(f"{h.post.title}: {h.person.name or h.person.id}" for h in ranked)
    rows = [
        ["id", s.id],
        ["level / kind", f"{org.level.zh} {org.level.value} / {org.kind.zh} {org.kind.value}"],
        ["received pressure", str(f.received)],
        ["actions behind it", f"{n_actions} (their ids: rtc pressure --org {s.id} --explain received)"],
        ["pass-on ratio", "—" if f.pass_on_ratio is None else str(f.pass_on_ratio)],
        ["pressure sink", "yes" if f.sink else "no"],
        ["cold", "yes" if f.cold else "no"],
        ["weak-form share sent", "—" if f.weak_share is None else str(f.weak_share)],
        ["commission share", "—" if f.commission_share is None else str(f.commission_share)],
        ["leaders now", names or "none on record"],
    ]
    for part, figures in (("kind", kinds), ("category", cats)):
        rows += [
            [f"by {part}: {k}", f"{v['count']:.0f} actions, pressure {round(v['pressure'], 2)}"]
            for k, v in figures.items()
        ]
    rows.append(["by year", _by_year(yearly, k)])
    view.details[s.id] = rows
    # the search finds a leader (by name or id) at the organization they lead
    view.data.setdefault("find", {})[s.id] = [
        [f"{h.person.name} {h.person.id}", f"{h.person.name or h.person.id} ({h.person.id}): {h.post.title} here"]
        for h in ranked
    ]
    view.links[s.id] = [
        ["pressure map rooted here", to_view("pressure", s.id)],
        ["its duties", to_view("duties", s.id)],
        ["assessment report (研判报告)", to_view("reports", s.id)],
        *(
            [f"career: {h.person.name or h.person.id} ({h.post.title})", to_view("persons", h.person.id)]
            for h in ranked
        ),
    ]


def _aggregate_node(view: View, ctx: _Context, s: _Shown, yearly: dict, k: int) -> None:
    p, figures = ctx.p, ctx.figures
    by_level: dict[str, list[float]] = defaultdict(list)
    for m in s.members:
        by_level[p.orgs[m].level.value].append(figures[m].received)
    levels = [lv for lv in (x.value for x in Level) if lv in by_level]
    median = round(float(np.median([figures[m].received for m in s.head])), 2)
    parent = p.orgs[s.parent or ""]
    counts = " + ".join(f"{len(by_level[lv])} {Level(lv).zh}" for lv in levels)
    tip = f"{counts} under {parent.name}: median pressure {{value}}; double-click to expand"
    marks = _marks(yearly, k, tip, f"{counts}\nmedian {{value}}")
    view.nodes.append(
        {
            "id": s.id,
            "name": f"{parent.name} 下属 {counts}",
            "x": round(s.placed.x, 1),
            "y": round(s.placed.y, 1),
            "size": round(s.size, 1),
            "shape": "square",
            **marks,
            "attrs": {"aggregate_of": parent.id, "organizations": len(s.members), "median": median},
        }
    )
    rows = [["aggregate of", f"{len(s.members)} organizations under {parent.name} ({parent.id})"]]
    for lv in levels:
        vals = by_level[lv]
        sinks = sum(1 for m in s.members if p.orgs[m].level.value == lv and figures[m].sink)
        rows.append([f"{Level(lv).zh} {lv}", f"{len(vals)}, median {round(float(np.median(vals)), 2)}, {sinks} sinks"])
    rows.append(["expand", f"double-click it or press expand; a file: rtc view pressure --root {parent.id}"])
    rows.append(["median by year", _by_year(yearly, k)])
    view.details[s.id] = rows
    view.links[s.id] = [[f"the map rooted at {parent.name}", to_view("pressure", parent.id)]]


def _number(value: float | None) -> str:
    """A figure as the page prints it (view.js ``number``): no data, or the shortest decimal."""
    return "no data" if value is None else f"{value:.1f}" if value == int(value) else str(value)


def _marks(yearly: dict, k: int, tip: str, label: str | None) -> dict[str, object]:
    """A node's fill, sink border, tooltip (and an aggregate's label) in the selected column; the
    templates go to the page, whose year control redraws them with view.js ``paint``."""
    node_id = yearly["ids"][k]
    col = yearly["columns"][yearly["selected"]]
    fill, sink = col["colors"][k], col["sinks"][k]
    yearly.setdefault("tips", {})[node_id] = tip
    out: dict[str, object] = {
        "color": {
            "background": fill,
            "border": SINK_BORDER if sink else "#555555",
            "highlight": {"background": fill, "border": "#000"},
        },
        "borderWidth": 3 if sink else 1,
        "title": tip.replace("{value}", _number(col["values"][k])).replace(
            "{sink}", " — pressure sink" if sink else ""
        ),
    }
    if label is not None:
        yearly.setdefault("labels", {})[node_id] = label
        out["label"] = label.replace("{value}", _number(col["values"][k]))
    return out


def _by_year(yearly: dict, k: int) -> str:
    return ", ".join(
        f"{key}: {_number(c['values'][k])}"
        for key, c in zip(yearly["keys"], yearly["columns"], strict=True)
        if c["values"][k] is not None
    )


def _edge(yearly: dict, e: int) -> dict[str, object]:
    """Parent to child; red and dashed where pressure fades (``queries.pressure.fades``): the
    child (an aggregate: its median) receives less than the sink ratio of its parent."""
    col = yearly["columns"][yearly["selected"]]
    edge_id, a, b = yearly["edges"][e]
    fade = col["fades"][e]
    return {
        "id": edge_id,
        "from": yearly["ids"][a],
        "to": yearly["ids"][b],
        "color": {"color": FADE_COLOR if fade else EDGE_COLOR},
        "width": 3 if fade else 1,
        "dashes": fade,
        "title": f"{_number(col['values'][a])} -> {_number(col['values'][b])}" + (" (fades)" if fade else ""),
    }
