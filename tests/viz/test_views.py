"""The graph each view builds, checked by hand on the scenario (every backend that is up)."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pytest

from graph.errors import InvalidInput, NotFound
from graph.factory import open_store
from graph.store import Store
from loaders.load import load_dataset
from queries.findings import gaps
from queries.window import Window
from tests.viz.views import VIEWS
from viz.duties import FOLD, duties_view
from viz.people import MOVEMENT, ROLE_COLORS, case_view, person_view
from viz.pressure_map import FADE_COLOR, SINK_BORDER, expand_aggregate, pressure_map
from viz.view import COLD_TO_HOT, NO_DATA, View, heat, render_html, write_view

Y2019 = Window.of("2019-01-01", "2020-01-01")


def ids(view: View) -> set[str]:
    return {n["id"] for n in view.nodes}


def column_values(view: View, node: str) -> dict[str, float | None]:
    yearly = view.data["yearly"]
    k = yearly["ids"].index(node)
    return {c["key"]: c["values"][k] for c in yearly["columns"]}


def marks(view: View, key: str) -> dict[str, dict]:
    """The year control's column ``key``: colour and sink per node, fade per edge."""
    yearly = view.data["yearly"]
    col = next(c for c in yearly["columns"] if c["key"] == key)
    return {
        "colors": dict(zip(yearly["ids"], col["colors"], strict=True)),
        "sinks": dict(zip(yearly["ids"], col["sinks"], strict=True)),
        "fades": {e[0]: f for e, f in zip(yearly["edges"], col["fades"], strict=True)},
        "column": col,
    }


def edge(view: View, a: str, b: str) -> dict:
    return next(e for e in view.edges if e["from"] == a and e["to"] == b)


def test_heat_scale_runs_cold_to_hot() -> None:
    assert heat(0, 1.0) == COLD_TO_HOT[0] and heat(1.0, 1.0) == COLD_TO_HOT[-1]
    assert heat(None, 1.0) == "#d9d9d9" and heat(5, 0) == COLD_TO_HOT[0]
    # log scale: e - 1 is halfway between 0 and e**2 - 1
    assert heat(1.718281828, 6.389056) == COLD_TO_HOT[4]


def test_pressure_map_root_colours_and_years(scenario_store: Store) -> None:
    # R in 2019: S 1.0 (inspection), X 0.2 (meeting), T 0.1 (document), T2 0. The top of the
    # hierarchy has one child at each level down to X, so the map starts at X.
    view = pressure_map(scenario_store, window=Y2019, as_of="2022-01-01")
    assert view.data["root"] == "X" and ids(view) == {"X", "T", "T2"}
    # Colour scale top: the most any shown node got in the window or a year (T: 1.0 in 2020).
    assert view.node("T")["color"]["background"] == heat(0.1, 1.0)
    assert view.node("T2")["color"]["background"] == COLD_TO_HOT[0]
    by_year = column_values(view, "T")
    assert by_year["2018"] == 0.8 and by_year["window"] == 0.1 and by_year["2020"] == 1.0
    assert by_year["2017"] is None  # no action at all that year: no data, not zero
    assert marks(view, "2020")["colors"]["T"] == COLD_TO_HOT[-1]
    leaders = dict(view.details["T"])["leaders now"]
    assert "书记: 王芳" in leaders and "副书记: 陈静" in leaders and "张伟" not in leaders  # p1 left in 2020
    assert dict(view.details["T"])["received pressure"] == "0.1"
    assert view.subtitle == "received pressure in [2019-01-01, 2020-01-01); leaders as of 2022-01-01"


