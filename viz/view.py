"""What every view shares: the ``View`` a builder returns, the cold-to-hot colour scale,
the offline HTML page, and the GraphML/GEXF exports.

A builder (``viz.pressure_map``, ``viz.people``, ``viz.duties``) computes a ``View``: nodes
with their positions already laid out (physics is off), edges, a legend, the details shown
when a node is clicked, and any data the page needs on its own (the per-year pressures).
pyvis holds the graph and its options; the page is our own template, because pyvis's
templates fetch Bootstrap and other assets from CDNs even in its ``in_line`` mode. Every
script and style sheet (vis-network from the pyvis wheel, our ``static/``) is inlined, so a
written file opens offline and makes no request at all.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import networkx as nx
from jinja2 import Environment, FileSystemLoader, select_autoescape

from graph.errors import InvalidInput

if TYPE_CHECKING:
    from pyvis.network import Network

HERE = Path(__file__).parent
EXPORT_FORMATS = ("html", "graphml", "gexf")

# Cold (blue) to hot (red): ColorBrewer's RdYlBu, reversed.
COLD_TO_HOT = ["#313695", "#4575b4", "#74add1", "#abd9e9", "#e0f3f8", "#fee090", "#fdae61", "#f46d43", "#d73027"]
NO_DATA = "#d9d9d9"


@dataclass
class View:
    """One view, ready to be written as HTML or exported as a graph."""

    kind: str  # pressure | case | person | duties
    title: str
    subtitle: str  # the window and as_of the figures are for
    nodes: list[dict[str, Any]] = field(default_factory=list)  # vis-network node options; "name" is searched
    edges: list[dict[str, Any]] = field(default_factory=list)
    legend: list[dict[str, Any]] = field(default_factory=list)  # {label, color, shape?, dashes?} or a gradient
    details: dict[str, list[list[str]]] = field(default_factory=dict)  # node id -> [label, value] rows
    data: dict[str, Any] = field(default_factory=dict)  # for the page's own script (years, rings)
    options: dict[str, Any] = field(default_factory=dict)  # vis-network options on top of the shared ones
    # node id -> [label, path] of the other views about it (API paths: shown when the API serves
    # the page, where they lead; a file written by ``rtc view`` has no server to follow them to)
    links: dict[str, list[list[str]]] = field(default_factory=dict)

    def node(self, node_id: str) -> dict[str, Any]:
        return next(n for n in self.nodes if n["id"] == node_id)


def to_view(kind: str, ident: str) -> str:
    """The API path of another view: ``pressure`` (rooted at an organization), ``duties``,
    ``persons`` (a career), ``cases`` (an accountability chain) or ``reports`` (an
    organization's assessment report)."""
    if kind == "pressure":
        return f"/views/pressure?root={quote(ident, safe='')}"
    if kind == "reports":
        return f"/reports?org={quote(ident, safe='')}"
    return f"/views/{kind}/{quote(ident, safe='')}"


# ---------------------------------------------------------------- colours


def _hex(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def heat(value: float | None, top: float) -> str:
    """The colour of ``value`` on a log scale from 0 (coldest) to ``top`` (hottest); grey for no data.

    Pressure spans orders of magnitude between a province and a village, so the scale is
    ``log(1 + value) / log(1 + top)``: a linear one would paint every village the same blue.
    """
    if value is None or math.isnan(value):
        return NO_DATA
    t = 0.0 if top <= 0 else min(max(math.log1p(max(value, 0.0)) / math.log1p(top), 0.0), 1.0)
    pos = t * (len(COLD_TO_HOT) - 1)
    i = min(int(pos), len(COLD_TO_HOT) - 2)
    a, b = _hex(COLD_TO_HOT[i]), _hex(COLD_TO_HOT[i + 1])
    f = pos - i
    return "#{:02x}{:02x}{:02x}".format(*(round(x + (y - x) * f) for x, y in zip(a, b, strict=True)))


def heat_legend(top: float, title: str) -> dict[str, Any]:
    """A gradient legend entry for ``heat`` with five labelled ticks."""
    ticks = [round(math.expm1(math.log1p(top) * i / 4), 2) for i in range(5)] if top > 0 else [0.0]
    return {"gradient": COLD_TO_HOT, "label": title, "ticks": ticks}


# ---------------------------------------------------------------- layout


@dataclass
class Placed:
    """Where the radial layout put a node."""

    x: float
    y: float
    depth: int  # ring number, 0 for the root
    angle: float
    arc: tuple[float, float]  # the angles its subtree takes


def radial_layout(
    children: dict[str, list[str]], root: str, room: dict[str, float], *, step: float
) -> dict[str, Placed]:
    """A radial tree: the root in the middle, each level a ring, each node in the middle of the
    arc its subtree takes, arcs in proportion to the room (arc length) each subtree needs, and
    rings far enough apart (at least ``step``) that neighbours on a ring do not overlap."""
    order, depth = [root], {root: 0}
    for o in order:
        for c in children.get(o, []):
            depth[c] = depth[o] + 1
            order.append(c)
    # a subtree's weight is the arc it needs on the outermost ring; a node on ring d needs its
    # room on a ring about d/D as long, so a shallow leaf weighs more than its room, and inner
    # rings are not pushed out to the edge by the leaves packed on them
    deepest = max(depth.values())
    weight: dict[str, float] = {}
    for o in reversed(order):
        own = room[o] * deepest / max(depth[o], 1)
        weight[o] = max(own, sum(weight[c] for c in children.get(o, [])))
    arc = {root: (0.0, 2 * math.pi)}
    for o in order:
        start, end = arc[o]
        cursor = start
        for c in children.get(o, []):
            share = (end - start) * weight[c] / weight[o] if weight[o] else 0.0
            arc[c] = (cursor, cursor + share)
            cursor += share
    # a ring's radius: the least at which every two neighbours on it, at the middles of their
    # arcs, are their rooms apart (a small subtree's arc is narrow, but its neighbours' are not)
    angle = {o: (arc[o][0] + arc[o][1]) / 2 for o in order}
    ring: dict[int, list[str]] = {}
    for o in order:
        if depth[o]:
            ring.setdefault(depth[o], []).append(o)
    need: dict[int, float] = {}
    for d, members in ring.items():
        members.sort(key=angle.__getitem__)
        for a, b in zip(members, [*members[1:], members[0]], strict=True):
            gap = (angle[b] - angle[a]) % (2 * math.pi) or 2 * math.pi
            need[d] = max(need.get(d, 0.0), (room[a] + room[b]) / 2 / gap)
    radius = [0.0]
    for d in range(1, max(depth.values()) + 1):
        radius.append(max(radius[-1] + step, need.get(d, 0.0)))
    out = {}
    for o in order:
        r = radius[depth[o]]
        out[o] = Placed(r * math.cos(angle[o]), r * math.sin(angle[o]), depth[o], angle[o], arc[o])
    return out


# The pressure map draws its labels itself (view.js "labels"): one size on screen, only where
# they fit. vis-network's own are made invisible and tiny, so they neither show nor catch clicks.
PAGE_LABELS = {"nodes": {"font": {"size": 1, "color": "rgba(0,0,0,0)", "strokeWidth": 0}}}


# ---------------------------------------------------------------- HTML


@cache
def _asset(name: str) -> str:
    """A vis-network file shipped inside the pyvis wheel (read once)."""
    return resources.files("pyvis").joinpath("templates", "lib", "vis-9.1.2", name).read_text(encoding="utf-8")


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"]))


def to_pyvis(view: View) -> Network:
    """The view as a pyvis network: positions fixed, physics off."""
    # imported here: pyvis brings IPython (0.2 s), which no command but a page needs
    from pyvis.network import Network

    net = Network(height="100%", width="100%", directed=True, cdn_resources="in_line")
    for n in view.nodes:
        options = {k: v for k, v in n.items() if k not in ("id", "label", "attrs")}
        net.add_node(n["id"], label=n.get("label", n["id"]), **options)
    for e in view.edges:
        net.add_edge(e["from"], e["to"], **{k: v for k, v in e.items() if k not in ("from", "to")})
    options = json.loads(json.dumps(_OPTIONS))
    for key, value in view.options.items():
        options[key] = {**options.get(key, {}), **value}
    net.set_options(json.dumps(options))
    return net


def vis_nodes(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nodes as the page's vis-network takes them (what ``to_pyvis`` makes of them), for a part
    the page adds later: the contents of an aggregate opened in place."""
    return to_pyvis(View(kind="", title="", subtitle="", nodes=nodes)).get_network_data()[0]


_OPTIONS = {
    "physics": {"enabled": False},
    "layout": {"improvedLayout": False},
    "interaction": {"hover": True, "tooltipDelay": 150, "hideEdgesOnDrag": True, "navigationButtons": False},
    "nodes": {"font": {"face": "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, sans-serif"}},
    "edges": {"smooth": False, "arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}},
}


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element (no ``</script>`` or ``<!--`` can close it)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _without_links(data: dict[str, Any]) -> dict[str, Any]:
    """The page data of a file: the parts it holds for later (an aggregate's contents) keep no
    links, as the file has no server to follow them to."""
    if not data.get("expand"):
        return data
    return {**data, "expand": {k: {**part, "links": {}} for k, part in data["expand"].items()}}


def render_html(view: View, *, served: bool = False) -> str:
    """The view as one self-contained HTML page (no request leaves it); ``served``: by the API,
    so its links to the other views and to the workbench home are shown."""
    net = to_pyvis(view)
    nodes, edges, _heading, _height, _width, options = net.get_network_data()
    payload = {
        "kind": view.kind,
        "nodes": nodes,
        "edges": edges,
        "options": json.loads(options),
        "legend": view.legend,
        "details": view.details,
        "data": view.data if served else _without_links(view.data),
        "links": view.links if served else {},
        "served": served,
    }
    template = _environment().get_template("view.html.j2")
    return template.render(
        title=view.title,
        subtitle=view.subtitle,
        vis_js=_asset("vis-network.min.js"),
        vis_css=_asset("vis-network.css"),
        view_js=(HERE / "static" / "view.js").read_text(encoding="utf-8"),
        view_css=(HERE / "static" / "view.css").read_text(encoding="utf-8"),
        payload=_script_json(payload),
        served=served,
    )


# ---------------------------------------------------------------- exports


VIS_DEFAULT_SIZE = 25.0  # what vis-network draws for a node that sets no size


def _rgb(colour: Any) -> tuple[int, int, int] | None:
    """A node's fill as (r, g, b): vis-network takes a hex string or {background: hex}."""
    if isinstance(colour, dict):
        colour = colour.get("background")
    if isinstance(colour, str) and len(colour) == 7 and colour.startswith("#"):
        return _hex(colour)
    return None


def _uniform(items: list[dict[str, Any]]) -> None:
    """One type per attribute across the items: GEXF and GraphML declare an attribute's type
    once, from its first value, so an int after a float (or the reverse) breaks reading back."""
    kinds: dict[str, set[type]] = defaultdict(set)
    for attrs in items:
        for key, value in attrs.items():
            kinds[key].add(type(value))
    for key, seen in kinds.items():
        cast: type | None = None
        if len(seen) > 1:
            cast = float if seen <= {int, float} else str
        for attrs in items:
            if cast is not None and key in attrs:
                attrs[key] = cast(attrs[key])


def to_networkx(view: View) -> nx.MultiDiGraph:
    """The view as a networkx graph with plain attributes (what GraphML and GEXF can hold), and
    what the page draws: ``viz`` (position, colour, size) for GEXF and Gephi's GraphML keys
    ``x``, ``y``, ``size``, ``r``, ``g``, ``b``. The y axis points up there and down on the page."""
    # a multigraph: one person's two roles on one post are two edges between the same nodes
    g = nx.MultiDiGraph(title=view.title, subtitle=view.subtitle, kind=view.kind)
    nodes: list[dict[str, Any]] = []
    for n in view.nodes:
        attrs = {k: v for k, v in n.items() if k not in ("id", "x", "y") and isinstance(v, str | int | float | bool)}
        attrs.update(n.get("attrs", {}))
        attrs["x"], attrs["y"] = float(n.get("x", 0.0)), -float(n.get("y", 0.0))
        attrs["size"] = float(n.get("size", VIS_DEFAULT_SIZE))
        rgb = _rgb(n.get("color"))
        if rgb is not None:
            attrs["r"], attrs["g"], attrs["b"] = rgb
        nodes.append(attrs)
    _uniform(nodes)
    edges: list[dict[str, Any]] = []
    for e in view.edges:
        attrs = {k: v for k, v in e.items() if k not in ("from", "to") and isinstance(v, str | int | float | bool)}
        if isinstance(e.get("color"), dict):
            attrs["color"] = e["color"].get("color", "")
        edges.append(attrs)
    _uniform(edges)
    for n, attrs in zip(view.nodes, nodes, strict=True):
        g.add_node(n["id"], **attrs)
    for e, attrs in zip(view.edges, edges, strict=True):
        g.add_edge(e["from"], e["to"], **attrs)
    return g


def _with_viz(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy whose nodes carry GEXF's ``viz`` element (networkx writes it from a ``viz`` dict)."""
    out = g.copy()
    for _, attrs in out.nodes(data=True):
        viz: dict[str, Any] = {"position": {"x": attrs["x"], "y": attrs["y"], "z": 0.0}, "size": attrs["size"]}
        if "r" in attrs:
            viz["color"] = {"r": attrs["r"], "g": attrs["g"], "b": attrs["b"], "a": 1.0}
        attrs["viz"] = viz
    return out


def render(view: View, fmt: str, *, served: bool = False) -> str:
    """The view as text: ``html`` (the page), ``graphml`` or ``gexf``."""
    if fmt == "html":
        return render_html(view, served=served)
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(to_networkx(view)))
    if fmt == "gexf":
        return "\n".join(nx.generate_gexf(_with_viz(to_networkx(view))))
    raise InvalidInput(f"unknown format {fmt!r}: {', '.join(EXPORT_FORMATS)}")


def write_view(view: View, out: Path) -> Path:
    """Write the view by the file's suffix: ``.html`` (the page), ``.graphml`` or ``.gexf``."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"cannot write {out.name}: the file name must end in .html, .graphml or .gexf")
    text = render(view, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")  # nothing half-written under the real name
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
