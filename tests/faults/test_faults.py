"""Fault injection: imports that race (CLI + CLI, CLI + API), loads killed with SIGKILL at random
points, a FalkorDB server killed under a staged load. The trial counts are those that
docs/reliability.md reports."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from falkordb import FalkorDB

from api.app import create_app
from graph.factory import open_store
from graph.model import to_ordinal
from graph.store import Store, StoreError
from loaders.generate import generate
from loaders.load import load_dataset
from loaders.stream import stream_dataset
from loaders.stream.workdir import WORK_DIR_GRACE
from tests.api.conftest import make_settings
from tests.api.test_live import serve
from tests.conftest import free_port, start_falkordb
from tests.helpers import organization, write_dataset

pytestmark = pytest.mark.slow

ROUNDS = 20
KILLS = 30
RTC = [sys.executable, "-c", "from rtc.cli import main; main()"]


def rtc(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "400"}  # rich would wrap the rule's name at 80
    return subprocess.Popen([*RTC, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


@pytest.fixture
def seats(tmp_path: Path) -> tuple[Store, list[str]]:
    """A store with ROUNDS vacant one-seat posts."""
    posts = [f"T{i}/sec" for i in range(ROUNDS)]
    folder = write_dataset(
        tmp_path / "base",
        organizations=[
            organization("X", "县委", "committee", "county"),
            *(organization(f"T{i}", f"镇{i}", "committee", "township", "X") for i in range(ROUNDS)),
        ],
        positions=[{"id": p, "org_id": p.split("/")[0], "title": "书记", "role": "secretary"} for p in posts],
    )
    store = open_store(f"embedded://{tmp_path / 'store'}")
    assert load_dataset(store, folder).ok
    return store, posts


def appointment(folder: Path, person: str, post: str) -> Path:
    return write_dataset(
        folder,
        persons=[{"id": person, "name": person}],
        tenures=[{"person_id": person, "position_id": post, "start": "2022-01-01"}],
    )


def holders(store: Store, post: str) -> list[str]:
    return [t.person_id for t in store.holders(post, to_ordinal("2022-06-01"))]


def test_concurrent_cli_loads_fill_a_seat_once(seats: tuple[Store, list[str]], tmp_path: Path) -> None:
    store, posts = seats
    for i, post in enumerate(posts):
        a = appointment(tmp_path / f"a{i}", f"a{i}", post)
        b = appointment(tmp_path / f"b{i}", f"b{i}", post)
        runs = [rtc("load", str(folder), "--store", store.url) for folder in (a, b)]
        outs = [(p.wait(timeout=120), p.stdout.read() if p.stdout else "") for p in runs]
        codes = sorted(code for code, _ in outs)
        assert codes == [0, 1], outs
        loser = next(out for code, out in outs if code == 1)
        assert "overlapping-tenure" in loser and "nothing was written" in loser and "Traceback" not in loser
        assert len(holders(store, post)) == 1


def test_the_same_dataset_loaded_twice_at_once_is_written_once(seats: tuple[Store, list[str]], tmp_path: Path) -> None:
    store, posts = seats
    for i in range(5):
        folder = appointment(tmp_path / f"same{i}", f"s{i}", posts[i])
        runs = [rtc("load", str(folder), "--store", store.url) for _ in range(2)]
        outs = [(p.wait(timeout=120), p.stdout.read() if p.stdout else "") for p in runs]
        assert [code for code, _ in outs] == [0, 0], outs
        assert all("Traceback" not in out for _, out in outs)
        assert holders(store, posts[i]) == [f"s{i}"]
        assert sum(1 for entry in store.import_log(limit=100) if entry.get("source") == str(folder)) == 1


def test_concurrent_cli_and_api_imports_fill_a_seat_once(seats: tuple[Store, list[str]], tmp_path: Path) -> None:
    store, posts = seats
    settings, keys = make_settings(tmp_path, store.url)
    port = free_port()
    server, thread = serve(create_app(settings), port)
    try:
        for post in posts:
            n = post.split("/")[0]
            cli = rtc("load", str(appointment(tmp_path / f"cli{n}", f"c{n}", post)), "--store", store.url)
            body = {
                "tables": {
                    "persons": [{"id": f"h{n}", "name": f"h{n}"}],
                    "tenures": [{"person_id": f"h{n}", "position_id": post, "start": "2022-01-01"}],
                }
            }
            r = httpx.post(
                f"http://127.0.0.1:{port}/imports",
                json=body,
                headers={"Authorization": f"Bearer {keys['loader']}"},
                timeout=120,
            )
            code, out = cli.wait(timeout=120), cli.stdout.read() if cli.stdout else ""
            assert sorted([code, 0 if r.status_code == 201 else 1]) == [0, 1], (code, out, r.text)
            if r.status_code != 201:
                assert r.status_code == 422 and r.json()["report"]["errors"][0]["rule"] == "overlapping-tenure"
            else:
                assert "overlapping-tenure" in out and "Traceback" not in out
            assert len(holders(store, post)) == 1
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("county")
    generate(folder, "county", seed=5, counties=4)  # a smaller county: 60 loads run in each kill test
    reference = open_store(f"embedded://{tmp_path_factory.mktemp('reference') / 'store'}")
    assert load_dataset(reference, folder).ok
    return folder, reference.counts()


@pytest.mark.parametrize("mode", ["in-memory", "streamed"])
def test_sigkill_leaves_the_embedded_store_all_old_or_all_new(
    county: tuple[Path, dict[str, int]], tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, expected = county
    temp = tmp_path / "temp"  # the loads' working folders: a killed one's is gone after the next load
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    args = ["load", str(folder), "--json", *(["--stream"] if mode == "streamed" else [])]
    rng = random.Random(19)
    url = f"embedded://{tmp_path / 'store'}"
    started = time.monotonic()
    full = rtc(*args, "--store", url)
    assert full.wait(timeout=300) == 0
    whole = time.monotonic() - started
    outcomes = {"old": 0, "new": 0}
    # One kill in each of KILLS equal slices of [0.5, 1.3] of the first run's time: the later half
    # holds the write and the commit, and runs that come out a little slower than the first still
    # get kills after their commit (random draws over [0.5, 1.1] once gave none in 30).
    late = [0.5 + 0.8 * (i + rng.random()) / KILLS for i in range(KILLS)]
    rng.shuffle(late)
    for trial in range(KILLS):
        shutil.rmtree(tmp_path / "store")
        proc = rtc(*args, "--store", url)
        time.sleep(late[trial] * whole)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        store = open_store(url)
        counts = store.counts()
        state = "new" if counts == expected else "old" if not any(counts.values()) else f"half: {counts}"
        assert state in outcomes, f"trial {trial}: {state}"
        outcomes[state] += 1
        assert bool(store.import_log()) == (state == "new")  # a streamed import logs each of its parts
        if trial % 6 == 0:  # a rerun completes it
            assert load_dataset(store, folder).ok and store.counts() == expected
        store.close()
    print(f"{mode}: {outcomes} in {KILLS} kills")
    assert outcomes["old"] and outcomes["new"], "the kills must land on both sides of the commit"
    time.sleep(WORK_DIR_GRACE)
    assert rtc(*args, "--store", url).wait(timeout=300) == 0
    assert sorted(p.name for p in temp.iterdir()) == []


def _graphs(port: int) -> list[str]:
    names = FalkorDB(host="127.0.0.1", port=port).connection.execute_command("GRAPH.LIST")
    return sorted(n.decode() if isinstance(n, bytes) else n for n in names)


@pytest.fixture
def persisted_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[subprocess.Popen[bytes]]]]:
    port, data = free_port(), tmp_path / "server"
    data.mkdir()
    procs = [start_falkordb(port, data, "--appendonly", "yes", "--appendfsync", "always")]
    yield port, data, procs
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def test_falkordb_killed_under_a_staged_load_leaves_no_staging_graph_after_the_next(
    county: tuple[Path, dict[str, int]],
    persisted_server: tuple[int, Path, list[subprocess.Popen[bytes]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server keeps the dead load's import lock (it persists its keys) until its time to
    live runs out: 60 s, here 3 s, so that the rerun need not wait a minute."""
    from graph.backends.falkordb import transport as falkordb

    monkeypatch.setattr(falkordb, "LOCK_SECONDS", 3)
    folder, expected = county
    port, data, procs = persisted_server
    url = f"falkordb://127.0.0.1:{port}/rtc"
    store = open_store(url)
    killed = threading.Event()

    def kill_when_staged() -> None:
        probe = FalkorDB(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                staged = [n for n in _graphs(port) if ".staging." in n]
                if staged and probe.select_graph(staged[0]).ro_query("MATCH (n) RETURN count(n)").result_set[0][0]:
                    os.kill(procs[0].pid, signal.SIGKILL)
                    killed.set()
                    return
            except Exception:
                pass
            time.sleep(0.01)

    watcher = threading.Thread(target=kill_when_staged)
    watcher.start()
    with pytest.raises(StoreError) as failure:  # a clear error, not the clean-up's ConnectionError
        stream_dataset(store, folder, chunk_rows=2000)
    watcher.join()
    assert killed.is_set()
    assert "Connection" not in type(failure.value).__name__
    procs[0].wait(timeout=10)

    procs.append(start_falkordb(port, data, "--appendonly", "yes", "--appendfsync", "always"))
    assert any(".staging." in n for n in _graphs(port)), "the killed load left its staging graph"
    store = open_store(url)
    report = stream_dataset(store, folder, chunk_rows=2000)
    assert report.ok and report.written
    assert store.counts() == expected
    assert [n for n in _graphs(port) if ".staging." in n] == []


def test_falkordb_killed_during_validation_is_a_clear_store_error(
    county: tuple[Path, dict[str, int]], persisted_server: tuple[int, Path, list[subprocess.Popen[bytes]]]
) -> None:
    folder, _ = county
    port, _, procs = persisted_server
    store = open_store(f"falkordb://127.0.0.1:{port}/rtc")
    assert load_dataset(store, folder).ok  # not a first load: validation reads the server

    def kill(entity: str, rows: int) -> None:
        if procs[0].poll() is None:
            os.kill(procs[0].pid, signal.SIGKILL)
            procs[0].wait(timeout=10)

    with pytest.raises(StoreError, match="FalkorDB at"):
        load_dataset(store, folder, progress=kill)
