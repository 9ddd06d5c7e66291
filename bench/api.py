"""API benchmark: one uvicorn worker (``rtc serve``) on loopback over the embedded store;
GET /cases/{id}/accountability against GET /health in the same run, at concurrency 1 and 10.

The load comes from ``wrk`` (Debian's package: ``apt-get install wrk``) when it is installed:
a C client leaves the two cores to the server, where ten Python client threads took a share
of them and added their own waits to every figure. Without it, a Python client (httpx
threads) is used; the JSON says which (``client``).

With two CPUs or more, the server is pinned to the first and the client to the others, so
neither takes the other's core. The same 1,000 random cases are asked at both
concurrencies, after one pass over them (with several workers, eight more at concurrency 10,
so that every worker has seen them): the figures are those of a service that has run for a
while (its person and tenure caches filled), not of its first minute."""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import percentiles
from graph.backends.falkordb import free_port
from graph.factory import open_store


def _latencies(base: str, headers: dict[str, str], paths: list[str], concurrency: int) -> list[float]:
    out: list[float] = []
    lock = threading.Lock()
    chunks = [paths[i::concurrency] for i in range(concurrency)]

    def worker(mine: list[str]) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for path in mine:
                t = time.perf_counter()
                r = client.get(path)
                elapsed = (time.perf_counter() - t) * 1000
                if r.status_code != 200:
                    raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
                with lock:
                    out.append(elapsed)

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


WRK_SECONDS = 10
_LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Authorization"] = "%s"})
end
"""


def _wrk(base: str, headers: dict[str, str], paths: list[str], concurrency: int, work: Path) -> dict[str, float]:
    """Median and p99 (ms) from wrk's latency distribution, over ``WRK_SECONDS`` seconds."""
    listing = work / f"paths-{concurrency}.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = work / f"paths-{concurrency}.lua"
    script.write_text(_LUA % (listing, headers["Authorization"]))
    out = subprocess.run(
        [*_pinning()[1], "wrk", "-t1", f"-c{concurrency}", f"-d{WRK_SECONDS}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "99%"):
            value = parts[1]
            unit = next(u for u in ("us", "ms", "s") if value.endswith(u))
            found[parts[0]] = float(value[: -len(unit)]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return {"median": found["50%"], "p99": found["99%"]}


def _pinning() -> tuple[list[str], list[str]]:
    """``taskset`` prefixes for the server (the first CPU) and the client (the others), when
    there are two CPUs or more; empty otherwise, or with ``RTC_BENCH_PIN=0`` (workers and
    client then share every CPU)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or not shutil.which("taskset") or os.environ.get("RTC_BENCH_PIN") == "0":
        return [], []
    return ["taskset", "-c", str(cpus[0])], ["taskset", "-c", ",".join(map(str, cpus[1:]))]


def run_api(store_url: str, requests: int = 1000, workers: int = 1) -> dict[str, Any]:
    """``store_url`` must hold a loaded dataset (the embedded benchmark's store); ``workers``:
    ``rtc serve --workers`` (all pinned with the server, to the first CPU)."""
    work = Path(tempfile.mkdtemp(prefix="rtc-bench-api-"))
    env = {**os.environ, "RTC_API_KEYS_FILE": str(work / "keys.json"), "RTC_AUDIT_LOG": str(work / "audit.jsonl")}
    key = subprocess.run(
        [sys.executable, "-m", "rtc.cli", "keys", "add", "bench", "--role", "reader"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [
            *_pinning()[0],
            sys.executable,
            "-m",
            "rtc.cli",
            "serve",
            "--port",
            str(port),
            "--store",
            store_url,
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("rtc serve did not start")
            time.sleep(0.2)
        store = open_store(store_url)
        cases = sorted(store.get_cases())
        store.close()
        rng = random.Random(2)
        headers = {"Authorization": f"Bearer {key}"}
        acc_paths = [f"/cases/{rng.choice(cases)}/accountability" for _ in range(requests)]
        _latencies(base, headers, acc_paths, 1)  # warm: indexes, and the caches of persons and tenures
        if workers > 1:
            # One connection reaches one worker: every worker must have run a while too. Ten
            # connections, each path asked 8 times in random order: a worker (of 2, holding
            # about half the connections) misses a given path with odds of 1 in 256.
            again = acc_paths * 8
            rng.shuffle(again)
            _latencies(base, headers, again, 10)
        client = "wrk" if shutil.which("wrk") else "httpx"
        result: dict[str, Any] = {
            "requests": requests,
            "workers": workers,
            "store": store_url,
            "client": client,
            "pinned": bool(_pinning()[0]),
        }
        for concurrency in (1, 10):
            if client == "wrk":
                health_ms = _wrk(base, headers, ["/health"], concurrency, work)
                acc_ms = _wrk(base, headers, acc_paths, concurrency, work)
            else:
                health_ms = percentiles(_latencies(base, headers, ["/health"] * requests, concurrency))
                acc_ms = percentiles(_latencies(base, headers, acc_paths, concurrency))
            result[f"c{concurrency}"] = {"health_ms": health_ms, "accountability_ms": acc_ms}
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def compare_workers(store_url: str, counts: list[int], runs: int, requests: int) -> dict[str, Any]:
    """``run_api`` for each worker count in turn, ``runs`` times (interleaved), and the c10 p99
    of each run against the 25 ms target (issue 25: 5 of 5)."""
    found: dict[int, list[dict[str, Any]]] = {n: [] for n in counts}
    for _ in range(runs):
        for n in counts:
            found[n].append(run_api(store_url, requests, workers=n))
    return {
        str(n): {
            "c10_p99_ms": [r["c10"]["accountability_ms"]["p99"] for r in rs],
            "c10_median_ms": [r["c10"]["accountability_ms"]["median"] for r in rs],
            "c1_median_ms": [r["c1"]["accountability_ms"]["median"] for r in rs],
            "runs_within_25ms": sum(r["c10"]["accountability_ms"]["p99"] <= 25 for r in rs),
            "client": rs[0]["client"],
        }
        for n, rs in found.items()
    }


if __name__ == "__main__":
    import argparse
    import json

    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description="rtc serve with 1 or more workers, side by side")
    parser.add_argument("url")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    got = compare_workers(args.url, args.workers, args.runs, args.requests)
    table = Table("workers", "c1 median", "c10 median", "c10 p99 per run", "p99 <= 25 ms")
    for n, r in got.items():
        table.add_row(
            n,
            f"{statistics.median(r['c1_median_ms']):.2f} ms",
            f"{statistics.median(r['c10_median_ms']):.2f} ms",
            ", ".join(f"{v:.1f}" for v in r["c10_p99_ms"]) + " ms",
            f"{r['runs_within_25ms']} of {len(r['c10_p99_ms'])}",
        )
    Console().print(table)
    out = Path(__file__).parent / "results" / f"api-workers-{time.strftime('%Y-%m-%d')}.json"
    out.write_text(json.dumps(got, indent=1), encoding="utf-8")
    print(f"wrote {out}")
