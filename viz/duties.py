"""Duty decomposition: an organization's duties and their shares down the hierarchy, with the
gaps marked. Laid out as a tree from left to right: the organization, its duties (one band per
category), each level's shares in the next column, leaves stacked one per row, so no label
meets another at any depth. Two levels down and more, a duty's shares are folded into one box
("8 村: 7 shares, ∅ 1 no share") when it has more than ``FOLD``; its details list them all.

Two gaps are marked, with marks that cannot be confused: a duty that is not decomposed to any
child organization although the organization has children (the ``undecomposed-duty`` gap of
``rtc findings gaps``) has a thick red border and "✕ not decomposed"; a child organization that
received no share of a duty of its parent is a white box with a dashed orange border and "∅ no
share".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from graph.errors import NotFound
from graph.model import Category, Duty, OrgKind, from_ordinal, to_ordinal
from graph.store import Store
from queries.findings import undecomposed_duties
from queries.pressure import exists_in
from queries.window import Window, latest_date
from viz.people import text_width
from viz.view import View, to_view

PALETTE = ["#c6dbef", "#c7e9c0", "#fdd0a2", "#dadaeb", "#fcbba1", "#d9d9d9", "#ffffb3", "#bebada"]
CATEGORY_COLORS = {c.value: PALETTE[i % len(PALETTE)] for i, c in enumerate(Category)}
GAP_COLOR = "#cb181d"  # not decomposed: a thick red border
NO_SHARE_COLOR = "#e6550d"  # no share: a dashed orange border on a white box
FOLD = 4  # two levels down and more, a duty with more shares than this shows them as one box
FONT = 16
ROW = 64.0


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
    root = f"org:{org_id}"
    tree: dict[str, list[str]] = {root: [d.id for d in roots]}
    for d in duties.values():
        tree[d.id] = [c.id for c in sorted(children.get(d.id, []), key=lambda c: c.org_id)]
    for (duty_id, _child), node in missing.items():
        tree[duty_id].append(node)
    folded = _fold(tree, duties, ring)
    shown = tree_nodes(tree, root)

    def share_status(node: str) -> str:
        return "no share" if node in missing.values() else "not decomposed" if node in gaps else "share"

    view.nodes.append(
        {
            "id": root,
            "label": org.name,
            "name": org.name,
            "shape": "ellipse",
            "color": {"background": "#fdd0a2", "border": "#a63603"},
        }
    )
    view.details[root] = [["organization", f"{org.name} ({org_id})"], ["duties shown", str(len(duties))]]
    view.links[root] = [["pressure map", to_view("pressure", org_id)]]
    view.edges += [{"from": root, "to": d.id, "color": {"color": "#636363"}} for d in roots]
    for d in duties.values():
        if d.id not in shown:
            continue  # folded into its parent's box
        owner = orgs[d.org_id]
        undecomposed = d.id in gaps
        head = f"{d.category.zh}\n{d.category.value}" if d.org_id == org_id else f"{owner.name}\n{d.category.zh}"
        label = head + ("\n✕ not decomposed" if undecomposed else "")
        view.nodes.append(
            {
                "id": d.id,
                "label": label,
                "name": f"{owner.name} {d.category.zh} {d.id}",
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
        if d.org_id != org_id:
            view.links[d.id] = [[f"duties of {owner.name}", to_view("duties", d.org_id)]]
        if d.parent_duty_id in duties:
            view.edges.append({"from": d.parent_duty_id, "to": d.id, "color": {"color": "#636363"}})
    for (duty_id, child), node in missing.items():
        if node not in shown:
            continue
        child_org = orgs[child]
        view.nodes.append(
            {
                "id": node,
                "label": f"{child_org.name}\n∅ no share",
                "name": f"{child_org.name} no share of {duty_id}",
                "shape": "box",
                "color": {"background": "#ffffff", "border": NO_SHARE_COLOR},
                "shapeProperties": {"borderDashes": [6, 4]},
                "borderWidth": 2,
                "attrs": {"org_id": child, "gap": True},
            }
        )
        view.details[node] = [["gap", f"{child_org.name} ({child}) received no share of duty {duty_id}"]]
        view.edges.append({"from": duty_id, "to": node, "color": {"color": NO_SHARE_COLOR}, "dashes": True})
    for parent, (node, members) in folded.items():
        _folded_node(view, node, parent, members, duties, orgs, missing, share_status)
    bands = _layout(view, tree, root, roots)
    view.data = {"org": org_id, "bands": bands, "readable": FONT}
    for n in view.nodes:
        n["font"] = {"size": FONT}
    view.legend = [
        *({"label": f"{c.zh} {c.value}", "color": CATEGORY_COLORS[c.value], "shape": "box"} for c in Category),
        {
            "label": "✕ duty not decomposed (its organization has children)",
            "color": "#ffffff",
            "border": GAP_COLOR,
            "shape": "box",
        },
        {
            "label": "∅ child organization with no share of the duty",
            "color": "#ffffff",
            "border": NO_SHARE_COLOR,
            "shape": "box",
            "dashed_border": True,
        },
        {
            "label": f"shares folded into one box (more than {FOLD}, two levels down)",
            "color": "#f7f7f7",
            "shape": "box",
        },
        {"label": "decomposed into", "color": "#636363", "line": True},
    ]
    return view


def tree_nodes(tree: dict[str, list[str]], root: str) -> set[str]:
    """Every node reachable from the root (what ``_fold`` left in the tree)."""
    seen, stack = {root}, [root]
    while stack:
        for c in tree.get(stack.pop(), []):
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return seen


def _fold(
    tree: dict[str, list[str]], duties: dict[str, Duty], ring: dict[str, int]
) -> dict[str, tuple[str, list[str]]]:
    """Replace the shares of a duty two or more levels down by one box when there are more than
    ``FOLD``; returns parent -> (box id, the shares it holds)."""
    out = {}
    for parent, kids_ in list(tree.items()):
        if parent in duties and ring[duties[parent].org_id] >= 1 and len(kids_) > FOLD:
            node = f"{parent}::folded"
            out[parent] = (node, kids_)
            tree[parent] = [node]
    return out


def _folded_node(
    view: View,
    node: str,
    parent: str,
    members: list[str],
    duties: dict[str, Duty],
    orgs: dict,
    missing: dict[tuple[str, str], str],
    status: Callable[[str], str],
) -> None:
    owner_of = {n: child for (_, child), n in missing.items()}
    rows: list[list[str]] = []
    counts: dict[str, int] = defaultdict(int)
    for m in members:
        org = orgs[duties[m].org_id] if m in duties else orgs[owner_of[m]]
        state = status(m)
        counts[state] += 1
        rows.append([org.name, f"{state} ({m})" if m in duties else state])
    levels = sorted({(orgs[duties[m].org_id] if m in duties else orgs[owner_of[m]]).level.zh for m in members})
    marks = [f"✕ {counts['not decomposed']} not decomposed"] if counts["not decomposed"] else []
    marks += [f"∅ {counts['no share']} no share"] if counts["no share"] else []
    shares = counts["share"] + counts["not decomposed"]
    label = f"{len(members)} {'/'.join(levels)}: {shares} shares" + ("\n" + ", ".join(marks) if marks else "")
    gap = bool(marks)
    view.nodes.append(
        {
            "id": node,
            "label": label,
            "name": f"{label.replace(chr(10), ' ')} ({parent})",
            "shape": "box",
            "color": {
                "background": "#f7f7f7",
                "border": NO_SHARE_COLOR
                if counts["no share"]
                else GAP_COLOR
                if counts["not decomposed"]
                else "#636363",
            },
            "borderWidth": 2 if gap else 1,
            "attrs": {"folded": len(members), "gap": gap},
        }
    )
    view.details[node] = [["shares of", parent], *sorted(rows)]
    view.edges.append({"from": parent, "to": node, "color": {"color": "#636363"}})


def _layout(view: View, tree: dict[str, list[str]], root: str, roots: list[Duty]) -> list[dict[str, object]]:
    """A tidy tree from left to right: a column per depth as wide as its widest label, leaves one
    row apart, a parent level with the middle of its children. Returns a band per category."""
    depth, order = {root: 0}, [root]
    for n in order:
        for c in tree.get(n, []):
            depth[c] = depth[n] + 1
            order.append(c)
    by_id = {n["id"]: n for n in view.nodes}
    width: dict[int, float] = defaultdict(float)
    for n in order:
        width[depth[n]] = max(width[depth[n]], text_width(by_id[n]["label"], FONT) + 24)
    x = {0: 0.0}
    for d in range(1, max(depth.values()) + 1):
        x[d] = x[d - 1] + width[d - 1] / 2 + 90 + width[d] / 2
    y: dict[str, float] = {}
    next_row = [0.0]

    def place(n: str) -> float:
        kids_ = tree.get(n, [])
        if not kids_:
            y[n] = next_row[0]
            next_row[0] += ROW
        else:
            ys = [place(c) for c in kids_]
            y[n] = (ys[0] + ys[-1]) / 2
        return y[n]

    bands: list[dict[str, object]] = []
    deepest = max(depth.values())
    for duty in roots:
        top = next_row[0]
        place(duty.id)
        left, right = x[1] - width[1] / 2 - 20, x[deepest] + width[deepest] / 2 + 20
        bands.append({"x0": left, "y0": top - ROW / 2, "x1": right, "y1": next_row[0] - ROW / 2, "label": ""})
        next_row[0] += ROW / 2  # a little air between two categories
    y[root] = (y[roots[0].id] + y[roots[-1].id]) / 2 if roots else 0.0
    for n in order:
        by_id[n]["x"], by_id[n]["y"] = round(x[depth[n]], 1), round(y[n], 1)
        by_id[n]["widthConstraint"] = {"minimum": round(width[depth[n]]), "maximum": round(width[depth[n]])}
    return bands


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
