"""Reads from a cold store: open it in this fresh process and look up cases with no warm-up
call, as a one-off program would (issue 25's "cold equals warm", and its nation targets).

    python -m bench.cold embedded://PATH [N] [--random] [--profile] [--runs R]

N cases (200) in id order, or drawn at random (``--random``, seed 1); ``--profile`` then
times the level profile of the last full year in the data on another fresh store. Prints
JSON: the seconds to open, to the first answer after opening, the median, p90, p99 and
slowest of the lookups after it, and the profile's seconds. ``--runs R``: R fresh processes in turn,
each run's figures and the median of each across them (a nation store's first run after
other reads meets pages no longer cached; one run is not a measurement).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import subprocess
import sys
import time
from typing import Any

from graph.factory import open_store
from queries.accountability import accountability
from queries.pressure import level_profile, pressure
from queries.window import Window


def run_cold(url: str, n: int = 200, *, drawn: bool = False, profile: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    store = open_store(url)
    opened = time.perf_counter() - started
    every = sorted(store.get_cases())
    cases = random.Random(1).sample(every, min(n, len(every))) if drawn else every[:n]
    t = time.perf_counter()
    accountability(store, cases[0])
    first = time.perf_counter() - t
    times = []
    for case in cases[1:]:
        t = time.perf_counter()
        accountability(store, case)
        times.append(time.perf_counter() - t)
    span = store.date_range()
    store.close()
    times.sort()
    out: dict[str, Any] = {
        "cases": len(cases),
        "open_s": opened,
        "first_ms": first * 1000,
        "p50_ms": statistics.median(times) * 1000,
        "p90_ms": times[int(len(times) * 0.9)] * 1000,
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
        "max_ms": times[-1] * 1000,  # a one-time cost after the first answer shows here
    }
    if profile and span is not None:
        year = dt.date.fromordinal(span[1]).year - 1
        fresh = open_store(url)
        t = time.perf_counter()
        level_profile(pressure(fresh, Window.of(f"{year}-01-01", f"{year + 1}-01-01")))
        out["level_profile_s"] = time.perf_counter() - t
        fresh.close()
    return out


def run_many(argv: list[str], runs: int) -> dict[str, Any]:
    """``runs`` fresh processes of this module with ``argv``, one after the other."""
    done = [
        json.loads(subprocess.run([sys.executable, "-m", "bench.cold", *argv], check=True, capture_output=True).stdout)
        for _ in range(runs)
    ]
    return {"runs": done, "median": {k: statistics.median(r[k] for r in done) for k in done[0]}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("n", type=int, nargs="?", default=200)
    parser.add_argument("--random", action="store_true", help="draw the cases at random (seed 1)")
    parser.add_argument("--profile", action="store_true", help="then time a one-year level profile")
    parser.add_argument("--runs", type=int, default=1, help="fresh processes in turn, and the median of each figure")
    args = parser.parse_args()
    if args.runs > 1:
        argv = [args.url, str(args.n), *(["--random"] if args.random else []), *(["--profile"] if args.profile else [])]
        print(json.dumps(run_many(argv, args.runs), indent=1))
    else:
        print(json.dumps(run_cold(args.url, args.n, drawn=args.random, profile=args.profile), indent=1))
