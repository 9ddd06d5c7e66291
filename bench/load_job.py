"""Generate a preset, or load a folder into a store, in a child process, so that its own peak
RSS is measured alone (``ru_maxrss`` of the process itself, printed with the timings).

    python -m bench.load_job generate PRESET FOLDER
    python -m bench.load_job load FOLDER STORE_URL
    python -m bench.load_job load-stream FOLDER STORE_URL
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from graph.store import open_store
from loaders.generate import generate
from loaders.load import load_dataset
from loaders.stream import stream_dataset


def run_job(*args: str, max_gb: float | None = None) -> dict[str, Any]:
    """Run this module in a child process and return what it printed; ``max_gb`` caps its
    address space."""
    env = {**os.environ, **({"RTC_BENCH_MAX_GB": str(max_gb)} if max_gb else {})}
    child = subprocess.run(
        [sys.executable, "-m", "bench.load_job", *args], capture_output=True, text=True, check=False, env=env
    )
    if child.returncode != 0:
        raise RuntimeError(f"bench.load_job {' '.join(args)} failed:\n{child.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def _peak_rss_gb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024**2  # KiB on Linux


def main(mode: str, *args: str) -> None:
    cap = os.environ.get("RTC_BENCH_MAX_GB")
    if cap:  # a loader that would outgrow the machine fails fast with MemoryError instead
        limit = int(float(cap) * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    started = time.perf_counter()
    if mode == "generate":
        preset, folder = args
        truth = generate(folder, preset, seed=7)
        out = {"generate_s": time.perf_counter() - started, "counts": truth["counts"]}
    elif mode in ("load", "load-stream"):
        folder, url = args
        store = open_store(url)
        report = (stream_dataset if mode == "load-stream" else load_dataset)(store, folder)
        store.close()
        if not report.ok:
            raise SystemExit(f"load failed: {[str(e) for e in report.errors[:3]]}")
        out = {
            "load_s": time.perf_counter() - started,
            "rows": sum(c["read"] for c in report.counts.values()),
            "phases": report.phases,
        }
    else:
        raise SystemExit(f"unknown mode {mode!r}: generate or load")
    # A first streamed load into FalkorDB writes from a second process (loaders.stream._Stager):
    # the largest child's peak is reported beside the job's own, and the bench adds them.
    children = _peak_rss_gb(resource.RUSAGE_CHILDREN)
    print(json.dumps({**out, "peak_rss_gb": _peak_rss_gb(), "children_peak_rss_gb": children}))


if __name__ == "__main__":
    main(*sys.argv[1:])
