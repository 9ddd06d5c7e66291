"""Generate a preset, or load a folder into a store, in a child process, so that its own peak
RSS is measured alone (``ru_maxrss`` of the process itself, printed with the timings). A
streamed load runs in several processes: the highest sum of their RSS is sampled
(``_TreeRss``), and each one's peak kept.

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
import threading
import time
from pathlib import Path
from typing import Any

from graph.factory import open_store
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


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


class _TreeRss:
    """The RSS of this process and every process under it, read from ``/proc`` (Linux, as
    ``ru_maxrss`` in KiB is) every ``every`` seconds in a thread: the highest sum seen, and
    each process's own peak (``VmHWM``, as last seen before it ended). A streamed load
    validates in this process and in a child, and writes in another child; the sum of their
    peaks overstates what they held at once (they do not peak together, and a child shares
    the pages it was forked with), so both are reported."""

    def __init__(self, every: float = 0.1) -> None:
        self.every, self.peak_gb, self.peaks_gb = every, 0.0, {os.getpid(): 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _tree(pid: int) -> list[int]:
        found, todo = [], [pid]
        while todo:
            at = todo.pop()
            found.append(at)
            for task in Path(f"/proc/{at}/task").glob("*/children"):
                try:
                    todo += map(int, task.read_text().split())
                except OSError:  # the task ended
                    continue
        return found

    @staticmethod
    def _status(pid: int) -> dict[str, float]:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:  # the process ended
            return {}
        fields = (line.split(":", 1) for line in lines)
        return {k: int(v.split()[0]) / 1024**2 for k, v in fields if k in ("VmRSS", "VmHWM")}  # KiB

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            total = 0.0
            for pid in self._tree(os.getpid()):
                status = self._status(pid)
                total += status.get("VmRSS", 0.0)
                self.peaks_gb[pid] = max(self.peaks_gb.get(pid, 0.0), status.get("VmHWM", 0.0))
            self.peak_gb = max(self.peak_gb, total)


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
        tree = _TreeRss()
        report = (stream_dataset if mode == "load-stream" else load_dataset)(store, folder)
        tree.stop()
        store.close()
        if not report.ok:
            raise SystemExit(f"load failed: {[str(e) for e in report.errors[:3]]}")
        out = {
            "load_s": time.perf_counter() - started,
            "rows": sum(c["read"] for c in report.counts.values()),
            "phases": report.phases,
            "tree_peak_rss_gb": tree.peak_gb,
            "process_peaks_rss_gb": [gb for gb in tree.peaks_gb.values() if gb > 0],  # this process first
        }
    else:
        raise SystemExit(f"unknown mode {mode!r}: generate or load")
    print(json.dumps({**out, "peak_rss_gb": _peak_rss_gb()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
