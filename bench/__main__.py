"""Run the benchmarks of the foundation and queries issues on one preset.

    python -m bench [--preset province] [--samples 1000] [--backend embedded|falkordb|both]

Figures: generate + load time and peak RSS (measured in a child process), holders(position,
at) latency, accountability latency over random cases, the level profile of a one-year
window (cold, including the first read of the actions, and warm), the API against its own
/health, and the pressure map (file written, size, first draw in headless Chromium).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from graph.store import open_store
from queries.accountability import accountability
from queries.pressure import level_profile, pressure
from queries.window import Window

RESULTS = Path(__file__).parent / "results"


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]}


def run(preset: str, samples: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"rtc-bench-{preset}-"))
    url = f"embedded://{work / 'store'}"
    child = subprocess.run(
        [sys.executable, "-m", "bench.load_job", preset, str(work / "data"), url],
        capture_output=True,
        text=True,
        check=True,
    )
    job = json.loads(child.stdout.strip().splitlines()[-1])
    peak_rss_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # ru_maxrss is KiB on Linux
    store = open_store(url)
    rng = random.Random(1)
    span = store.date_range()
    assert span is not None
    positions = list(store.get_positions())
    store.holders(positions[0], span[0])  # builds the tenure index once
    holder_times = []
    for _ in range(samples):
        pos, day = rng.choice(positions), rng.randint(span[0], span[1])
        t = time.perf_counter_ns()
        store.holders(pos, day)
        holder_times.append((time.perf_counter_ns() - t) / 1000)
    cases = list(store.get_cases())
    accountability(store, cases[0])  # warms the indexes
    acc_times = []
    for case in (rng.choice(cases) for _ in range(samples)):
        t = time.perf_counter_ns()
        accountability(store, case)
        acc_times.append((time.perf_counter_ns() - t) / 1e6)
    year = dt.date.fromordinal(span[1]).year - 1
    window = Window.of(f"{year}-01-01", f"{year + 1}-01-01")
    cold_store = open_store(url)
    t = time.perf_counter()
    level_profile(pressure(cold_store, window))
    profile_cold = time.perf_counter() - t
    t = time.perf_counter()
    level_profile(pressure(cold_store, window))
    profile_warm = time.perf_counter() - t
    from bench.api import run_api

    api = run_api(url, requests=samples)
    from bench.views import run_views

    views = run_views(url)
    return {
        "api": api,
        "views": views,
        "preset": preset,
        "backend": "embedded",
        "rows": job["rows"],
        "generate_s": job["generate_s"],
        "load_s": job["load_s"],
        "generate_load_s": job["generate_s"] + job["load_s"],
        "load_rows_per_s": job["rows"] / job["load_s"],
        "load_phases_s": job["phases"],
        "peak_rss_gb": peak_rss_gb,
        "holders_us": _percentiles(holder_times),
        "accountability_ms": _percentiles(acc_times),
        "level_profile_s": {"cold": profile_cold, "warm": profile_warm},
        "samples": samples,
        "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()},
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def show(r: dict[str, Any]) -> None:
    table = Table(title=f"rtc benchmark: {r['preset']} preset, embedded store, {r['rows']:,} rows")
    for col in ("figure", "measured", "target", "ok"):
        table.add_column(col)
    rows = [
        ("generate + load", f"{r['generate_load_s']:.1f} s", "<= 60 s", r["generate_load_s"] <= 60),
        (
            "  generate / load",
            f"{r['generate_s']:.1f} s / {r['load_s']:.1f} s ({r['load_rows_per_s']:,.0f} rows/s)",
            "",
            None,
        ),
        ("peak RSS (generate + load)", f"{r['peak_rss_gb']:.2f} GB", "<= 3 GB", r["peak_rss_gb"] <= 3),
        (
            "holders(position, at) median",
            f"{r['holders_us']['median']:.1f} us",
            "<= 50 us",
            r["holders_us"]["median"] <= 50,
        ),
        (
            "accountability median",
            f"{r['accountability_ms']['median']:.2f} ms",
            "<= 2 ms",
            r["accountability_ms"]["median"] <= 2,
        ),
        (
            "accountability p99",
            f"{r['accountability_ms']['p99']:.2f} ms",
            "<= 10 ms",
            r["accountability_ms"]["p99"] <= 10,
        ),
        (
            "level profile, one year (cold)",
            f"{r['level_profile_s']['cold']:.2f} s",
            "<= 2 s",
            r["level_profile_s"]["cold"] <= 2,
        ),
        ("level profile, one year (warm)", f"{r['level_profile_s']['warm']:.3f} s", "", None),
    ]
    for c in ("c1", "c10"):
        h, a = r["api"][c]["health_ms"], r["api"][c]["accountability_ms"]
        rows += [
            (f"API GET /health, concurrency {c[1:]}: median / p99", f"{h['median']:.2f} / {h['p99']:.2f} ms", "", None),
            (
                f"API GET accountability, concurrency {c[1:]}: median",
                f"{a['median']:.2f} ms ({a['median'] / h['median']:.1f}x /health)",
                "<= 5x /health",
                a["median"] <= 5 * h["median"],
            ),
            (f"API GET accountability, concurrency {c[1:]}: p99", f"{a['p99']:.2f} ms", "<= 25 ms", a["p99"] <= 25),
        ]
    v = r["views"]
    rows += [
        (
            f"pressure map ({v['nodes']} nodes) written, fresh `rtc view` process",
            f"{v['write_cold_process_s']:.2f} s",
            "<= 5 s",
            v["write_cold_process_s"] <= 5,
        ),
        ("pressure map written, warm store (as the API)", f"{v['write_warm_store_s']:.2f} s", "<= 5 s", None),
        ("pressure map file size", f"{v['size_mb']:.2f} MB", "<= 5 MB", v["size_mb"] <= 5),
        (
            "pressure map first draw, headless Chromium (browser start included)",
            f"{v['first_draw_with_browser_start_s']:.2f} s",
            "<= 3 s",
            v["first_draw_with_browser_start_s"] <= 3,
        ),
        ("  first draw by the page's own clock", f"{v['first_draw_page_s']:.2f} s", "", None),
    ]
    for name, measured, target, ok in rows:
        table.add_row(name, measured, target, "" if ok is None else ("yes" if ok else "NO"))
    Console().print(table)


def show_falkordb(r: dict[str, Any]) -> None:
    table = Table(
        title=f"rtc benchmark: {r['preset']} preset, FalkorDB on loopback ({r['server']}), {r['rows']:,} rows"
    )
    for col in ("figure", "measured", "target", "ok"):
        table.add_column(col)
    load, write, ceiling = r["load_rows_per_s"], r["write_rows_per_s"], r["ceiling_rows_per_s"]
    merge = r["merge_per_row_rows_per_s"]
    rows = [
        (
            "bulk load, validation included",
            f"{load:,.0f} rows/s ({r['load_s']:.1f} s)",
            ">= 40,000 rows/s",
            load >= 40000,
        ),
        ("  write phase alone", f"{write:,.0f} rows/s ({r['write_s']:.1f} s)", "", None),
        ("bare UNWIND CREATE of the same rows (nodes only)", f"{ceiling:,.0f} rows/s", "the ceiling", None),
        (
            "load / ceiling",
            f"{load / ceiling:.2f} (write phase {write / ceiling:.2f})",
            ">= 0.6",
            load / ceiling >= 0.6,
        ),
        ("one MERGE per row", f"{merge:,.0f} rows/s", "", None),
        ("load / one MERGE per row", f"{load / merge:.1f}x", ">= 20x", load / merge >= 20),
        (
            "accountability median",
            f"{r['accountability_ms']['median']:.2f} ms",
            "<= 10 ms",
            r["accountability_ms"]["median"] <= 10,
        ),
        ("accountability p99", f"{r['accountability_ms']['p99']:.2f} ms", "", None),
    ]
    for name, measured, target, ok in rows:
        table.add_row(name, measured, target, "" if ok is None else ("yes" if ok else "NO"))
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="province", choices=["tiny", "county", "province"])
    parser.add_argument("--samples", type=int, default=1000, help="random positions and cases to time")
    parser.add_argument("--backend", default="embedded", choices=["embedded", "falkordb", "both"])
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    if args.backend in ("embedded", "both"):
        result = run(args.preset, args.samples)
        show(result)
        _save(result, f"{args.preset}-embedded.json")
    if args.backend in ("falkordb", "both"):
        from bench.falkordb import run_falkordb

        result = run_falkordb(args.preset, min(args.samples, 300))
        show_falkordb(result)
        _save(result, f"{args.preset}-falkordb.json")


def _save(result: dict[str, Any], name: str) -> None:
    result["when"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out = RESULTS / name
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
