"""The accountability chain of a case and the career of a person: small graphs laid out in
columns (left to right: what happened, then who, then where they are now)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from graph.errors import NotFound
from graph.model import ResponsibilityKind, from_ordinal, to_ordinal
from graph.store import Store
from queries.accountability import PostNow, PostThen, Responsible, accountability
from queries.lookups import PLACE, Post, career, place_from
from queries.window import latest_date
from viz.view import View, to_view

ROLE_COLORS = {
    "direct": "#d7301f",
    "first": "#7a0177",
    "portfolio": "#2171b5",
    "supervisory": "#238b45",
    "upstream": "#fd8d3c",
    "collective": "#737373",
}
MOVEMENT = {  # how a movement reads at a glance: a mark on the person, a colour on the edge to the post now
    "same": ("=", "#737373"),
    "promoted": ("↑", "#1a9850"),
    "transferred": ("→", "#2171b5"),
    "demoted": ("↓", "#d73027"),
    "left": ("✕", "#000000"),
    "unknown": ("?", "#bdbdbd"),
    "not yet": ("…", "#bdbdbd"),
}
COLUMN = 380.0
ROW = 90.0
CASE_ROW = 130.0  # a case view row: a box of up to four lines at NODE_FONT, a two-line edge label
MAX_BOX = 460.0  # the widest box of a case view column; a longer place wraps
NODE_FONT = 20  # graph units; with EDGE_FONT, what the page keeps readable (view.js "readable")
EDGE_FONT = 16
HEADINGS = ["case", "organization", "posts then", "people", "posts now"]


def _post_label(title: str, org_name: str) -> str:
    return f"{title}\n{org_name}"


def _span(start: str, end: str | None) -> str:
    return f"{start} – {end or 'now'}"


def text_width(text: str, size: float) -> float:
    """The width a label takes at font ``size``: its longest line, a CJK character a full em,
    anything else about half of one (vis-network sizes boxes to their labels)."""
    return max((sum(size if ord(ch) > 0x2E80 else 0.55 * size for ch in line) for line in text.split("\n")), default=0)


def case_view(
    store: Store,
    case_id: str,
    *,
    as_of: str | dt.date | None = None,
    lookback_days: int = 365,
    depth: int = 1,
    weights: dict[str, float] | None = None,
) -> View:
    """Case, its organization, the posts then, the people, and their posts now, in columns.

    Columns are as wide as their widest label and as far apart as the widest edge label
    between them needs, so nothing overlaps at any zoom; a person's several roles on one post
    are drawn as separate curves, side by side; a post now names its place as seen from the
    case's organization (``queries.lookups.place_from``) and the date of the move.
    """
    result = accountability(store, case_id, as_of=as_of, lookback_days=lookback_days, depth=depth, weights=weights)
    case = result.case
    view = View(
        kind="case",
        title=f"Accountability chain: case {case.id} in {case.org_name}",
        subtitle=f"misconduct [{case.start}, {case.window_end}), category {case.category}; "
        f"posts now as of {result.as_of}; lookback {result.lookback_days} days, depth {result.depth}",
    )
    column_of: dict[str, int] = {}
    row = 0  # one row per person: their post then, themselves and their posts now side by side

    def add(node_id: str, column: int, label: str, **options: Any) -> str:
        if node_id not in column_of:
            column_of[node_id] = column
            view.nodes.append(
                {
                    "id": node_id,
                    "label": label,
                    "name": label.replace("\n", " "),
                    "y": row * CASE_ROW,
                    "font": {"size": NODE_FONT},
                    **options,
                }
            )
        return node_id

    case_node = add(
        f"case:{case.id}",
        0,
        f"case {case.id}\n{case.category}",
        shape="box",
        color={"background": "#fee0d2", "border": "#cb181d"},
    )
    view.details[case_node] = [
        ["case", case.id or "ad hoc"],
        ["organization", f"{case.org_name} ({case.org_id})"],
        ["category", case.category],
        ["misconduct", _span(case.start, case.end)],
        ["window used", f"[{case.start}, {case.window_end})"],
        ["violators", ", ".join(case.violator_ids) or "none recorded"],
    ]
    org_node = add(
        f"org:{case.org_id}",
        1,
        case.org_name,
        shape="ellipse",
        color={"background": "#fdd0a2", "border": "#a63603"},
    )
    view.details[org_node] = [["organization", f"{case.org_name} ({case.org_id})"]]
    view.links[org_node] = [
        ["pressure map", to_view("pressure", case.org_id)],
        ["duties", to_view("duties", case.org_id)],
    ]
    view.edges.append({"from": case_node, "to": org_node, "label": "in", "color": {"color": "#969696"}})

    def place(post: PostNow | PostThen) -> str:
        return place_from(store, post.org_id, case.org_id)

    def linked(a: str, b: str) -> bool:  # one person's several roles share the edges to their posts
        return any(e["from"] == a and e["to"] == b for e in view.edges)

    def moved(r: Responsible, person: str, color: str, post: PostNow | PostThen, *, left: bool) -> None:
        """The edge from a person to a post now (or, for one who left, the last post, dashed)."""
        if linked(person, f"now:{post.position_id}|{r.person.id}"):
            return
        target = _now_node(add, post, place(post), r.person.id, left=left)
        view.details[target] = _shown_rows(post, "held (the last post)" if left else "since")
        view.links[target] = [["pressure map of its organization", to_view("pressure", post.org_id)]]
        end = post.end if isinstance(post, PostThen) else None
        how = (
            {"dashes": True, "label": f"left\n{end or ''}"}
            if left
            else {"width": 2, "label": f"{r.movement}\nsince {post.start}"}
        )
        view.edges.append({"from": person, "to": target, "color": {"color": color}, **how})

    rows: dict[str, int] = {}
    for r in result.responsible:
        if f"person:{r.person.id}" not in column_of:
            row = rows.setdefault(r.person.id, len(rows))
        color = ROLE_COLORS.get(r.role, "#737373")
        mark, move_color = MOVEMENT.get(r.movement, ("?", "#bdbdbd"))
        person = add(
            f"person:{r.person.id}",
            3,
            f"{mark} {r.person.name}\n{r.movement}",
            shape="box",
            color={"background": "#ffffff", "border": move_color},
            borderWidth=3,
        )
        view.details.setdefault(person, [["person", f"{r.person.name} ({r.person.id})"]])
        view.links[person] = [["career", to_view("persons", r.person.id)]]
        view.details[person] += [
            [f"role: {r.role}", ResponsibilityKind(r.role).zh],
            ["movement since", r.movement],
            ["overlap with the window", f"{r.overlap_days} days"],
            ["evidence: tenures", ", ".join(r.evidence.tenures) or "—"],
            ["evidence: actions", ", ".join(r.evidence.actions) or "—"],
        ]
        then = r.post_then or r.last_post
        if r.post_then is not None:
            post = _then_node(add, r.post_then, r.person.id)
            view.details[post] = _shown_rows(r.post_then, "held")
            view.links[post] = [["pressure map of its organization", to_view("pressure", r.post_then.org_id)]]
            if not linked(org_node, post):
                view.edges.append({"from": org_node, "to": post, "color": {"color": "#d9d9d9"}, "dashes": True})
            view.edges.append(
                {
                    "from": post,
                    "to": person,
                    "color": {"color": color},
                    "width": 3,
                    "label": f"{r.role}\n{_span(r.post_then.start, r.post_then.end)}",
                    "title": f"{r.role}: {ResponsibilityKind(r.role).zh}, overlap {r.overlap_days} days",
                }
            )
        elif then is None:
            view.edges.append({"from": org_node, "to": person, "color": {"color": color}, "width": 3, "label": r.role})
        for now in r.posts_now:
            moved(r, person, move_color, now, left=False)
        if r.movement == "left" and r.last_post is not None:
            moved(r, person, move_color, r.last_post, left=True)
    _side_by_side(view.edges)
    view.data = {"case": case.id, "as_of": result.as_of, "headings": _columns(view, column_of)}
    view.data["readable"] = min(NODE_FONT, EDGE_FONT)
    view.legend = [
        *(
            {"label": f"{role} {ResponsibilityKind(role).zh}", "color": c, "line": True}
            for role, c in ROLE_COLORS.items()
        ),
        *({"label": f"{mark} {name}", "color": c, "border": c} for name, (mark, c) in MOVEMENT.items()),
        {"text": "columns (headed on the canvas): " + ", ".join(HEADINGS)},
    ]
    return view


def _shown_rows(post: PostNow | PostThen, held: str) -> list[list[str]]:
    end = post.end if isinstance(post, PostThen) else None
    return [
        ["post", f"{post.title} ({post.position_id})"],
        ["organization", f"{post.org_place} ({post.org_id})"],
        [held, _span(post.start, end) if isinstance(post, PostThen) else post.start],
    ]


def _side_by_side(edges: list[dict[str, Any]]) -> None:
    """Edges between the same two nodes (one person's roles on one post) bend apart, so none
    hides another; every edge label gets its font and a white halo."""
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in edges:
        pairs.setdefault((e["from"], e["to"]), []).append(e)
        e["font"] = {"size": EDGE_FONT, "strokeWidth": 4, "strokeColor": "#ffffff"}
    for same in pairs.values():
        for k, e in enumerate(same):
            bend = 0.35 * (k - (len(same) - 1) / 2)
            e["smooth"] = (
                {"enabled": True, "type": "curvedCW" if bend > 0 else "curvedCCW", "roundness": abs(bend)}
                if bend
                else False
            )


def _columns(view: View, column_of: dict[str, int]) -> list[dict[str, Any]]:
    """Place the columns: every box of a column as wide as its widest label (at most
    ``MAX_BOX``; longer lines wrap), centred, so an edge's label sits in the middle of the gap,
    and each gap as wide as the widest edge label crossing it plus a margin. Returns the
    headings the page draws above the columns."""
    width = [0.0] * len(HEADINGS)
    for n in view.nodes:
        c = column_of[n["id"]]
        width[c] = min(MAX_BOX, max(width[c], text_width(n["label"], NODE_FONT) + 24))
    label = [0.0] * len(HEADINGS)
    for e in view.edges:
        left = min(column_of[e["from"]], column_of[e["to"]])
        label[left] = max(label[left], text_width(e.get("label", ""), EDGE_FONT))
    # a label sits halfway between the two boxes' centres, so a wider box on one side pushes it
    # toward the other: the gap makes room for that shift
    gap = [label[c] + 80 + abs(width[c + 1] - width[c]) / 2 for c in range(len(HEADINGS) - 1)]
    x = [0.0]
    for c in range(1, len(HEADINGS)):
        x.append(x[-1] + width[c - 1] / 2 + gap[c - 1] + width[c] / 2)
    for n in view.nodes:
        c = column_of[n["id"]]
        n["x"] = round(x[c], 1)
        n["widthConstraint"] = {"minimum": round(width[c]), "maximum": round(width[c])}
    used = sorted(set(column_of.values()))
    return [{"x": round(x[c], 1), "label": HEADINGS[c]} for c in used]


# A post then and a post now are drawn once per person, in that person's row: two people who
# held one post (a secretary and their successor) read as two rows, and no edge crosses a row.


def _then_node(add: Any, post: PostThen, person_id: str) -> str:
    node = add(
        f"then:{post.position_id}|{person_id}",
        2,
        _post_label(post.title, post.org_place),
        shape="box",
        color={"background": "#f0f0f0", "border": "#636363"},
    )
    return str(node)


def _now_node(add: Any, post: PostNow | PostThen, place: str, person_id: str, *, left: bool = False) -> str:
    node = add(
        f"now:{post.position_id}|{person_id}",
        4,
        f"{place}{PLACE.rstrip()}\n{post.title}\n"
        + (f"last post, left {post.end}" if left and isinstance(post, PostThen) else f"since {post.start}"),
        shape="box",
        color={"background": "#e5f5e0", "border": "#31a354"},
    )
    return str(node)


YEAR = 150.0  # graph units per year on a career's time axis
LANE = 130.0


def person_view(store: Store, person_id: str) -> View:
    """A person's posts on a time axis, with the cases of each post's organization that fell in
    the tenure.

    Each post is a box whose left edge is the day it began, over a bar that runs to the day it
    ended (or the latest date in the data); posts that would overlap go to the next lane down.
    Cases sit below, at the day their misconduct began. The page draws the axis and the bars.
    """
    persons = store.get_persons([person_id])
    if person_id not in persons:
        raise NotFound(f"no person with id {person_id!r}")
    person = persons[person_id]
    steps = career(store, person_id)
    org_ids = sorted({s.post.org_id for s in steps})
    cases = store.get_cases(org_ids=org_ids)
    latest = latest_date(store)
    view = View(
        kind="person",
        title=f"Career: {person.name} ({person.id})",
        subtitle=f"{len(steps)} posts as of {from_ordinal(latest)} (the latest date in the data); "
        "the cases of each post's organization that fell within the tenure",
    )
    first = min((to_ordinal(s.post.start) for s in steps), default=latest)
    origin = dt.date(dt.date.fromordinal(first).year, 1, 1).toordinal()

    def x(day: int) -> float:
        return round((day - origin) / 365.25 * YEAR, 1)

    view.nodes.append(
        {
            "id": f"person:{person.id}",
            "label": person.name,
            "name": person.name,
            "x": -260.0,
            "y": 0.0,
            "shape": "box",
            "color": {"background": "#ffffff", "border": "#7a0177"},
            "borderWidth": 3,
            "font": {"size": NODE_FONT},
        }
    )
    view.details[f"person:{person.id}"] = [["person", f"{person.name} ({person.id})"], ["posts", str(len(steps))]]
    lanes: list[float] = []  # the right edge of the last box in each lane
    spans: list[dict[str, Any]] = []
    cases_shown: list[tuple[int, Any, str]] = []
    previous = f"person:{person.id}"
    for step in steps:
        post = step.post
        node = f"post:{post.tenure_id}"
        label = f"{post.title}\n{post.org_place}\n{_span(post.start, post.end)}"
        left = x(to_ordinal(post.start))
        width = min(MAX_BOX, text_width(label, NODE_FONT) + 24)
        lane = next((k for k, right in enumerate(lanes) if right + 20 <= left), len(lanes))
        if lane == len(lanes):
            lanes.append(0.0)
        lanes[lane] = left + width
        end = to_ordinal(post.end) if post.end else latest
        spans.append(
            {"x0": left, "x1": max(x(end), left + 2), "y": lane * LANE - 52, "color": _step_color(step.movement)}
        )
        view.nodes.append(
            {
                "id": node,
                "label": label,
                "name": f"{post.title} {post.org_place}",
                "x": round(left + width / 2, 1),
                "y": lane * LANE,
                "shape": "box",
                "widthConstraint": {"minimum": round(width), "maximum": round(width)},
                "color": {"background": "#f0f0f0", "border": "#636363"},
                "font": {"size": NODE_FONT},
            }
        )
        view.details[node] = _post_rows(post, step.movement, step.left_by, step.evidence)
        view.links[node] = [
            ["pressure map of the organization", to_view("pressure", post.org_id)],
            ["its duties", to_view("duties", post.org_id)],
        ]
        view.edges.append(
            {
                "from": previous,
                "to": node,
                "label": step.movement,
                "width": 2,
                "color": {"color": _step_color(step.movement)},
                "font": {"size": EDGE_FONT, "strokeWidth": 4, "strokeColor": "#ffffff"},
                "smooth": {"enabled": True, "type": "cubicBezier", "forceDirection": "horizontal", "roundness": 0.4},
            }
        )
        previous = node
        cases_shown += [(to_ordinal(c.start), c, node) for c in _cases_in(cases.values(), post)]
    below = len(lanes or [0]) * LANE + 60
    case_right: list[float] = []
    for day, case, node in sorted(cases_shown, key=lambda t: (t[0], t[1].id)):
        label = f"case {case.id}\n{case.category.value}\n{_span(case.start, case.end)}"
        left = x(day)
        width = text_width(label, EDGE_FONT) + 24
        lane = next((k for k, right in enumerate(case_right) if right + 20 <= left), len(case_right))
        if lane == len(case_right):
            case_right.append(0.0)
        case_right[lane] = left + width
        cnode = f"case:{case.id}"
        if cnode in view.details:  # a case of an organization the person held two posts in
            view.edges.append({"from": node, "to": cnode, "dashes": True, "color": {"color": "#cb181d"}})
            continue
        view.nodes.append(
            {
                "id": cnode,
                "label": label,
                "name": f"case {case.id}",
                "x": round(left + width / 2, 1),
                "y": below + lane * LANE * 0.8,
                "shape": "box",
                "color": {"background": "#fee0d2", "border": "#cb181d"},
                "font": {"size": EDGE_FONT},
            }
        )
        org = next(n["name"] for n in view.nodes if n["id"] == node)
        view.details[cnode] = [
            ["case", case.id],
            ["category", case.category.value],
            ["misconduct", _span(case.start, case.end)],
            ["post then", org],
            ["see", f"rtc view case {case.id}"],
        ]
        view.links[cnode] = [["accountability chain", to_view("cases", case.id)]]
        view.edges.append({"from": node, "to": cnode, "dashes": True, "color": {"color": "#cb181d"}})
    last_year = dt.date.fromordinal(max([latest, *(to_ordinal(s.post.end) for s in steps if s.post.end)])).year
    view.data = {
        "person": person.id,
        "spans": spans,
        "axis": {
            "y": -LANE / 2 - 60,
            "ticks": [
                {"x": x(dt.date(y, 1, 1).toordinal()), "label": str(y)}
                for y in range(dt.date.fromordinal(origin).year, last_year + 2)
            ],
        },
        "readable": min(NODE_FONT, EDGE_FONT),
    }
    view.legend = [
        {
            "label": "post (title, organization, tenure); its bar runs from start to end",
            "color": "#f0f0f0",
            "shape": "box",
        },
        {"label": "case in the post's organization during the tenure", "color": "#fee0d2", "shape": "box"},
        *({"label": m, "color": _step_color(m), "line": True} for m in ("first", "promote", "transfer", "demote")),
        {"text": "time runs left to right: one year is the distance between two ticks of the axis"},
    ]
    return view


def _step_color(movement: str) -> str:
    return {"promote": "#1a9850", "transfer": "#2171b5", "demote": "#d73027"}.get(movement, "#737373")


def _post_rows(post: Post, movement: str, left_by: str | None, evidence: list[str]) -> list[list[str]]:
    return [
        ["post", f"{post.title} ({post.position_id})"],
        ["organization", f"{post.org_place} ({post.org_id})"],
        ["tenure", _span(post.start, post.end)],
        ["rank", str(post.rank)],
        ["began by", movement],
        ["ended by", left_by or ("—" if post.end is None else "tenure row")],
        ["evidence", ", ".join(evidence)],
    ]


def _cases_in(cases: Any, post: Post) -> list[Any]:
    """Cases of the post's organization whose misconduct overlaps the tenure (half-open)."""
    lo = to_ordinal(post.start)
    hi = to_ordinal(post.end) if post.end else 10**7
    out = []
    for c in cases:
        if c.org_id != post.org_id:
            continue
        s = to_ordinal(c.start)
        e = to_ordinal(c.end or c.discovered or from_ordinal(s + 1))
        if s < hi and max(e, s + 1) > lo:
            out.append(c)
    return sorted(out, key=lambda c: (c.start, c.id))