def test_pressure_map_sinks_and_fades(scenario_store: Store) -> None:
    view = pressure_map(scenario_store, root="C", window=Y2019)
    assert ids(view) == {"C", "P", "S", "X", "T", "T2"}
    s = view.node("S")  # receives 1.0, its child X 0.2: pass-on 0.2 < 0.5
    assert s["borderWidth"] == 3 and s["color"]["border"] == SINK_BORDER
    assert view.node("X")["borderWidth"] == 1  # 0.2 is below min_pressure
    fade = edge(view, "S", "X")
    assert fade["dashes"] and fade["color"]["color"] == FADE_COLOR
    assert not edge(view, "X", "T")["dashes"]  # X receives less than min_pressure
    assert not edge(view, "P", "S")["dashes"]  # P received nothing
    # the window is the calendar year 2019: one option, selected, with the window's marks
    yearly = view.data["yearly"]
    assert yearly["columns"][yearly["selected"]]["label"] == "2019 (the window)"
    assert "2019" not in [c["key"] for c in yearly["columns"]]
    # 2020: S receives nothing, so it is no sink and nothing fades under it
    y2020 = marks(view, "2020")
    assert not y2020["sinks"]["S"] and not y2020["fades"]["S->X"] and not any(y2020["fades"].values())
    assert y2020["column"]["subtitle"].startswith("received pressure in 2020;")
    # 2017 holds no action: every node no data, no mark, and the subtitle says so
    y2017 = marks(view, "2017")
    assert set(y2017["colors"].values()) == {NO_DATA} and not any(y2017["sinks"].values())
    assert y2017["column"]["label"] == "2017 (no data)" and "no data" in y2017["column"]["subtitle"]


def test_a_window_off_the_calendar_is_its_own_option(scenario_store: Store) -> None:
    view = pressure_map(scenario_store, root="C", window=Window.of("2019-03-01", "2020-03-01"))
    yearly = view.data["yearly"]
    labels = [c["label"] for c in yearly["columns"]]
    assert labels[yearly["selected"]] == "window [2019-03-01, 2020-03-01)" and "2019" in labels
    # the window's S got a3 (inspection, 1.0); the year 2019 agrees, as no action fell outside both
    assert column_values(view, "S")["window"] == column_values(view, "S")["2019"] == 1.0


def test_pressure_map_collapses_the_deepest_levels_over_budget(scenario_store: Store) -> None:
    view = pressure_map(scenario_store, root="C", window=Y2019, budget=4)
    assert ids(view) == {"C", "P", "S", "S::below"}
    assert view.data["collapsed_levels"] == 2
    agg = view.node("S::below")
    assert agg["attrs"]["organizations"] == 3 and agg["shape"] == "square"
    assert agg["label"].startswith("1 县 + 2 乡镇") and "median 0.2" in agg["label"]  # its head: X
    assert "rtc view pressure --root S" in dict(view.details["S::below"])["expand"]
    assert edge(view, "S", "S::below")["dashes"]  # the median of X is below half of S's 1.0
    depth_one = pressure_map(scenario_store, root="C", window=Y2019, depth=1)
    assert ids(depth_one) == {"C", "P"}


def test_an_aggregate_opens_in_place_one_level_at_a_time(scenario_store: Store) -> None:
    view = pressure_map(scenario_store, root="C", window=Y2019, budget=4)
    opened = view.data["expand"]
    assert sorted(opened) == ["S::below", "X::below"]  # the default embeds up to the budget
    s = opened["S::below"]
    assert [n["id"] for n in s["nodes"]] == ["X", "X::below"] and s["yearly"]["ids"] == ["S", "X", "X::below"]
    window = s["yearly"]["columns"][view.data["yearly"]["selected"]]
    # 2019: S 1.0, X 0.2, T 0.1 and T2 0 (median 0.05): S to X fades; X receives under the
    # minimum pressure (1.0), so nothing fades from it
    assert window["values"] == [1.0, 0.2, 0.05] and window["fades"] == [True, False]
    assert [e["id"] for e in s["edges"]] == ["S->X", "X->X::below"]
    assert s["nodes"][1]["label"].startswith("2 乡镇")
    assert "window: 0.05" in dict(s["details"]["X::below"])["median by year"]
    assert [n["id"] for n in opened["X::below"]["nodes"]] == ["T", "T2"]
    assert pressure_map(scenario_store, root="C", window=Y2019, budget=4, embed=2).data["expand"].keys() == {"S::below"}
    assert pressure_map(scenario_store, root="C", window=Y2019, budget=4, embed=0).data["expand"] == {}


def test_an_aggregate_the_page_does_not_hold_comes_from_expand_aggregate(scenario_store: Store) -> None:
    view = pressure_map(scenario_store, root="C", window=Y2019, budget=4)
    fetched = expand_aggregate(
        scenario_store, "S::below", root="C", window=Y2019, as_of=view.data["as_of"], top=view.data["query"]["top"]
    )
    assert fetched == view.data["expand"]["S::below"]
    with pytest.raises(InvalidInput, match="not an aggregate"):
        expand_aggregate(scenario_store, "S", root="C", window=Y2019, top=1)
    with pytest.raises(NotFound, match="T::below"):
        expand_aggregate(scenario_store, "T::below", root="C", window=Y2019, top=1)


