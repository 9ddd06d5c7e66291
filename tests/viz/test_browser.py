"""Every view in headless Chromium with the network off: it draws every node, logs no console
error, makes no request, finds a Chinese name, shows details on a click, and is not blank."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image
from selenium.webdriver.support.ui import Select

from graph.store import Store
from queries.accountability import accountability
from queries.lookups import career
from queries.window import Window
from tests.viz.views import VIEWS
from viz.browser import open_view
from viz.duties import duties_view
from viz.people import case_view, person_view
from viz.pressure_map import pressure_map
from viz.view import NO_DATA, write_view

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_in_chromium_offline(name: str, tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path) -> None:
    view = VIEWS[name](tiny_embedded)
    page = write_view(view, tmp_path / f"{name}.html")
    with open_view(page) as opened:
        assert opened.errors() == []
        assert opened.outside_requests() == []
        drawn = opened.script("return window.rtcView.network.body.nodeIndices.length")
        assert drawn == len(view.nodes)
        if name == "pressure-collapsed":
            assert any(n["id"].endswith("::below") for n in view.nodes)
        # search by a Chinese name: the first match is a node with that name, and its details show
        target = next(n for n in view.nodes if any("\u4e00" <= ch <= "\u9fff" for ch in n.get("name", "")))
        query = target["name"].split()[0]
        found = opened.script("return window.rtcView.search(arguments[0])", query)
        assert found is not None and query in opened.script("return window.rtcView.nodes.get(arguments[0]).name", found)
        assert opened.script("return window.rtcView.network.getSelectedNodes()") == [found]
        details = opened.driver.find_element("id", "details").text
        assert query in details
        png = opened.driver.get_screenshot_as_png()
        assert opened.errors() == [] and opened.outside_requests() == []
    image = Image.open(io.BytesIO(png)).convert("RGB")
    graph_area = image.crop((0, 60, image.width - 330, image.height))  # the canvas, not the side panel
    colours = graph_area.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 20, "the drawn graph looks blank"
    assert max(c for c, _ in colours) < 0.995 * graph_area.width * graph_area.height


def test_year_control_redraws_every_mark_without_a_server(
    scenario_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    # Hand-checked on the scenario (tests/viz/test_views.py): in 2019, the window, S is a sink
    # and pressure fades on S -> X; in 2020 S gets nothing, so neither mark; 2017 has no action.
    view = pressure_map(scenario_embedded, root="C", window=Window.of("2019-01-01", "2020-01-01"))
    page = write_view(view, tmp_path / "map.html")
    state = """var v = window.rtcView, s = v.nodes.get('S'), e = v.edges.get('S->X');
        return {fill: s.color.background, border: s.borderWidth, tip: s.title, dashed: e.dashes,
                edge: e.color.color, subtitle: document.getElementById('subtitle').textContent,
                chosen: document.getElementById('year').selectedOptions[0].textContent,
                details: document.getElementById('details').innerText};"""
    with open_view(page) as opened:
        opened.script("window.rtcView.network.selectNodes(['S']); window.rtcView.showDetails('S');")
        before = opened.script(state)
        assert before["chosen"] == "2019 (the window)" and before["border"] == 3 and before["dashed"]
        assert "pressure sink" in before["tip"]
        select = opened.driver.find_element("id", "year")
        options = [o.text for o in select.find_elements("tag name", "option")]
        assert "2017 (no data)" in options and "2020" in options and "2019" not in options
        Select(select).select_by_visible_text("2020")  # as a person does
        after = opened.script(state)
        assert after["border"] == 1 and not after["dashed"] and after["edge"] == "#9e9e9e"
        assert "received 0.0" in after["tip"] and "pressure sink" not in after["tip"]
        assert after["subtitle"].startswith("received pressure in 2020;")
        assert "in 2020" in after["details"] and "pressure sink\tno" in after["details"]
        Select(select).select_by_visible_text("2017 (no data)")
        empty = opened.script(state)
        assert empty["fill"] == NO_DATA and "no data" in empty["tip"] and "no data" in empty["subtitle"]
        Select(select).select_by_visible_text("2019 (the window)")
        assert opened.script(state) == before
        assert opened.errors() == []


def test_year_control_matches_the_payload_on_every_node_and_edge(
    tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    view = pressure_map(tiny_embedded)
    yearly = view.data["yearly"]
    window = yearly["columns"][yearly["selected"]]
    # a year with data whose sinks or fades differ from the window's, so the test can fail
    i, col = next(
        (i, c)
        for i, c in enumerate(yearly["columns"])
        if not c["nodata"] and (c["sinks"] != window["sinks"] or c["fades"] != window["fades"])
    )
    page = write_view(view, tmp_path / "map.html")
    with open_view(page) as opened:
        Select(opened.driver.find_element("id", "year")).select_by_index(i)
        shown = opened.script("return window.rtcView.nodes.get().map(n => [n.id, n.color.background, n.borderWidth])")
        dashed = opened.script("return window.rtcView.edges.get().map(e => [e.id, e.dashes])")
        subtitle = opened.driver.find_element("id", "subtitle").text
        assert opened.errors() == []
    ids = yearly["ids"]
    assert {n: (fill, width) for n, fill, width in shown} == {
        n: (col["colors"][k], 3 if col["sinks"][k] else 1) for k, n in enumerate(ids)
    }
    assert dict(dashed) == {e[0]: f for e, f in zip(yearly["edges"], col["fades"], strict=True)}
    assert subtitle == col["subtitle"]


LAYOUT = """
var net = window.rtcView.network, scale = net.getScale(), boxes = [];
net.body.nodeIndices.forEach(function (id) {
  var b = net.getBoundingBox(id), f = net.body.nodes[id].options.font.size;
  boxes.push({what: "node " + id, l: b.left, r: b.right, t: b.top, b: b.bottom, px: f * scale});
});
net.body.edgeIndices.forEach(function (id) {
  var e = net.body.edges[id], s = e.labelModule.size;
  if (e.options.label) boxes.push({what: "label of " + e.fromId + " -> " + e.toId, l: s.left, r: s.left + s.width,
                                   t: s.top, b: s.top + s.height, px: e.options.font.size * scale});
});
return {boxes: boxes, headings: window.rtcView.headings, axis: window.rtcView.axis, scale: scale};
"""


def test_case_view_reads_at_1366x768(tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path) -> None:
    # the tiny dataset's case with the most people to hold accountable
    case = max(sorted(tiny_embedded.get_cases()), key=lambda c: len(accountability(tiny_embedded, c).responsible))
    page = write_view(case_view(tiny_embedded, case), tmp_path / "case.html")
    with open_view(page, size=(1366, 768)) as opened:
        got = opened.script(LAYOUT)
        assert opened.errors() == []
    small = [b["what"] for b in got["boxes"] if b["px"] < 11]
    assert small == [], f"drawn under 11 px at scale {got['scale']:.2f}"
    assert [h["label"] for h in got["headings"]] == ["case", "organization", "posts then", "people", "posts now"]
    assert all(h["px"] >= 11 for h in got["headings"])
    boxes = got["boxes"]
    overlaps = [
        (a["what"], b["what"])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a["l"] < b["r"] and b["l"] < a["r"] and a["t"] < b["b"] and b["t"] < a["b"]
    ]
    assert overlaps == []


def _no_overlap(boxes: list[dict]) -> list[tuple[str, str]]:
    return [
        (a["what"], b["what"])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a["l"] < b["r"] and b["l"] < a["r"] and a["t"] < b["b"] and b["t"] < a["b"]
    ]


def test_career_reads_on_a_time_axis(tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path) -> None:
    # the tiny dataset's person with the longest career
    person = max(
        sorted({p for c in tiny_embedded.get_cases().values() for p in c.violator_ids}),
        key=lambda p: len(career(tiny_embedded, p)),
    )
    view = person_view(tiny_embedded, person)
    page = write_view(view, tmp_path / "person.html")
    with open_view(page, size=(1366, 768)) as opened:
        got = opened.script(LAYOUT)
        assert opened.errors() == []
    assert [t["label"] for t in got["axis"]] == [t["label"] for t in view.data["axis"]["ticks"]]
    assert all(t["px"] >= 11 for t in got["axis"])
    assert [b["what"] for b in got["boxes"] if b["px"] < 11] == []
    assert _no_overlap([b for b in got["boxes"] if b["what"].startswith("node")]) == []


def test_duties_two_levels_down_read_at_1366x768(
    tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    county = next(
        o.id
        for o in tiny_embedded.get_organizations().values()
        if o.level.value == "county" and o.kind.value == "committee"
    )
    page = write_view(duties_view(tiny_embedded, county, depth=2), tmp_path / "duties.html")
    with open_view(page, size=(1366, 768)) as opened:
        got = opened.script(LAYOUT)
        assert opened.errors() == []
    assert [b["what"] for b in got["boxes"] if b["px"] < 11] == []
    assert _no_overlap(got["boxes"]) == []


def test_map_search_finds_leaders_and_what_an_aggregate_holds(
    tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    view = pressure_map(tiny_embedded, budget=30, embed=0)  # what the file holds: no aggregate's contents
    aggregate = next(n for n in view.nodes if n["id"].endswith("::below"))
    parent = aggregate["id"].removesuffix("::below")
    inside_id = next(o for o, (up, _) in view.data["tree"].items() if up == parent)  # folded into it
    leader_node, entries = next((k, v) for k, v in view.data["find"].items() if not k.endswith("::below") and v)
    leader_id = entries[0][0].split()[-1]
    page = write_view(view, tmp_path / "map.html")
    with open_view(page) as opened:
        found = opened.script("return window.rtcView.search(arguments[0])", inside_id)
        assert found == aggregate["id"]
        assert f"({inside_id}) is inside this aggregate" in opened.driver.find_element("id", "details").text
        found = opened.script("return window.rtcView.search(arguments[0])", leader_id)
        assert found == leader_node and leader_id in opened.driver.find_element("id", "details").text
        assert opened.errors() == []


@pytest.mark.parametrize("name", ["pressure", "case", "duties"])
def test_png_and_svg_of_the_page(name: str, tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path) -> None:
    view = VIEWS[name](tiny_embedded)
    page = write_view(view, tmp_path / "v.html")
    with open_view(page) as opened:
        png = opened.script("return window.rtcView.toPNG()")
        svg = opened.script("return window.rtcView.toSVG()")
        size = opened.script("var c = document.querySelector('#graph canvas'); return [c.width, c.height]")
        opened.driver.find_element("id", "svg").click()  # the buttons run without an error
        opened.driver.find_element("id", "png").click()
        assert opened.errors() == []
    image = Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1])))
    assert list(image.size) == size and len(image.convert("RGB").getcolors(1_000_000) or []) > 20
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    drawn = root.findall(f"{ns}circle") + root.findall(f"{ns}rect")
    assert len(drawn) == len(view.nodes) and len(root.findall(f"{ns}line")) == len(view.edges)
    labels = {"".join(t.itertext()) for t in root.findall(f"{ns}text")}
    assert {n["label"].replace("\n", "") for n in view.nodes} == labels


def test_level_profile_beside_the_map_follows_the_year_and_selects_a_level(
    scenario_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    # C's subtree in 2019: 省 P 0, 市 S 1.0, 县 X 0.2, 乡镇 T 0.1 and T2 0 (median 0.05): county
    # after city fades x0.2, town after county x0.25, so the steepest is county after city.
    view = pressure_map(scenario_embedded, root="C", window=Window.of("2019-01-01", "2020-01-01"))
    page = write_view(view, tmp_path / "map.html")
    with open_view(page) as opened:
        text = opened.driver.find_element("id", "profile").text
        assert "市 city: median 1.0 (1)" in text and "×0.2" in text
        assert "×0.2 steepest fade\n县 county" in text and "×0.25\n乡镇 township" in text
        opened.driver.find_element("css selector", "#profile button[data-level='township']").click()
        assert sorted(opened.script("return window.rtcView.network.getSelectedNodes()")) == ["T", "T2"]
        Select(opened.driver.find_element("id", "year")).select_by_visible_text("2020")
        assert "乡镇 township: median 0.5 (2)" in opened.driver.find_element("id", "profile").text
        Select(opened.driver.find_element("id", "year")).select_by_visible_text("2017 (no data)")
        assert "no data" in opened.driver.find_element("id", "profile").text
        assert opened.errors() == []


def _roots(s: Store) -> dict[str, str | None]:
    orgs = s.get_organizations().values()
    city = sorted(o.id for o in orgs if o.level.value == "city" and o.kind.value == "committee")[0]
    county = sorted(o.id for o in orgs if o.level.value == "county" and o.kind.value == "committee")[0]
    return {"top": None, "city": city, "county": county}


@pytest.mark.parametrize("size", [(1600, 1000), (1366, 768)])
@pytest.mark.parametrize("root", ["top", "city", "county"])
def test_map_labels_one_size_never_overlapping(
    root: str, size: tuple[int, int], tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    view = pressure_map(tiny_embedded, root=_roots(tiny_embedded)[root])
    page = write_view(view, tmp_path / "map.html")
    with open_view(page, size=size) as opened:
        fitted = opened.script("return window.rtcView.labels")
        opened.script("var n = window.rtcView.network; n.moveTo({scale: n.getScale() * 4, animation: false})")
        zoomed = opened.script("return window.rtcView.labels")
        assert opened.errors() == []
    for drawn in (fitted, zoomed):
        assert drawn and all(b["px"] >= 11 for b in drawn)
        assert _no_overlap([{**b, "what": b["id"]} for b in drawn]) == []
    assert fitted[0]["id"] == view.data["root"]  # the root's label comes first


def test_map_filters_and_zoom_to_selection(scenario_embedded: Store, chromium: tuple[str, str], tmp_path: Path) -> None:
    # C's subtree in 2019: C 0, P 0, S 1.0 (a sink), X 0.2, T 0.1, T2 0
    view = pressure_map(scenario_embedded, root="C", window=Window.of("2019-01-01", "2020-01-01"))
    page = write_view(view, tmp_path / "map.html")
    visible = "return window.rtcView.nodes.get({filter: n => !n.hidden}).map(n => n.id).sort()"
    with open_view(page) as opened:
        d = opened.driver
        Select(d.find_element("id", "filter-level")).select_by_value("township")
        assert opened.script(visible) == ["T", "T2"] and d.find_element("id", "filter-count").text == "2 of 6 shown"
        Select(d.find_element("id", "filter-level")).select_by_value("")
        d.find_element("id", "filter-sinks").click()
        assert opened.script(visible) == ["S"]
        Select(d.find_element("id", "year")).select_by_visible_text("2020")  # S is no sink in 2020
        assert opened.script(visible) == []
        d.find_element("id", "filter-sinks").click()
        d.find_element("id", "filter-cold").click()  # 2020: all but T got nothing, so all but T are cold
        assert opened.script(visible) == ["C", "P", "S", "T2", "X"]
        d.find_element("id", "filter-cold").click()
        d.find_element("id", "filter-min").send_keys("0.15")
        assert opened.script(visible) == ["T"]  # 2020: T received 1.0, the rest nothing
        Select(d.find_element("id", "year")).select_by_visible_text("2019 (the window)")
        assert opened.script(visible) == ["S", "X"]
        svg = ElementTree.fromstring(opened.script("return window.rtcView.toSVG()"))
        assert len(svg.findall("{http://www.w3.org/2000/svg}circle")) == 2  # the SVG leaves out what is hidden
        assert len(svg.findall("{http://www.w3.org/2000/svg}line")) == 1  # S -> X
        labels = opened.script("window.rtcView.network.redraw(); return window.rtcView.labels")
        assert all(b["id"] in ("S", "X") for b in labels)
        before = opened.script("return window.rtcView.network.getScale()")
        opened.script("window.rtcView.network.selectNodes(['T'])")
        d.find_element("id", "zoom-selection").click()
        assert opened.script("return window.rtcView.network.getScale()") > before
        assert opened.errors() == []


def _details_button(opened: object, node: str, text: str) -> None:
    """Open a node's details and press the button whose text starts with ``text``, as a person does."""
    d = opened.driver  # type: ignore[attr-defined]
    d.execute_script("window.rtcView.showDetails(arguments[0])", node)
    next(b for b in d.find_elements("css selector", "#details button") if b.text.startswith(text)).click()


