"""Duty decomposition: an organization's duties and their shares down the hierarchy, with the
gaps marked. Laid out as a radial tree (the layout of the pressure map): the organization in
the middle, its duties on the first ring, each level's shares on the next, each duty's shares
in the arc beside it.

Two gaps are marked in red: a duty that is not decomposed to any child organization although
the organization has children (the ``undecomposed-duty`` gap of ``rtc findings gaps``), and a
child organization that received no share of a duty of its parent (a dashed red box).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable

from graph.errors import NotFound
from graph.model import Category, Duty, OrgKind, from_ordinal, to_ordinal
from graph.store import Store
from queries.findings import undecomposed_duties
from queries.pressure import exists_in
from queries.window import Window, latest_date
from viz.view import READABLE_LABELS, View, radial_layout, ring_font

PALETTE = ["#c6dbef", "#c7e9c0", "#fdd0a2", "#dadaeb", "#fcbba1", "#d9d9d9", "#ffffb3", "#bebada"]
CATEGORY_COLORS = {c.value: PALETTE[i % len(PALETTE)] for i, c in enumerate(Category)}
GAP_COLOR = "#cb181d"
ROOM = 150.0  # arc length a duty's box needs on its ring
RING_STEP = 900.0


def duties_view(
    store: Store,
    org_id: str,
    *,
    depth: int = 1,
    category: str | None = None,
    at: str | dt.date | None = None,
    budget: int = 1500,
) -> View:
    """The duties of ``org_id`` and of the organizations ``depth`` levels below it, on ``at``."""
    day = to_ordinal(at) if at is not None else latest_date(store)
    orgs = store.get_organizations()
    if org_id not in orgs:
        raise NotFound(f"no organization with id {org_id!r}")
    live = {i: o for i, o in orgs.items() if o.kind is not OrgKind.commission and exists_in(o, Window(day, day + 1))}
    kids: dict[str, list[str]] = defaultdict(list)
    for o in live.values():
        if o.parent_id:
            kids[o.parent_id].append(o.id)
    ring = {org_id: 0}
    frontier = [org_id]
    for level in range(1, depth + 1):
        frontier = [c for o in frontier for c in sorted(kids.get(o, []))]
        ring.update((c, level) for c in frontier)
    duties = {k: v for k, v in store.get_duties(org_ids=list(ring)).items() if category in (None, v.category.value)}
    shown_depth = depth
    while shown_depth > 0 and sum(1 for d in duties.values() if ring[d.org_id] <= shown_depth) > budget:
        shown_depth -= 1
    duties = {k: v for k, v in duties.items() if ring[v.org_id] <= shown_depth}
    children = _duty_children(duties)
    gaps = {d.id for d in undecomposed_duties(store, live)}

    org = orgs[org_id]
    view = View(
        kind="duties",
        title=f"Duty decomposition: {org.name} ({org_id})",
        subtitle=f"organizations on {from_ordinal(day)}, {shown_depth} levels down"
        + (f", category {category}" if category else "")
        + (f" (cut from {depth} to fit {budget} nodes)" if shown_depth < depth else ""),
    )
    missing = _missing_shares(duties, children, kids, ring, shown_depth)
    roots = sorted((d for d in duties.values() if d.parent_duty_id not in duties), key=_order(ring))
    tree: dict[str, list[str]] = {f"org:{org_id}": [d.id for d in roots]}
    for d in duties.values():
        tree[d.id] = [c.id for c in sorted(children.get(d.id, []), key=lambda c: c.org_id)]
    for (duty_id, _child), node in missing.items():
        tree[duty_id].append(node)
    room = {n: ROOM for kids_ in tree.values() for n in kids_} | {f"org:{org_id}": ROOM}
    placed = radial_layout(tree, f"org:{org_id}", room, step=RING_STEP)
    outer = max(math.hypot(q.x, q.y) for q in placed.values()) or RING_STEP
    view.nodes.append(
        {
            "id": f"org:{org_id}",
            "label": org.name,
            "name": org.name,
            "x": 0.0,
            "y": 0.0,
            "shape": "ellipse",
            "color": {"background": "#fdd0a2", "border": "#a63603"},
            "font": {"size": ring_font(placed[f"org:{org_id}"], org.name, outer)},
        }
    )
    view.details[f"org:{org_id}"] = [["organization", f"{org.name} ({org_id})"], ["duties shown", str(len(duties))]]
    view.edges += [{"from": f"org:{org_id}", "to": d.id, "color": {"color": "#636363"}} for d in roots]
    for d in duties.values():
        owner = orgs[d.org_id]
        undecomposed = d.id in gaps
        head = f"{d.category.zh}\n{d.category.value}" if d.org_id == org_id else f"{owner.name}\n{d.category.zh}"
        label = head + ("\nnot decomposed" if undecomposed else "")
        view.nodes.append(
            {
                "id": d.id,
                "label": label,
                "name": f"{owner.name} {d.category.zh} {d.id}",
                "x": round(placed[d.id].x, 1),
                "y": round(placed[d.id].y, 1),
                "font": {"size": ring_font(placed[d.id], label, outer)},
                "shape": "box",
                "color": {
                    "background": CATEGORY_COLORS.get(d.category.value, "#ffffff"),
                    "border": GAP_COLOR if undecomposed else "#636363",
                },
                "borderWidth": 4 if undecomposed else 1,
                "attrs": {"org_id": d.org_id, "category": d.category.value, "gap": undecomposed},
            }
        )
        view.details[d.id] = [
            ["duty", d.id],
            ["organization", f"{owner.name} ({owner.id}), {owner.level.zh} {owner.level.value}"],
            ["category", f"{d.category.zh} {d.category.value}"],
            ["description", d.description or "—"],
            ["decomposed from", d.parent_duty_id or "—"],
            ["decomposed into", ", ".join(c.id for c in children.get(d.id, [])) or "—"],
            ["gap", "not decomposed to any child organization" if undecomposed else "none"],
        ]
        if d.parent_duty_id in duties:
            view.edges.append({"from": d.parent_duty_id, "to": d.id, "color": {"color": "#636363"}})
    for (duty_id, child), node in missing.items():
        child_org = orgs[child]
        label = f"{child_org.name}\nno share"
        view.nodes.append(
            {
                "id": node,
                "label": label,
                "name": f"{child_org.name} no share of {duty_id}",
                "x": round(placed[node].x, 1),
                "y": round(placed[node].y, 1),
                "font": {"size": ring_font(placed[node], label, outer)},
                "shape": "box",
                "color": {"background": "#ffffff", "border": GAP_COLOR},
                "shapeProperties": {"borderDashes": [6, 4]},
                "borderWidth": 2,
                "attrs": {"org_id": child, "gap": True},
            }
        )
        view.details[node] = [["gap", f"{child_org.name} ({child}) received no share of duty {duty_id}"]]
        view.edges.append({"from": duty_id, "to": node, "color": {"color": GAP_COLOR}, "dashes": True})
    radii = sorted({round(math.hypot(q.x, q.y), 1): q.depth for q in placed.values() if q.depth}.items())
    view.data = {
        "rings": [
            {"radius": r, "tag": " / ".join(sorted({orgs[o].level.zh for o, k in ring.items() if k == d - 1}))}
            for r, d in radii
        ],
        "org": org_id,
    }
    view.options = READABLE_LABELS
    view.legend = [
        *({"label": f"{c.zh} {c.value}", "color": CATEGORY_COLORS[c.value], "shape": "box"} for c in Category),
        {
            "label": "duty not decomposed (its organization has children)",
            "color": "#ffffff",
            "border": GAP_COLOR,
            "shape": "box",
        },
        {"label": "child organization with no share of the duty", "color": GAP_COLOR, "line": True, "dashes": True},
        {"label": "decomposed into", "color": "#636363", "line": True},
    ]
    return view


def _duty_children(duties: dict[str, Duty]) -> dict[str, list[Duty]]:
    out: dict[str, list[Duty]] = defaultdict(list)
    for d in duties.values():
        if d.parent_duty_id in duties:
            out[d.parent_duty_id].append(d)
    return out


def _order(ring: dict[str, int]) -> Callable[[Duty], tuple[int, str, str]]:
    return lambda d: (ring[d.org_id], d.org_id, d.category.value)


def _missing_shares(
    duties: dict[str, Duty],
    children: dict[str, list[Duty]],
    kids: dict[str, list[str]],
    ring: dict[str, int],
    shown_depth: int,
) -> dict[tuple[str, str], str]:
    """(duty, child organization) pairs where the child got no share, each with a node id."""
    out = {}
    for d in duties.values():
        if ring[d.org_id] >= shown_depth:
            continue
        got = {c.org_id for c in children.get(d.id, [])}
        for child in sorted(kids.get(d.org_id, [])):
            if child in ring and child not in got:
                out[(d.id, child)] = f"{d.id}::missing::{child}"
    return out