def test_pressure_map_unknown_root_is_a_key_error(scenario_store: Store) -> None:
    with pytest.raises(KeyError, match="nope"):
        pressure_map(scenario_store, root="nope", window=Y2019)


def test_case_chain(scenario_store: Store) -> None:
    view = case_view(scenario_store, "K1", as_of="2022-01-01")
    assert {"case:K1", "org:T", "person:p1", "person:p3", "person:p4", "person:p7"} <= ids(view)
    p1 = view.node("person:p1")  # secretary then, promoted to X's deputy secretary
    assert p1["label"].startswith(MOVEMENT["promoted"][0]) and p1["color"]["border"] == MOVEMENT["promoted"][1]
    first = edge(view, "then:T/sec|p1", "person:p1")
    assert first["color"]["color"] == ROLE_COLORS["first"] and first["label"] == "first\n2018-01-01 – 2020-07-01"
    assert edge(view, "person:p1", "now:X/dep|p1")["label"] == "promoted\nsince 2020-07-01"
    # a post now names its place seen from the case's 甲镇党委: X is above it, T2 beside it
    assert view.node("now:X/dep|p1")["label"] == "某县委 >\n副书记\nsince 2020-07-01"
    assert view.node("now:T2/m1|p3")["label"] == "乙镇党委 >\n委员(纪律)\nsince 2021-01-01"
    assert edge(view, "person:p3", "now:T2/m1|p3")["label"] == "transferred\nsince 2021-01-01"
    assert view.node("person:p4")["label"].startswith(MOVEMENT["left"][0])  # retired
    assert edge(view, "person:p4", "now:T-JW/dis|p4")["dashes"]  # the last post, dashed
    assert view.node("now:T-JW/dis|p4")["label"].endswith("last post, left 2021-06-01")
    # the secretary's post is drawn once per holder, in each one's row: no edge crosses a row
    assert view.node("then:T/sec|p1")["y"] == view.node("person:p1")["y"] != view.node("then:T/sec|p2")["y"]
    assert all(e["from"] == "org:T" or view.node(e["from"])["y"] == view.node(e["to"])["y"] for e in view.edges[1:])
    assert [h["label"] for h in view.data["headings"]] == ["case", "organization", "posts then", "people", "posts now"]
    xs = [h["x"] for h in view.data["headings"]]
    assert xs == sorted(xs)
    assert view.subtitle.startswith(
        "misconduct [2020-03-01, 2020-12-01), category discipline; posts now as of 2022-01-01"
    )


def test_case_chain_draws_one_person_s_two_roles_side_by_side(scenario_dataset: Path, tmp_path: Path) -> None:
    # K4: the secretary p2 is the violator, so p2 is both direct and first on T/sec
    folder = tmp_path / "ds"
    shutil.copytree(scenario_dataset, folder)
    with (folder / "cases.csv").open("a", encoding="utf-8") as f:
        f.write("K4,T,discipline,2020-08-01,2020-10-01,p2\n")
    store = open_store(f"embedded://{tmp_path / 'store'}")
    assert load_dataset(store, folder).ok
    view = case_view(store, "K4", as_of="2021-01-01")
    both = [e for e in view.edges if (e["from"], e["to"]) == ("then:T/sec|p2", "person:p2")]
    assert sorted(e["label"].split("\n")[0] for e in both) == ["direct", "first"]
    assert {e["smooth"]["type"] for e in both} == {"curvedCW", "curvedCCW"}  # bent apart, none hidden
    assert len([e for e in view.edges if e["from"] == "person:p2" and e["to"].startswith("now:")]) == 1


