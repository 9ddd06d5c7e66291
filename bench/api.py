"""API benchmark: one uvicorn worker (``rtc serve``) on loopback over the embedded store;
GET /cases/{id}/accountability against GET /health in the same run, at concurrency 1 and 10."""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from graph.backends.falkordb import free_port
from graph.store import open_store


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


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]}


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
        [sys.executable, "-m", "rtc.cli", "serve", "--port", str(port), "--store", store_url],
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
        _latencies(base, headers, [f"/cases/{c}/accountability" for c in cases[:50]], 1)  # warm the indexes
        result: dict[str, Any] = {"requests": requests, "store": store_url}
        for concurrency in (1, 10):
            health = _latencies(base, headers, ["/health"] * requests, concurrency)
            acc = _latencies(
                base, headers, [f"/cases/{rng.choice(cases)}/accountability" for _ in range(requests)], concurrency
            )
            result[f"c{concurrency}"] = {"health_ms": _stats(health), "accountability_ms": _stats(acc)}
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)
