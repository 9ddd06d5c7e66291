"""Shared fixtures. ``store`` runs a test on every backend that is up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.store import Store, open_store
from loaders.generate import generate
from loaders.load import load_dataset
from tests import scenario

BACKENDS = ["embedded"]


def make_store(kind: str, tmp_path: Path) -> Store:
    if kind == "embedded":
        return open_store(f"embedded://{tmp_path / 'store'}")
    raise pytest.UsageError(kind)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = make_store(request.param, tmp_path)
    yield s
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
