"""The pressure map benchmark: file written (in a fresh `rtc view` process, and from a warm
store as the API serves it), its size, and its first draw in headless Chromium.

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
from viz.pressure_map import pressure_map
from viz.view import write_view

RUNS = 3


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
    city_view = pressure_map(store, root=city[0]) if city else None
    city_out = out.with_name("city-map.html")
    if city_view is not None:
        write_view(city_view, city_out)
    store.close()
    with_start, page = [], []
    for _ in range(RUNS):
        with open_view(out) as opened:
            with_start.append(opened.loaded - opened.started)
            page.append(opened.first_draw_ms / 1000)
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
        "runs": RUNS,
    }


if __name__ == "__main__":
    print(json.dumps(run_views(sys.argv[1]), indent=1))
