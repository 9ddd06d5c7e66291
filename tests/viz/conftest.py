"""Fixtures of the view tests: the tiny dataset in a store, and headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from graph.factory import open_store
from graph.store import Store
from loaders.load import load_dataset
from viz.browser import find_chromium

APT_PACKAGES = ["chromium", "chromium-driver", "fonts-wqy-microhei"]  # the font: Chinese labels render


@pytest.fixture
def tiny_store(store: Store, tiny_dataset: Path) -> Store:
    report = load_dataset(store, tiny_dataset)
    assert report.ok, [str(e) for e in report.errors]
    return store


@pytest.fixture(scope="session")
def tiny_embedded(tiny_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = open_store(f"embedded://{tmp_path_factory.mktemp('tiny-store')}")
    assert load_dataset(store, tiny_dataset).ok
    return store


@pytest.fixture(scope="session")
def scenario_embedded(scenario_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = open_store(f"embedded://{tmp_path_factory.mktemp('scenario-store')}")
    assert load_dataset(store, scenario_dataset).ok
    return store


def _has_cjk_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    return bool(subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip())


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    """Debian's Chromium and ChromeDriver (and a CJK font), installed with apt-get when missing and allowed."""
    try:
        found = find_chromium()
        if _has_cjk_font():
            return found
    except RuntimeError:
        pass
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *APT_PACKAGES]):
            done = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                pytest.fail(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
        return find_chromium()
    message = f"headless Chromium is not installed: apt-get install {' '.join(APT_PACKAGES)}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
