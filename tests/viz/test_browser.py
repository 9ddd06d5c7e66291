"""Every view in headless Chromium with the network off: it draws every node, logs no console
error, makes no request, finds a Chinese name, shows details on a click, and is not blank."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from graph.store import Store
from tests.viz.views import VIEWS
from viz.browser import open_view
from viz.pressure_map import pressure_map
from viz.view import write_view

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


def test_year_selector_recolours_without_a_server(
    tiny_embedded: Store, chromium: tuple[str, str], tmp_path: Path
) -> None:
    view = pressure_map(tiny_embedded)
    yearly = view.data["yearly"]
    page = write_view(view, tmp_path / "map.html")
    year = yearly["years"][-2]
    with open_view(page) as opened:
        opened.script(
            "var s = document.getElementById('year'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
            year,
        )
        shown = opened.script("return window.rtcView.nodes.get().map(n => [n.id, n.color.background])")
        subtitle = opened.driver.find_element("id", "subtitle").text
        assert opened.errors() == []
    expected = dict(zip(yearly["ids"], yearly["colors"][yearly["years"].index(year)], strict=True))
    assert dict(shown) == expected
    assert f"received pressure in {year}" in subtitle
