"""Faults on a real server: not running, wrong password, killed in the middle of an import."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from falkordb import FalkorDB
from typer.testing import CliRunner

from graph.backends.cypher import BatchFailed
from graph.factory import open_store
from graph.store import StoreError
from loaders.generate import generate
from loaders.load import load_dataset
from rtc.cli import app
from tests.conftest import free_port, start_falkordb


def test_falkordb_not_running_is_a_clear_error_naming_the_url() -> None:
    url = f"falkordb://127.0.0.1:{free_port()}/g"
    started = time.monotonic()
    with pytest.raises(StoreError, match=f"cannot reach FalkorDB at {url}"):
        open_store(url)
    assert time.monotonic() - started < 10, "must not hang"


def test_neo4j_not_running_is_a_clear_error_naming_the_url() -> None:
    url = f"neo4j://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(StoreError, match=f"cannot reach Neo4j at {url}"):
        open_store(url, user="neo4j", password="x")
    assert time.monotonic() - started < 30, "must not hang"


def test_cli_prints_the_error_without_a_traceback() -> None:
    url = f"falkordb://127.0.0.1:{free_port()}/g"
    result = CliRunner().invoke(app, ["stats", "--store", url])
    assert result.exit_code == 2
    assert f"cannot reach FalkorDB at {url}" in result.output and "Traceback" not in result.output


def test_wrong_or_missing_password(tmp_path: Path) -> None:
    port = free_port()
    proc = start_falkordb(port, tmp_path, "--requirepass", "s3cret")
    try:
        url = f"falkordb://127.0.0.1:{port}/g"
        for password in (None, "wrong"):
            with pytest.raises(StoreError, match=f"cannot log in to {url}"):
                open_store(url, password=password)
        open_store(url, password="s3cret").close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_server_killed_mid_import_then_rerun_gives_exact_counts(tmp_path: Path) -> None:
    folder = tmp_path / "county"
    generate(folder, "county", seed=5)
    expected_store = open_store(f"embedded://{tmp_path / 'reference'}")
    assert load_dataset(expected_store, folder).ok
    expected = expected_store.counts()

    port, data = free_port(), tmp_path / "server"
    data.mkdir()
    persist = ("--appendonly", "yes", "--appendfsync", "always")
    proc = start_falkordb(port, data, *persist)
    url = f"falkordb://127.0.0.1:{port}/rtc"
    store = open_store(url, batch_size=500)
    killed = threading.Event()

    def kill_when_actions_arrive() -> None:
        probe = FalkorDB(host="127.0.0.1", port=port).select_graph("rtc")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if probe.ro_query("MATCH (a:Action) RETURN count(a)").result_set[0][0] > 10000:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed.set()
                    return
            except Exception:
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=kill_when_actions_arrive)
    watcher.start()
    with pytest.raises(BatchFailed, match=r"failed at batch \d+ of \d+ \([^)]*actions"):
        load_dataset(store, folder)
    watcher.join()
    assert killed.is_set()
    proc.wait(timeout=10)

    proc = start_falkordb(port, data, *persist)  # restart: the applied batches are still there
    try:
        store = open_store(url, batch_size=500)
        partial = store.counts()
        assert 0 < partial["actions"] < expected["actions"]
        report = load_dataset(store, folder)
        assert report.ok and report.written
        assert store.counts() == expected
        assert not load_dataset(store, folder).written  # and once more changes nothing
    finally:
        proc.terminate()
        proc.wait(timeout=10)
