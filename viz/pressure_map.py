"""The pressure map: a subtree coloured by received pressure, on level rings.

Layout: a radial tree. The root sits in the middle and each level below it is a ring
(the level bands of the map); every node's angle is the middle of the arc its subtree
takes, so a city and its counties point the same way. A flat strip of level bands turns a
province into a line tens of thousands of pixels wide; rings keep the first zoom readable.
Labels are sized by ring, and vis-network draws a label only when it is large enough to
read, so zooming in reveals the deeper levels' names.

Above the node budget, the deepest levels are collapsed, one level at a time, into one
aggregate node per parent ("312 村 villages, median 0.4"); the aggregate says how to open it
(the same view rooted at that parent).

Marks: a pressure sink (receives at least ``min_pressure``, passes on less than
``sink_ratio``) has a thick black border; an edge where pressure fades, a child receiving
less than ``sink_ratio`` of its parent's pressure (the per-edge form of the pass-on ratio),
is red and dashed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

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
    fades,
    level_profile,
    level_rows,
    org_pressures,
    pressure,
    received_breakdown,
    yearly_figures,
)
from queries.window import Window, default_window, latest_date
from viz.view import NO_DATA, PAGE_LABELS, Placed, View, heat, heat_legend, radial_layout, to_view

DEFAULT_BUDGET = 1500
FADE_COLOR = "#d7301f"
EDGE_COLOR = "#9e9e9e"
SINK_BORDER = "#111111"
RING_STEP = 420.0  # minimum distance between two rings
GAP = 14.0  # room between two neighbours on a ring


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
) -> View:
    """Build the pressure map of ``root``'s subtree (``depth`` levels below it; all by default).

    Examples
    --------
    >>> view = pressure_map(store, root="P00", budget=1500)  # doctest: +SKIP
    >>> write_view(view, Path("pressure.html"))  # doctest: +SKIP
    """
    if budget < 2:
        raise InvalidInput("the node budget must be at least 2")
    window = window or default_window(store)
    at = to_ordinal(as_of) if as_of is not None else latest_date(store)
    p = pressure(store, window, category=category, weights=weights)
    root = root or default_root(p)
    if root not in p.received:
        raise NotFound(f"no organization with id {root!r} in the window (commissions are not on the map)")
    figures = org_pressures(p, min_pressure=min_pressure, sink_ratio=sink_ratio)
    tree = _subtree(p, root, depth)
    shown, collapsed = _collapse(p, tree, root, budget)
    _layout(shown, root)
    single = [s.id for s in shown.values() if not s.members]
    leaders = leaders_of(store, single, from_ordinal(at))
    breakdown = received_breakdown(p, single)
    rule = {"min_pressure": min_pressure, "sink_ratio": sink_ratio}
    yearly = _columns(p, shown, figures, rule, tree)
    top = max((v for col in yearly["columns"] for v in col["values"] if v is not None), default=0.0)
    for col in yearly["columns"]:
        col["colors"] = [NO_DATA if v is None else heat(v, top) for v in col["values"]]

    w = window.as_dict()
    cat = f", category {category}" if category else ""
    for col in yearly["columns"]:
        span = f"[{w['from']}, {w['to']})" if col["key"] == "window" else col["key"]
        what = (
            f"no supervision action recorded in {span}{cat}: no data"
            if col["nodata"]
            else f"received pressure in {span}{cat}"
        )
        col["subtitle"] = f"{what}; leaders as of {from_ordinal(at)}"
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
    }
    for s in shown.values():
        if s.members:
            _aggregate_node(view, p, figures, s, yearly)
        else:
            _org_node(view, p, figures[s.id], s, yearly, leaders.get(s.id, []), breakdown[s.id])
        if s.parent is not None:
            view.edges.append(_edge(yearly, len(view.edges)))  # _columns lists the edges in this order
    view.legend = [
        heat_legend(top, "received pressure (log scale, cold to hot)"),
        {"label": "organization (size: organizations under it)", "color": "#fdae61"},
        {"label": "aggregate of collapsed levels", "color": "#abd9e9", "shape": "box"},
        {"label": f"pressure sink (passes on < {sink_ratio})", "color": "#ffffff", "border": SINK_BORDER},
        {"label": f"pressure fades: child receives < {sink_ratio} of its parent", "color": FADE_COLOR, "line": True},
        {"label": "leads (hierarchy)", "color": EDGE_COLOR, "line": True},
        *({"text": ring["label"]} for ring in view.data["rings"]),
    ]
    view.options = PAGE_LABELS
    # the order in which the page places labels, each where it does not cover one placed before:
    # the levels from the root down, the larger subtrees first
    view.data["label_order"] = [s.id for s in sorted(shown.values(), key=lambda s: (s.depth, -s.size, s.id))]
    return view


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


def _collapse(p: Pressure, tree: dict[str, int], root: str, budget: int) -> tuple[dict[str, _Shown], int]:
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
            shown[oid] = _Shown(oid, parent, d)
    if keep < deepest:
        for oid in [o for o, d in tree.items() if d == keep]:
            members = _descendants(p, oid, tree)
            if members:
                agg = f"{oid}::below"
                head = sorted(c for c in p.children.get(oid, []) if c in tree)
                shown[agg] = _Shown(agg, oid, keep + 1, members=members, head=head)
    for s in shown.values():
        if s.parent in shown:
            shown[s.parent].children.append(s.id)
    sizes = _subtree_sizes(p, root)
    for s in shown.values():
        n = len(s.members) if s.members else sizes.get(s.id, 1)
        s.size = 6.0 + 3.0 * math.log2(1 + n)
    return shown, deepest - keep


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


def _columns(
    p: Pressure, shown: dict[str, _Shown], figures: dict[str, OrgPressure], rule: dict[str, float], tree: dict[str, int]
) -> dict:
    """What the year control switches between: the window, then every calendar year of the data.

    Each column holds, per node, the value its fill shows (an aggregate: the median of its top
    level that existed then), its pass-on ratio and sink and cold flags, per edge whether
    pressure fades on it, and the subtree's level profile (the chart beside the map). A year
    without a single action is no data (grey, no marks, no profile), not zeros.
    """
    ids = list(shown)
    index = {o: k for k, o in enumerate(ids)}
    single = [o for o in ids if not shown[o].members]
    edges = [(f"{s.parent}->{s.id}", index[s.parent], index[s.id]) for s in shown.values() if s.parent]

    def column(key: str, label: str, received: dict[str, float | None], ratio: dict, sink: dict, cold: dict) -> dict:
        values: list[float | None] = []
        for o in ids:
            if shown[o].members:
                vals = [v for m in shown[o].head if (v := received.get(m)) is not None]
                values.append(round(float(np.median(vals)), 4) if vals else None)
            else:
                values.append(None if (r := received[o]) is None else round(r, 4))
        fade = [
            (u := values[a]) is not None and (v := values[b]) is not None and fades(u, v, **rule) for _, a, b in edges
        ]
        return {
            "key": key,
            "label": label,
            "values": values,
            "ratios": [None if (r := ratio.get(o)) is None else round(r, 4) for o in ids],
            "sinks": [bool(sink.get(o)) for o in ids],
            "colds": [bool(cold.get(o)) for o in ids],
            "fades": fade,
        }

    heads = {m for s in shown.values() for m in s.head}
    w = p.window.as_dict()
    calendar = w["from"][5:] == "01-01" and w["to"][5:] == "01-01" and int(w["to"][:4]) - int(w["from"][:4]) == 1
    year_of_window = int(w["from"][:4]) if calendar else None
    window = column(
        "window",
        f"{year_of_window} (the window)" if calendar else f"window [{w['from']}, {w['to']})",
        {o: figures[o].received for o in [*single, *heads]},
        {o: figures[o].pass_on_ratio for o in single},
        {o: figures[o].sink for o in single},
        {o: figures[o].cold for o in single},
    )
    window["nodata"] = not p.action_count
    window["profile"] = (
        None if window["nodata"] else _profile(*level_rows(p.orgs, {o: p.received.get(o) for o in tree}))
    )
    columns = []
    for year in yearly_figures(p, [*single, *heads], **rule, profile_of=tree):
        if year.year == year_of_window:
            columns.append(window)  # the window is that very year: one option, the window's figures
            continue
        if not year.actions:
            columns.append(
                column(str(year.year), f"{year.year} (no data)", dict.fromkeys(single + list(heads)), {}, {}, {})
            )
        else:
            columns.append(
                column(str(year.year), str(year.year), year.received, year.pass_on_ratio, year.sink, year.cold)
            )
        columns[-1]["nodata"] = not year.actions
        columns[-1]["profile"] = _profile(year.levels, year.steepest_fade) if year.actions else None
    if not any(c is window for c in columns):
        columns.insert(0, window)
    return {
        "ids": ids,
        "edges": [list(e) for e in edges],
        "columns": columns,
        "selected": columns.index(window),
    }


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


def _org_node(
    view: View,
    p: Pressure,
    f: OrgPressure,
    s: _Shown,
    yearly: dict,
    leaders: list[Holding],
    breakdown: dict[str, dict[str, dict[str, float]]],
) -> None:
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
            **_marks(yearly, s.id, tip, None),
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
    kinds, cats = breakdown["kind"], breakdown["category"]
    n_actions = sum(int(k["count"]) for k in kinds.values())
    # the most senior post first (leaders_of gives them in position order)
    ranked = sorted(leaders, key=lambda h: (-h.post.rank, h.post.position_id))
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
    rows.append(["by year", _by_year(yearly, s.id)])
    view.details[s.id] = rows
    # the search finds a leader (by name or id) at the organization they lead
    view.data.setdefault("find", {})[s.id] = [
        [f"{h.person.name} {h.person.id}", f"{h.person.name or h.person.id} ({h.person.id}): {h.post.title} here"]
        for h in ranked
    ]
    view.links[s.id] = [
        ["pressure map rooted here", to_view("pressure", s.id)],
        ["its duties", to_view("duties", s.id)],
        *(
            [f"career: {h.person.name or h.person.id} ({h.post.title})", to_view("persons", h.person.id)]
            for h in ranked
        ),
    ]


def _aggregate_node(
    view: View,
    p: Pressure,
    figures: dict[str, OrgPressure],
    s: _Shown,
    yearly: dict,
) -> None:
    by_level: dict[str, list[float]] = defaultdict(list)
    for m in s.members:
        by_level[p.orgs[m].level.value].append(figures[m].received)
    levels = [lv for lv in (x.value for x in Level) if lv in by_level]
    median = round(float(np.median([figures[m].received for m in s.head])), 2)
    parent = p.orgs[s.parent or ""]
    counts = " + ".join(f"{len(by_level[lv])} {Level(lv).zh}" for lv in levels)
    tip = f"{counts} under {parent.name}: median pressure {{value}}; open with rtc view pressure --root {parent.id}"
    marks = _marks(yearly, s.id, tip, f"{counts}\nmedian {{value}}")
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
    rows.append(["open", f"rtc view pressure --root {parent.id} (API: /views/pressure?root={parent.id})"])
    rows.append(["median by year", _by_year(yearly, s.id)])
    view.details[s.id] = rows
    # the search finds an organization folded into the aggregate, and says where it is
    view.data.setdefault("find", {})[s.id] = [
        [f"{p.orgs[m].name} {m}", f"{p.orgs[m].name} ({m}) is inside this aggregate: open it to see it"]
        for m in s.members
    ]
    view.links[s.id] = [[f"open: the map rooted at {parent.name}", to_view("pressure", parent.id)]]


def _number(value: float | None) -> str:
    """A figure as the page prints it (view.js ``number``): no data, or the shortest decimal."""
    return "no data" if value is None else f"{value:.1f}" if value == int(value) else str(value)


def _marks(yearly: dict, node_id: str, tip: str, label: str | None) -> dict[str, object]:
    """A node's fill, sink border, tooltip (and an aggregate's label) in the selected column; the
    templates go to the page, whose year control redraws them with view.js ``nodeMarks``."""
    k = yearly["ids"].index(node_id)
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


def _by_year(yearly: dict, node_id: str) -> str:
    k = yearly["ids"].index(node_id)
    return ", ".join(f"{c['key']}: {_number(c['values'][k])}" for c in yearly["columns"] if c["values"][k] is not None)


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