def test_career_with_the_cases_in_each_tenure(scenario_store: Store) -> None:
    view = person_view(scenario_store, "p1")
    posts = [n for n in view.nodes if n["id"].startswith("post:")]
    assert [n["name"] for n in posts] == ["书记 甲镇党委", "副书记 某县委"]
    assert {n["id"] for n in view.nodes if n["id"].startswith("case:")} == {"case:K1"}  # K3 (2010) is before
    assert view.node("case:K1")["label"] == "case K1\ndiscipline\n2020-03-01 – 2020-12-01"
    # the time axis starts on 1 January of the first post's year, 150 units a year
    axis = view.data["axis"]
    assert [t["label"] for t in axis["ticks"]] == ["2018", "2019", "2020", "2021", "2022"]
    assert axis["ticks"][0]["x"] == 0.0 and axis["ticks"][1]["x"] == pytest.approx(150.0, abs=0.2)
    assert [(b["x0"], b["x1"]) for b in view.data["spans"]] == [(0.0, 374.5), (374.5, 549.9)]  # to 2021-09-01
    assert posts[1]["x"] - posts[1]["widthConstraint"]["minimum"] / 2 == pytest.approx(374.5, abs=0.6)
    assert posts[0]["y"] == posts[1]["y"]  # the first tenure ends as the second begins: one lane
    assert view.node("case:K1")["x"] > 2 * 150  # misconduct from March 2020, right of the 2020 tick
    assert edge(view, posts[0]["id"], posts[1]["id"])["label"] == "promote"
    assert view.subtitle.startswith("2 posts as of 2021-09-01")  # the latest date in the scenario
    with pytest.raises(KeyError):
        person_view(scenario_store, "nobody")


def test_duties_marks_the_gaps_findings_reports(tiny_store: Store) -> None:
    orgs = tiny_store.get_organizations()
    county = next(o.id for o in orgs.values() if o.level.value == "county" and o.kind.value == "committee")
    view = duties_view(tiny_store, county)
    at = view.subtitle.split("organizations on ")[1][:10]
    undecomposed = {i for g in gaps(tiny_store, at, [county]) if g.kind == "undecomposed-duty" for i in g.ids}
    marked = {n["id"] for n in view.nodes if n.get("attrs", {}).get("gap") and "::missing::" not in n["id"]}
    assert marked == undecomposed
    duties = tiny_store.get_duties(org_ids=[county])
    assert set(duties) <= ids(view)
    for node in (n for n in view.nodes if "::missing::" in n["id"]):  # a child with no share of the duty
        duty_id, child = node["id"].split("::missing::")
        assert orgs[child].parent_id == county
        assert not any(d.parent_duty_id == duty_id for d in tiny_store.get_duties(org_ids=[child]).values())


def test_duties_two_levels_down_fold_shares_and_lose_none(tiny_embedded: Store) -> None:
    orgs = tiny_embedded.get_organizations()
    county = next(o.id for o in orgs.values() if o.level.value == "county" and o.kind.value == "committee")
    view = duties_view(tiny_embedded, county, depth=2)
    at = view.subtitle.split("organizations on ")[1][:10]
    below = {o.id for o in orgs.values() if o.parent_id == county}
    villages = {o.id for o in orgs.values() if o.parent_id in below}
    duties = tiny_embedded.get_duties(org_ids=[county, *below, *villages])
    undecomposed = {i for g in gaps(tiny_embedded, at) if g.kind == "undecomposed-duty" for i in g.ids}
    folded = [n for n in view.nodes if n["id"].endswith("::folded")]
    assert folded, "the tiny county's townships have more than FOLD villages"
    inside: set[str] = set()
    for box in folded:
        rows = dict((r[0], r[1]) for r in view.details[box["id"]][1:])
        assert box["attrs"]["folded"] == len(view.details[box["id"]]) - 1 > FOLD
        for state in rows.values():
            duty = state.split("(")[-1].rstrip(")") if "(" in state else None
            if duty:
                inside.add(duty)
                assert state.startswith("not decomposed" if duty in undecomposed else "share")
        n_gap = sum(1 for v in rows.values() if v.startswith("not decomposed"))
        assert (f"✕ {n_gap} not decomposed" in box["label"]) == bool(n_gap)
    # every duty is drawn or listed in a folded box: nothing is dropped
    assert set(duties) == (ids(view) & set(duties)) | inside
    # a tidy tree: the boxes of one column never share a row
    rows_used = [(n["x"], n["y"]) for n in view.nodes]
    assert len(rows_used) == len(set(rows_used))


