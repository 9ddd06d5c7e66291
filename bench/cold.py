"""Accountability from a cold store: open it in this fresh process and look up cases with no
warm-up call, as a one-off program would (issue 25's "cold equals warm").

    python -m bench.cold embedded://PATH [N]   # N cases in id order (200)
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from graph.factory import open_store
from queries.accountability import accountability


def run_cold(url: str, n: int = 200) -> dict[str, float]:
    store = open_store(url)
    cases = sorted(store.get_cases())[:n]
    started = time.perf_counter()
    accountability(store, cases[0])
    first = time.perf_counter() - started
    times = []
    for case in cases[1:]:
        t = time.perf_counter()
        accountability(store, case)
        times.append(time.perf_counter() - t)
    store.close()
    times.sort()
    return {
        "cases": len(cases),
        "first_ms": first * 1000,
        "p50_ms": statistics.median(times) * 1000,
        "p90_ms": times[int(len(times) * 0.9)] * 1000,
    }


if __name__ == "__main__":
    print(json.dumps(run_cold(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200), indent=1))
