"""FalkorDB's GRAPH.BULK path: a first load writes by internal id exactly what statements write,
and a bulk load that fails part-way is completed by loading again."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from graph.backends.cypher import BatchFailed
from graph.backends.cypher import statements as cypher
from graph.backends.falkordb import NODE_BUFFER, FalkorStore
from graph.backends.falkordb.store import _CreatedIds
from graph.factory import open_store
from graph.model import to_ordinal
from loaders.load import load_dataset
from loaders.stream import stream_dataset
from tests.conftest import free_port, start_falkordb
from tests.helpers import snapshot


def _fresh(server: tuple[str, int]) -> FalkorStore:
    """A new graph, written in batches of 10 rows: the small dataset then takes several bulk
    commands (``FalkorStore._joined`` joins them up to 40 batches' worth)."""
    store = open_store(f"falkordb://{server[0]}:{server[1]}/b{uuid.uuid4().hex[:12]}", batch_size=10)
    assert isinstance(store, FalkorStore)
    return store


def fingerprint(store: FalkorStore) -> tuple[list[str], list[str]]:
    """Every data node with its properties, and every relationship with its ends and properties."""
    read = store.transport.read
    nodes = read("MATCH (n) WHERE NOT n:Import RETURN labels(n)[0], properties(n)")
    rels = read(
        "MATCH (a)-[r]->(b) RETURN type(r), labels(a)[0], coalesce(a.id, a.key), labels(b)[0], "
        "coalesce(b.id, b.key), properties(r)"
    )
    dump = lambda rows: sorted(json.dumps(r, ensure_ascii=False, sort_keys=True, default=dict) for r in rows)  # noqa: E731
    return dump(nodes), dump(rels)


def _count_bulk(
    store: FalkorStore, monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None, names: list[str] | None = None
) -> list[int]:
    """The entities each GRAPH.BULK command carries (and in ``names``, the labels and types it
    names); command ``fail_at`` fails."""
    calls: list[int] = []
    real = store.transport.bulk  # type: ignore[attr-defined]

    def bulk(*args: Any) -> None:
        calls.append(args[0] + args[1])
        if names is not None:
            names.append(" ".join(block.split(b"\x00", 1)[0].decode() for block in [*args[2], *args[3]]))
        if len(calls) == fail_at:
            raise ConnectionError("the server went away")
        real(*args)

    monkeypatch.setattr(store.transport, "bulk", bulk)
    return calls


@pytest.fixture(scope="module")
def by_statements(falkordb_server: tuple[str, int], tiny_dataset: Path) -> tuple[list[str], list[str]]:
    store = _fresh(falkordb_server)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store, "_bulk_work", lambda batch, personnel: None)
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