def test_an_aggregate_expands_and_collapses_in_the_page(
    scenario_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    # C's subtree in 2019, four nodes: C, P, S and the aggregate of X, T, T2 below S
    view = pressure_map(scenario_embedded, root="C", window=Window.of("2019-01-01", "2020-01-01"), budget=4)
    inside = view.data["expand"]["S::below"]["yearly"]
    page = write_view(view, tmp_path / "map.html")
    drawn = "return window.rtcView.nodes.getIds().sort()"
    marks = """var v = window.rtcView, x = v.nodes.get('X'), e = v.edges.get('S->X');
        return [x.color.background, e.dashes, x.title]"""
    with open_view(page) as opened:
        assert opened.script(drawn) == ["C", "P", "S", "S::below"]
        _details_button(opened, "S::below", "expand")
        assert opened.script(drawn) == ["C", "P", "S", "X", "X::below"]
        fill, dashed, tip = opened.script(marks)
        window = inside["columns"][view.data["yearly"]["selected"]]
        assert fill == window["colors"][1] and dashed and "received 0.2" in tip  # S 1.0 -> X 0.2 fades
        # the year control reaches the opened nodes: in 2020 S got nothing, X nothing
        Select(opened.driver.find_element("id", "year")).select_by_visible_text("2020")
        fill, dashed, tip = opened.script(marks)
        assert not dashed and "received 0.0" in tip
        # every level keeps its own ring: X on ring 3, its aggregate on ring 4
        radius = opened.script(
            "var p = window.rtcView.network.getPositions(['S', 'X', 'X::below']);"
            "return ['S', 'X', 'X::below'].map(k => Math.hypot(p[k].x, p[k].y))"
        )
        assert radius[0] < radius[1] < radius[2]
        opened.driver.execute_script("window.rtcView.showDetails('X::below')")
        _details_button(opened, "X::below", "expand")
        assert opened.script(drawn) == ["C", "P", "S", "T", "T2", "X"]
        _details_button(opened, "S", "collapse")
        assert opened.script(drawn) == ["C", "P", "S", "S::below"]
        assert opened.script("return window.rtcView.edges.getIds().sort()") == ["C->P", "P->S", "S->S::below"]
        assert opened.errors() == []


def test_search_opens_the_aggregates_around_a_person_or_an_organization(
    tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    view = pressure_map(tiny_embedded, budget=6, embed=5000)  # three levels collapsed, all in the file
    opened_parts = view.data["expand"]
    # an organization two aggregates deep, and a leader of one
    deep = next(
        (agg, n["id"])
        for agg, part in opened_parts.items()
        if agg.split("::")[0] in {n["id"] for p in opened_parts.values() for n in p["nodes"]}
        for n in part["nodes"]
        if not n["id"].endswith("::below")
    )
    leader_org, entries = next(
        (k, v) for p in opened_parts.values() for k, v in p["find"].items() if v and not k.endswith("::below")
    )
    leader = entries[0][0].split()[-1]
    page = write_view(view, tmp_path / "map.html")
    with open_view(page) as opened:
        assert opened.script("return window.rtcView.nodes.get(arguments[0])", deep[1]) is None
        assert opened.script("return window.rtcView.search(arguments[0])", deep[1]) == deep[1]
        assert opened.script("return window.rtcView.network.getSelectedNodes()") == [deep[1]]
        assert opened.script("return window.rtcView.search(arguments[0])", leader) == leader_org
        assert leader in opened.driver.find_element("id", "details").text
        assert opened.errors() == []


def test_the_page_lays_the_map_out_as_python_does(
    tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    view = pressure_map(tiny_embedded, budget=30)
    page = write_view(view, tmp_path / "map.html")
    with open_view(page) as opened:
        opened.script("window.rtcView.relayout()")
        got = opened.script("var o = {}; window.rtcView.nodes.forEach(n => { o[n.id] = {x: n.x, y: n.y}; }); return o")
        assert opened.errors() == []
    off = {n["id"]: max(abs(got[n["id"]]["x"] - n["x"]), abs(got[n["id"]]["y"] - n["y"])) for n in view.nodes}
    assert {k: d for k, d in off.items() if d > 0.5} == {}


def test_a_file_that_does_not_hold_an_aggregate_says_how_to_open_it(
    scenario_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    view = pressure_map(scenario_embedded, root="C", window=Window.of("2019-01-01", "2020-01-01"), budget=4, embed=0)
    page = write_view(view, tmp_path / "map.html")
    with open_view(page) as opened:
        assert opened.script("return window.rtcView.expand('S::below')") is False
        assert "rtc view pressure --root S" in opened.driver.find_element("id", "zoom-note").text
        # the search finds X inside and stops at the aggregate that holds it
        assert opened.script("return window.rtcView.search('X')") == "S::below"
        assert "(X) is inside this aggregate" in opened.driver.find_element("id", "details").text
        assert opened.errors() == [] and opened.outside_requests() == []
