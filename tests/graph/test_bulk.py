"""FalkorDB's GRAPH.BULK path: a first load writes by internal id exactly what statements write,
and a bulk load that fails part-way is completed by loading again."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from graph.backends.cypher import BatchFailed, CypherStore
from graph.store import open_store
from loaders.load import load_dataset


def _fresh(server: tuple[str, int]) -> CypherStore:
    store = open_store(f"falkordb://{server[0]}:{server[1]}/b{uuid.uuid4().hex[:12]}")
    assert isinstance(store, CypherStore)
    return store


def fingerprint(store: CypherStore) -> tuple[list[str], list[str]]:
    """Every data node with its properties, and every relationship with its ends and properties."""
    read = store.transport.read
    nodes = read("MATCH (n) WHERE NOT n:Import RETURN labels(n)[0], properties(n)")
    rels = read(
        "MATCH (a)-[r]->(b) RETURN type(r), labels(a)[0], coalesce(a.id, a.key), labels(b)[0], "
        "coalesce(b.id, b.key), properties(r)"
    )
    dump = lambda rows: sorted(json.dumps(r, ensure_ascii=False, sort_keys=True, default=dict) for r in rows)  # noqa: E731
    return dump(nodes), dump(rels)


def _count_bulk(store: CypherStore, monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None) -> list[int]:
    calls: list[int] = []
    real = store.transport.bulk  # type: ignore[attr-defined]

    def bulk(*args: Any) -> None:
        calls.append(args[0] + args[1])
        if len(calls) == fail_at:
            raise ConnectionError("the server went away")
        real(*args)

    monkeypatch.setattr(store.transport, "bulk", bulk)
    return calls


@pytest.fixture(scope="module")
def by_statements(falkordb_server: tuple[str, int], tiny_dataset: Path) -> tuple[list[str], list[str]]:
    store = _fresh(falkordb_server)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store, "_bulk_work", lambda batch: None)
        assert load_dataset(store, tiny_dataset).ok
    return fingerprint(store)


def test_a_first_load_goes_in_bulk_and_writes_what_statements_write(
    falkordb_server: tuple[str, int], tiny_dataset: Path, by_statements: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _fresh(falkordb_server)
    calls = _count_bulk(store, monkeypatch)
    assert load_dataset(store, tiny_dataset).ok
    assert len(calls) > 5 and sum(calls) > 10_000
    assert fingerprint(store) == by_statements
    calls.clear()
    again = load_dataset(store, tiny_dataset)  # nothing new, and the graph holds data: no bulk
    assert again.ok and not again.written and calls == []
    assert fingerprint(store) == by_statements


@pytest.mark.parametrize("fail_at", [2, 9, 12])  # positions; the first optional relationships; tenures
def test_a_bulk_load_that_fails_midway_is_completed_by_loading_again(
    falkordb_server: tuple[str, int],
    tiny_dataset: Path,
    by_statements: Any,
    monkeypatch: pytest.MonkeyPatch,
    fail_at: int,
) -> None:
    store = _fresh(falkordb_server)
    calls = _count_bulk(store, monkeypatch, fail_at)
    with pytest.raises(BatchFailed, match=f"batch {fail_at} of"):
        load_dataset(store, tiny_dataset)
    monkeypatch.undo()
    assert len(calls) == fail_at and fingerprint(store) != by_statements
    report = load_dataset(store, tiny_dataset)
    assert report.ok and report.written
    assert fingerprint(store) == by_statements
    statuses = store.transport.read("MATCH (i:Import) RETURN i.status ORDER BY i.seq")
    assert [s for (s,) in statuses] == ["failed", "done"]