@pytest.mark.parametrize(
    "failing",
    [
        "Position HAS_POSITION",  # nodes with their mandatory relationships
        "Person HELD",  # new persons, their raw records and tenures, one command
        "LEADS",  # the first optional relationships, after every node
        "Accountability",  # the last nodes (none new on the rerun: it must still link)
    ],
)
def test_a_bulk_load_that_fails_midway_is_completed_by_loading_again(
    falkordb_server: tuple[str, int],
    tiny_dataset: Path,
    by_statements: Any,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    names: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        probe = _fresh(falkordb_server)
        _count_bulk(probe, mp, names=names)
        assert load_dataset(probe, tiny_dataset).ok
    fail_at = next(n for n, name in enumerate(names, start=1) if failing in name)
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


def test_a_streamed_load_goes_in_bulk_part_after_part(
    falkordb_server: tuple[str, int], tiny_dataset: Path, by_statements: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each part after the first refers to nodes of earlier parts: their ids are looked up, and
    the part still goes in bulk (the personnel parts too: their persons hold no tenure yet), but
    for the raw personnel records, which statements set on the stored persons."""
    store = _fresh(falkordb_server)
    calls = _count_bulk(store, monkeypatch)
    statements: list[str] = []
    real_work = store._statement_work
    monkeypatch.setattr(
        store, "_statement_work", lambda steps: statements.extend(s[0] for s in steps) or real_work(steps)
    )
    report = stream_dataset(store, tiny_dataset, chunk_rows=300, stage=False)
    assert report.ok and report.written
    assert set(statements) == {"personnel"} and len(calls) > 20
    assert fingerprint(store) == by_statements


def test_a_streamed_load_finds_the_organizations_and_positions_it_wrote_without_asking(
    falkordb_server: tuple[str, int], tiny_dataset: Path, by_statements: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Later parts refer to the organizations and positions of earlier ones: the store knows
    their ids from its own bulk commands and asks the server for the others only."""
    store = _fresh(falkordb_server)
    asked: list[str] = []
    real = store._internal_ids
    monkeypatch.setattr(store, "_internal_ids", lambda entity, keys: asked.append(entity) or real(entity, keys))
    assert stream_dataset(store, tiny_dataset, chunk_rows=300, stage=False).ok
    assert fingerprint(store) == by_statements
    assert "persons" in asked and not {"organizations", "positions"} & set(asked)


def test_a_first_load_settles_its_date_range_without_a_scan(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into an empty graph, every tenure and action goes in bulk: the store widens the range
    as the parts go (``FalkorStore._span``) and does not scan them as the import settles,
    nor as it adds more. Another client's import (a store that did not see the graph empty)
    asks the server. Each time, the range kept is what the server computes."""
    store = _fresh(falkordb_server)
    asked: list[str] = []

    def watched(target: FalkorStore) -> None:
        real = target.transport.read
        spy = lambda query, params=None: asked.append(query) or real(query, params)  # noqa: E731
        monkeypatch.setattr(target.transport, "read", spy)

    def kept() -> tuple[int, int]:
        lo, hi = store.transport.read(cypher.GET_DATE_RANGE)[0]
        assert (lo, hi) == store._compute_date_range()  # DATE_RANGE's scan
        return lo, hi

    watched(store)
    assert stream_dataset(store, tiny_dataset, chunk_rows=300, stage=False).ok
    assert cypher.DATE_RANGE not in asked
    kept()
    with (tiny_dataset / "actions.csv").open(encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    later = ((store, "1990-02-01", "2099-12-31"), (open_store(store.url), "1989-07-01", "2100-06-30"))
    for n, (target, early, late) in enumerate(later):
        more = tmp_path / f"more{n}"
        more.mkdir()
        with (more / "actions.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(first))
            writer.writeheader()
            writer.writerows([{**first, "id": f"A-{day}", "date": day} for day in (late, early)])
        watched(target)  # type: ignore[arg-type]
        asked.clear()
        assert load_dataset(target, more).ok
        assert (cypher.DATE_RANGE in asked) == (target is not store)
        assert kept() == (to_ordinal(early), to_ordinal(late))


def test_ids_of_created_nodes_are_found_byte_for_byte() -> None:
    known = _CreatedIds()
    known.add("Organization", {"甲-1": 7, "A": 3, "AB": 4})
    known.add("Organization", {"ABC": 9})
    known.add("Case", {"C1": 1})  # not a label kept
    found = known.find("Organization", ["A", "AB", "ABC", "ABCD", "甲-1", "甲", ""])
    assert found == {"A": 3, "AB": 4, "ABC": 9, "甲-1": 7}
    assert known.find("Case", ["C1"]) == {} and known.find("Position", ["A"]) == {}
    for n in range(2 * _CreatedIds.MERGE_ABOVE):  # merged into one sorted segment now and then
        known.add("Position", {f"P{n:03d}": 100 + n, f"Q{n}": 200 + n})
    assert len(known.segments["Position"]) <= _CreatedIds.MERGE_ABOVE
    wanted = [f"P{n:03d}" for n in range(2 * _CreatedIds.MERGE_ABOVE)] + ["Q3", "Q03", "P"]
    assert known.find("Position", wanted) == {**{f"P{n:03d}": 100 + n for n in range(16)}, "Q3": 203}
    known.add("Position", {"W" * (_CreatedIds.WIDEST + 1): 1})  # too wide: the label is not kept
    assert known.find("Position", ["P001"]) == {}
    known.add("Position", {"P001": 101})
    assert known.find("Position", ["P001"]) == {}
    known.clear()
    assert known.find("Organization", ["A"]) == {}
    known.add("Position", {"P001": 101})
    assert known.find("Position", ["P001"]) == {"P001": 101}


def test_a_first_load_written_aside_goes_in_bulk(
    falkordb_server: tuple[str, int], tiny_dataset: Path, by_statements: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, written aside by a forked process: statements would fail its load. Its
    persons come with their raw records (chunks of whole persons), so not even those are set
    by statements."""

    def no_statements(self: FalkorStore, steps: Any) -> Any:
        raise AssertionError(f"a part went as statements: {sorted({step[0] for step in steps})}")

    monkeypatch.setattr(FalkorStore, "_statement_work", no_statements)  # the fork inherits it
    store = _fresh(falkordb_server)
    report = stream_dataset(store, tiny_dataset, chunk_rows=300)
    assert report.ok and report.written
    assert fingerprint(store) == by_statements


def test_statements_take_over_where_bulk_cannot(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later import that re-derives a person's stored tenures (a new change) needs them
    deleted first: statements do it, with the same result as on the embedded store."""
    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    store = _fresh(falkordb_server)
    for target in (reference, store):
        assert load_dataset(target, tiny_dataset).ok
    people = [p for p, *_ in reference.personnel_by_person()]
    last = next(t for t in reference.tenures(person_ids=people) if t.end is None)  # a post held now
    person = last.person_id
    more = tmp_path / "more"
    more.mkdir()
    (more / "changes.csv").write_text(
        f"id,date,kind,person_id,from_position_id\nX-1,2099-01-01,retire,{person},{last.position_id}\n",
        encoding="utf-8",
    )
    calls = _count_bulk(store, monkeypatch)
    for target in (reference, store):
        report = load_dataset(target, more)
        assert report.ok and report.written, report.errors[:3]
    assert calls == []
    assert snapshot(store) == snapshot(reference)


def test_the_binary_format_refuses_what_it_cannot_carry() -> None:
    from graph.backends.falkordb.bulk import bulk_entities

    block = bulk_entities("Person", ["id", "n", "tags", "gone"], [{"id": "张", "n": 3, "tags": ["a"], "gone": None}])
    assert block == b"Person\x00\x04\x00\x00\x00id\x00n\x00tags\x00gone\x00" + "\x03张\x00".encode() + (
        b"\x04\x03\x00\x00\x00\x00\x00\x00\x00" + b"\x05\x01\x00\x00\x00\x00\x00\x00\x00\x03a\x00" + b"\x00"
    )
    with pytest.raises(ValueError, match="NUL"):
        bulk_entities("Person", ["id"], [{"id": "a\x00b"}])
    with pytest.raises(TypeError, match="dict"):
        bulk_entities("Person", ["id"], [{"id": {"nested": 1}}])


def test_relationship_blocks_of_one_type_go_as_one_block() -> None:
    """``joined_blocks``: what the server receives is what one block a type would have been,
    the types in the order they first came; a type's blocks with other properties stay apart."""
    from graph.backends.falkordb.bulk import bulk_entities, joined_blocks

    to = lambda pairs: bulk_entities("TO", [], [{}] * len(pairs), pairs)  # noqa: E731
    held = lambda rows, pairs: bulk_entities("HELD", ["start", "end"], rows, pairs)  # noqa: E731
    first, second = [{"start": "2020-01-01", "end": None}], [{"start": "甲", "end": "2021-05-31"}]
    blocks = [to([(1, 2)]), held(first, [(3, 4)]), to([(5, 6), (7, 8)]), held(second, [(9, 10)])]
    assert joined_blocks(blocks) == [to([(1, 2), (5, 6), (7, 8)]), held(first + second, [(3, 4), (9, 10)])]
    other = bulk_entities("HELD", ["start"], [{"start": "x"}], [(1, 2)])
    assert joined_blocks([held(first, [(3, 4)]), other]) == [held(first, [(3, 4)]), other]
    assert joined_blocks([to([(1, 2)])]) == [to([(1, 2)])] and joined_blocks([]) == []


def test_a_bulk_command_carries_each_relationship_type_once(
    falkordb_server: tuple[str, int], tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 10 rows make several blocks of a type in a command (``_joined``): the server
    gets one a type (its cost is a pass over the graph's matrices per block)."""
    store = _fresh(falkordb_server)
    sent: list[list[str]] = []
    connection = store.transport._db.connection  # type: ignore[attr-defined]
    real = connection.execute_command

    def spy(*args: Any) -> Any:
        if args[0] == "GRAPH.BULK":
            edges = args[6 + args[4] :]
            sent.append([block.split(b"\x00", 1)[0].decode() for block in edges])
        return real(*args)

    monkeypatch.setattr(connection, "execute_command", spy)
    assert load_dataset(store, tiny_dataset).ok
    assert sent and all(len(types) == len(set(types)) for types in sent)
    assert any(types.count("TO") == 1 and "BY" in types for types in sent)  # actions' three types together


def test_imports_into_one_graph_take_turns(falkordb_server: tuple[str, int], tiny_dataset: Path) -> None:
    """Bulk ids assume no other client creates nodes meanwhile: a second import waits."""
    import threading
    import time

    first = _fresh(falkordb_server)
    second = open_store(first.url)
    assert isinstance(second, FalkorStore)
    reports: list[Any] = []
    with first.transport.import_lock():  # type: ignore[attr-defined]
        waiting = threading.Thread(target=lambda: reports.append(load_dataset(second, tiny_dataset)))
        waiting.start()
        time.sleep(0.5)
        assert waiting.is_alive() and first.counts()["organizations"] == 0
    waiting.join(timeout=60)
    assert reports and reports[0].ok and first.counts()["organizations"] > 0


def test_raw_personnel_records_are_kept_on_persons_and_actions_unindexed(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path
) -> None:
    """No node per tenure row or change, and no index on actions (memory: see graph/backends/cypher/statements.py);
    every person's raw records read back as the embedded store keeps them."""
    reference = open_store(f"embedded://{tmp_path / 'reference'}")
    store = _fresh(falkordb_server)
    for target in (reference, store):
        assert load_dataset(target, tiny_dataset).ok
    labels = {label for (label,) in store.transport.read("MATCH (n) RETURN DISTINCT labels(n)[0]")}
    assert "Person" in labels and not labels & {"Change", "TenureRow", "Personnel"}
    indexed = {label for (label, *_) in store.transport.read("CALL db.indexes() YIELD label RETURN label")}
    assert "Person" in indexed and "Action" not in indexed
    assert store.counts() == reference.counts()
    people = [p for p, *_ in reference.personnel_by_person()]
    key = lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False)  # noqa: E731
    for mine, theirs in zip(store.personnel_records(people), reference.personnel_records(people), strict=True):
        assert len(mine) > 0 and sorted(map(key, mine)) == sorted(map(key, theirs))
    assert sorted(map(key, store.export("changes"))) == sorted(map(key, reference.export("changes")))


def test_reads_of_actions_by_recipient_start_from_the_recipients(falkordb_server: tuple[str, int]) -> None:
    """Actions have no index on FalkorDB: a read given recipients must start from their index and
    follow TO, not scan every action (what the planner chose for a single pattern)."""
    store = _fresh(falkordb_server)
    params = 'CYPHER to_orgs=["o"] orgs=["o"] ids=["a"] from_orgs=["o"] start=1 end=2 category="c" '
    queries = [cypher.actions(c, f, True) for c in (False, True) for f in (False, True)]
    for query in [*queries, cypher.ACTIONS_BY_RECIPIENT]:
        plan = store.transport._db.connection.execute_command(
            "GRAPH.EXPLAIN", store.transport.graph_name, params + query
        )  # type: ignore[attr-defined]
        text = "\n".join(p.decode() if isinstance(p, bytes) else p for p in plan)
        assert "Node By Index Scan | (t:Organization)" in text and "Label Scan | (a:Action)" not in text, text


def test_servers_started_here_keep_room_for_a_large_load(falkordb_server: tuple[str, int]) -> None:
    store = _fresh(falkordb_server)
    config = store.transport._db.connection.execute_command("GRAPH.CONFIG", "GET", "NODE_CREATION_BUFFER")  # type: ignore[attr-defined]
    assert int(config[1]) == NODE_BUFFER
    assert store.load_advice() == []


def test_a_streamed_load_into_a_server_keeping_little_room_says_what_to_change(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    port = free_port()
    proc = start_falkordb(port, tmp_path, "--appendonly", "no", node_buffer=None)  # FalkorDB's default
    try:
        url = f"falkordb://127.0.0.1:{port}/g"
        dry = stream_dataset(open_store(url), tiny_dataset, chunk_rows=300, dry_run=True)
        assert dry.ok and not dry.warnings  # nothing is written: no advice
        report = stream_dataset(open_store(url), tiny_dataset, chunk_rows=300)
        assert report.ok and report.written
        advice = [w for w in report.warnings if w.rule == "server-setting"]
        assert len(advice) == 1, report.warnings
        assert "room for 16,384 new nodes" in advice[0].message
        assert f"--loadmodule falkordb.so NODE_CREATION_BUFFER {NODE_BUFFER}" in advice[0].message
        assert str(advice[0]).startswith(f"{tiny_dataset}: [server-setting] FalkorDB at {url}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
