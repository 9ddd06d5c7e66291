"""API benchmark: one uvicorn worker (``rtc serve``) on loopback over the embedded store;
GET /cases/{id}/accountability against GET /health in the same run, at concurrency 1 and 10.

The load comes from ``wrk`` (Debian's package: ``apt-get install wrk``) when it is installed:
a C client leaves the two cores to the server, where ten Python client threads took a share
of them and added their own waits to every figure. Without it, a Python client (httpx
threads) is used; the JSON says which (``client``).

With two CPUs or more, the server is pinned to the first and the client to the others, so
neither takes the other's core. The same 1,000 random cases are asked at both
concurrencies, after one pass over them: the figures are those of a service that has run for
a while (its person and tenure caches filled), not of its first minute."""

from __future__ import annotations

import os
import random
import shutil
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
    there are two CPUs or more; empty otherwise."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or not shutil.which("taskset"):
        return [], []
    return ["taskset", "-c", str(cpus[0])], ["taskset", "-c", ",".join(map(str, cpus[1:]))]


def run_api(store_url: str, requests: int = 1000) -> dict[str, Any]:
    """``store_url`` must hold a loaded dataset (the embedded benchmark's store)."""
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
        [*_pinning()[0], sys.executable, "-m", "rtc.cli", "serve", "--port", str(port), "--store", store_url],
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
        client = "wrk" if shutil.which("wrk") else "httpx"
        result: dict[str, Any] = {
            "requests": requests,
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
