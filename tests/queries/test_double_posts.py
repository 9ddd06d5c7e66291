"""A person holding two incompatible leadership posts at once: a finding, with the overlap,
the same in the query, the CLI and the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from graph.store import Store
from loaders.load import load_dataset
from queries import findings
from queries.window import Window
from rtc.cli import app
from tests.api.conftest import make_settings
from tests.loaders.test_real_data import _two_cities

TENURES = [
    {"person_id": "u1", "position_id": "C/sec", "start": "2003-01-01", "end": "2006-01-01"},
    {"person_id": "u1", "position_id": "D/sec", "start": "2005-06-01", "end": ""},
    {"person_id": "u2", "position_id": "P/sec", "start": "2001-01-01", "end": ""},
    {"person_id": "u2", "position_id": "P/m", "start": "2001-01-01", "end": ""},
]


def test_the_finding_names_both_posts_and_the_overlap(store: Store, tmp_path: Path) -> None:
    assert load_dataset(store, _two_cities(tmp_path / "d", TENURES)).ok
    (found,) = findings.double_posts(store)
    assert found.person.id == "u1" and found.person.name == "李强"
    assert [(p.position_id, p.org_name) for p in found.posts] == [("C/sec", "某市"), ("D/sec", "另市")]
    assert (found.start, found.end, found.days) == ("2005-06-01", "2006-01-01", 214)
    assert findings.double_posts(store, Window.of("2005-01-01", "2005-06-01")) == []
    assert len(findings.double_posts(store, Window.of("2005-12-01", "2007-01-01"))) == 1


@pytest.mark.parametrize("window", [[], ["--from", "2005-01-01"]])
def test_the_cli_and_the_api_agree(tmp_path: Path, window: list[str]) -> None:
    url = f"embedded://{tmp_path / 'store'}"
    runner = CliRunner()
    assert runner.invoke(app, ["load", str(_two_cities(tmp_path / "d", TENURES)), "--store", url]).exit_code == 0
    shown = runner.invoke(app, ["findings", "double-posts", *window, "--store", url], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "李强 (u1)" in shown.output and "[2005-06-01, 2006-01-01)" in shown.output
    as_json = json.loads(runner.invoke(app, ["findings", "double-posts", *window, "--store", url, "--json"]).output)
    settings, keys = make_settings(tmp_path, url)
    query = "?from=2005-01-01" if window else ""
    with TestClient(create_app(settings)) as client:
        answer = client.get(f"/findings/double-posts{query}", headers={"Authorization": f"Bearer {keys['reader']}"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == as_json and as_json["count"] == 1
    assert as_json["window"] == ({"from": "2005-01-01", "to": "2006-01-01"} if window else None)
