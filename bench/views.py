"""The pressure map benchmark: file written (in a fresh `rtc view` process, and from a warm
store as the API serves it), its size, its first draw in headless Chromium, and the time to
open an aggregate (in the page, from what it holds; and what the API computes for one it does not).

    python -m bench.views embedded://PATH   # on a store already loaded
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from graph.factory import open_store
from viz.browser import open_view
from viz.pressure_map import expand_aggregate, pressure_map
from viz.view import write_view

RUNS = 3
# Open (then close) ten aggregates the page holds, one at a time: from the call to the end of
# the next draw, in milliseconds
EXPAND = """
var done = arguments[arguments.length - 1], v = window.rtcView, out = [];
var ids = Object.keys(v.payload.data.expand || {}).filter(function (id) { return v.nodes.get(id); }).slice(0, 10);
function next(i) {
  if (i >= ids.length) { done(out); return; }
  var t = performance.now();
  v.expand(ids[i]);  // the data changes now; the draw that shows them comes after
  v.network.once("afterDrawing", function () {
    out.push(performance.now() - t);
    setTimeout(function () {
      v.collapse(ids[i].replace(/::below$/, ""));
      setTimeout(function () { next(i + 1); }, 50);
    }, 0);
  });
}
next(0);
"""


def run_views(url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rtc-bench-views-") as work:
        return _run_views(url, Path(work) / "pressure-map.html")


def _run_views(url: str, out: Path) -> dict[str, Any]:
    cold = []
    for _ in range(RUNS):  # a fresh process: interpreter start, imports, the store's first reads
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rtc.cli", "view", "pressure", "--store", url, "--out", str(out)],
            check=True,
            capture_output=True,
        )
        cold.append(time.perf_counter() - t)
    store = open_store(url)
    pressure_map(store)  # warm: the store's indexes are built, as in a running API
    orgs = store.get_organizations().values()
    city = sorted(o.id for o in orgs if o.level.value == "city" and o.kind.value == "committee")[:1]
    warm, nodes = [], 0
    for _ in range(RUNS):
        t = time.perf_counter()
        view = pressure_map(store)
        write_view(view, out)
        warm.append(time.perf_counter() - t)
        nodes = len(view.nodes)
    aggregates = [n["id"] for n in view.nodes if n["id"].endswith("::below")][:5]
    fetched = []
    for agg in aggregates:  # what the API computes for an aggregate a served page does not hold
        t = time.perf_counter()
        expand_aggregate(store, agg, top=view.data["query"]["top"])
        fetched.append(time.perf_counter() - t)
    city_view = pressure_map(store, root=city[0]) if city else None
    city_out = out.with_name("city-map.html")
    if city_view is not None:
        write_view(city_view, city_out)
    store.close()
    with_start, page, expand = [], [], []
    for _ in range(RUNS):
        with open_view(out) as opened:
            with_start.append(opened.loaded - opened.started)
            page.append(opened.first_draw_ms / 1000)
            expand += opened.driver.execute_async_script(EXPAND)
            assert opened.errors() == [] and opened.outside_requests() == []
    city_draw = []
    for _ in range(RUNS if city_view is not None else 0):  # a city's map: its 1,100 organizations, uncollapsed
        with open_view(city_out) as opened:
            city_draw.append(opened.first_draw_ms / 1000)
            assert opened.errors() == [] and opened.outside_requests() == []
    return {
        "city": None
        if city_view is None
        else {
            "root": city[0],
            "nodes": len(city_view.nodes),
            "size_mb": city_out.stat().st_size / 1e6,
            "first_draw_page_s": statistics.median(city_draw),
        },
        "nodes": nodes,
        "size_mb": out.stat().st_size / 1e6,
        "write_cold_process_s": statistics.median(cold),
        "write_warm_store_s": statistics.median(warm),
        "first_draw_with_browser_start_s": statistics.median(with_start),
        "first_draw_page_s": statistics.median(page),
        "expand_in_page_ms": {"median": statistics.median(expand), "max": max(expand), "count": len(expand)},
        "expand_from_api_s": {"median": statistics.median(fetched), "max": max(fetched), "count": len(fetched)},
        "runs": RUNS,
    }


if __name__ == "__main__":
    print(json.dumps(run_views(sys.argv[1]), indent=1))