def test_exports_and_page(scenario_store: Store, tmp_path: Path) -> None:
    view = pressure_map(scenario_store, root="C", window=Y2019)
    g = nx.read_graphml(write_view(view, tmp_path / "map.graphml"))
    assert set(g.nodes) == ids(view) and g.nodes["S"]["sink"] is True and g.nodes["S"]["received"] == 1.0
    assert set(nx.read_gexf(write_view(view, tmp_path / "map.gexf")).nodes) == ids(view)
    with pytest.raises(ValueError, match=r"\.html, \.graphml or \.gexf"):
        write_view(view, tmp_path / "map.png")
    assert not list(tmp_path.glob("*.part"))


def test_page_is_self_contained_and_inert() -> None:
    view = View(kind="case", title="t </script><b>x", subtitle="s")
    view.nodes.append({"id": "a", "label": "</script><script>alert(1)</script>", "x": 0, "y": 0})
    page = render_html(view)
    assert "<script>alert(1)" not in page and "</script><b>x" not in page
    tags = _Tags()
    tags.feed(page)
    assert [t for t, _ in tags.seen] == [
        "html",
        "head",
        "meta",
        "meta",
        "meta",
        "title",
        "style",
        "style",
        "body",
        "header",
        "div",
        "h1",
        "div",
        "div",
        "span",
        "label",
        "select",
        "input",
        "span",
        "button",
        "button",
        "button",
        "button",
        "span",
        "main",
        "div",
        "aside",
        "section",
        "h2",
        "div",
        "section",
        "h2",
        "label",
        "select",
        "option",
        "label",
        "input",
        "label",
        "input",
        "label",
        "input",
        "input",
        "span",
        "section",
        "h2",
        "section",
        "h2",
        "p",
        "script",
        "script",
        "script",
    ]
    assert not [a for _, attrs in tags.seen for a, v in attrs if a in ("src", "href") and v]  # nothing to fetch


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.seen.append((tag, attrs))


def _rgb(node: dict) -> tuple[int, int, int]:
    colour = node["color"]["background"] if isinstance(node.get("color"), dict) else node.get("color")
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@pytest.mark.parametrize("name", ["pressure", "pressure-collapsed", "case", "person", "duties"])
def test_every_export_reads_back_with_what_the_page_draws(name: str, tiny_embedded: Store, tmp_path: Path) -> None:
    view = VIEWS[name](tiny_embedded)
    gexf = nx.read_gexf(write_view(view, tmp_path / "v.gexf"))
    graphml = nx.read_graphml(write_view(view, tmp_path / "v.graphml"))
    assert set(gexf.nodes) == set(graphml.nodes) == ids(view)
    assert gexf.number_of_edges() == graphml.number_of_edges() == len(view.edges)
    for node in view.nodes:
        viz, plain = gexf.nodes[node["id"]]["viz"], graphml.nodes[node["id"]]
        # Gephi reads viz: in GEXF, and x, y, size, r, g, b in GraphML
        assert viz["position"]["x"] == pytest.approx(node["x"]) and viz["position"]["y"] == pytest.approx(-node["y"])
        assert (plain["x"], plain["y"]) == pytest.approx((node["x"], -node["y"]))
        assert viz["size"] == pytest.approx(plain["size"]) and plain["size"] > 0
        assert (viz["color"]["r"], viz["color"]["g"], viz["color"]["b"]) == _rgb(node)
        assert (plain["r"], plain["g"], plain["b"]) == _rgb(node)


def test_export_declares_one_type_per_attribute(tmp_path: Path) -> None:
    # networkx declares a GEXF attribute's type from its first value: 270 then 270.5 was unreadable
    view = View(kind="person", title="t", subtitle="s")
    view.nodes = [
        {"id": "a", "x": 0, "y": 270, "color": "#102030", "attrs": {"n": 1, "tag": "x"}},
        {"id": "b", "x": 1.5, "y": 270.5, "attrs": {"n": 2.5, "tag": 3}},
    ]
    view.edges = [{"from": "a", "to": "b", "width": 1}, {"from": "a", "to": "b", "width": 2.5}]
    g = nx.read_gexf(write_view(view, tmp_path / "v.gexf"))
    assert g.nodes["a"]["n"] == 1.0 and g.nodes["b"]["n"] == 2.5 and g.nodes["b"]["tag"] == "3"
    assert g.nodes["a"]["viz"]["color"]["r"] == 0x10 and "color" not in g.nodes["b"]["viz"]
    assert g.number_of_edges() == 2
