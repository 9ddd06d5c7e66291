"""Answers say when they rest on missing data: a case in an organization whose secretary
tenure is not recorded, a window without one action (docs/domain.md, "Missing data")."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import NotFound
from graph.store import Store
from loaders.load import load_dataset
from queries import accountability, notices, pressure
from queries.window import Window
from tests.helpers import organization, write_dataset


def _dataset(folder: Path) -> Path:
    """A county with a commission and a town (created 2021-01-01) under it. The county
    secretary is recorded for half of 2022; the town's secretary never; the county's
    commission, which supervises the town, has no discipline secretary recorded; a second
    town has no commission at all."""
    return write_dataset(
        folder,
        organizations=[
            organization("QX", "青溪县委", "committee", "county"),
            organization("QX-JW", "青溪县纪委", "commission", "county", "QX"),
            organization("DH", "东河镇党委", "committee", "township", "QX", valid_from="2021-01-01",
                         supervised_by="QX-JW"),
            organization("XS", "西山乡党委", "committee", "township", "QX"),
        ],
        positions=[
            {"id": "QX/sec", "org_id": "QX", "title": "县委书记", "role": "secretary"},
            {"id": "QX/m1", "org_id": "QX", "title": "县委常委", "role": "member", "portfolio": "discipline"},
            {"id": "QX-JW/dis", "org_id": "QX-JW", "title": "县纪委书记", "role": "discipline_secretary"},
            {"id": "DH/sec", "org_id": "DH", "title": "东河镇党委书记", "role": "secretary"},
        ],
        persons=[{"id": "P1", "name": "陈志远"}, {"id": "P2", "name": "林秀英"}],
        tenures=[
            {"person_id": "P1", "position_id": "QX/sec", "start": "2022-07-01", "end": ""},
            {"person_id": "P2", "position_id": "QX/m1", "start": "2015-01-01", "end": ""},
        ],
        actions=[
            {"id": "A1", "date": "2022-03-01", "kind": "meeting", "from_org_id": "QX", "to_org_id": "DH",
             "category": "discipline"},
        ],
        cases=[
            {"id": "K1", "org_id": "DH", "category": "discipline", "start": "2020-01-01", "end": "2022-01-01",
             "violator_ids": "P2"},
            {"id": "K3", "org_id": "XS", "category": "discipline", "start": "2022-01-01", "end": "2023-01-01",
             "violator_ids": ""},
            {"id": "K2", "org_id": "QX", "category": "discipline", "start": "2022-01-01", "end": "2023-01-01",
             "violator_ids": ""},
        ],
    )  # fmt: skip


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    report = load_dataset(store, _dataset(tmp_path / "d"))
    assert report.ok, report.errors
    return store


def _codes(result: accountability.AccountabilityResult) -> dict[tuple[str | None, str | None], tuple[str, int | None]]:
    return {(n.role, n.subject): (n.code, n.days) for n in result.notices}


def test_a_post_never_held_is_marked_no_holder_recorded(loaded: Store) -> None:
    result = accountability.accountability(loaded, "K1", as_of="2023-01-01")
    assert not [r for r in result.responsible if r.role == "first"]
    codes = _codes(result)
    # the town exists from 2021-01-01 only: a year of the window [2020, 2022), not two
    assert codes[("first", "DH/sec")] == (notices.NO_HOLDER, 365)
    assert codes[("portfolio", "DH")][0] == notices.NO_POST
    assert codes[("supervisory", "QX-JW/dis")] == (notices.NO_HOLDER, 365)
    message = next(n.message for n in result.notices if n.subject == "DH/sec")
    assert "东河镇党委书记" in message and "[2021-01-01, 2022-01-01)" in message


def test_an_organization_without_a_supervising_commission_says_so(loaded: Store) -> None:
    result = accountability.accountability(loaded, "K3", as_of="2023-01-01")
    assert _codes(result)[("supervisory", "XS")] == (notices.NO_COMMISSION, None)


def test_a_post_held_for_part_of_the_window_gives_the_days_uncovered(loaded: Store) -> None:
    result = accountability.accountability(loaded, "K2", as_of="2023-01-01")
    assert [r.person.id for r in result.responsible if r.role == "first"] == ["P1"]
    codes = _codes(result)
    assert codes[("first", "QX/sec")] == (notices.HOLDER_GAP, 181)
    assert ("portfolio", "QX/m1") not in codes  # held all along: nothing to say


def test_a_window_without_actions_says_so(loaded: Store) -> None:
    quiet = pressure.level_profile(pressure.pressure(loaded, Window.of("2023-01-01", "2024-01-01")))
    assert [n.code for n in quiet.notices] == [notices.NO_ACTIONS]
    assert "[2023-01-01, 2024-01-01)" in quiet.notices[0].message
    busy = pressure.level_profile(pressure.pressure(loaded, Window.of("2022-01-01", "2023-01-01")))
    assert busy.notices == []


def test_an_unknown_violator_of_an_adhoc_case_is_refused(loaded: Store) -> None:
    case = accountability.adhoc_case("DH", "2021-01-01", "2022-01-01", "discipline", ["P2", "NOPE"])
    with pytest.raises(NotFound, match="'NOPE'"):
        accountability.accountability(loaded, case)


def test_the_cli_and_the_api_show_the_same_notices(tmp_path: Path) -> None:
    """The row that cannot be filled is marked in the CLI table; the JSON and the API carry
    the notices as the query made them."""
    import json

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from api.app import create_app
    from rtc.cli import app
    from tests.api.conftest import make_settings

    url = f"embedded://{tmp_path / 'store'}"
    runner = CliRunner()
    assert runner.invoke(app, ["load", str(_dataset(tmp_path / "d")), "--store", url]).exit_code == 0
    ask = ["accountability", "K1", "--as-of", "2023-01-01", "--store", url]
    shown = runner.invoke(app, ask, env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    first = next(line for line in shown.output.splitlines() if "(no holder recorded)" in line)
    assert "first" in first and "DH/sec" in first
    assert "note no-holder-recorded: no holder recorded for 东河镇党委书记" in shown.output
    as_json = runner.invoke(app, ["accountability", "K1", "--as-of", "2023-01-01", "--store", url, "--json"])
    cli_notices = json.loads(as_json.output)["notices"]
    quiet = runner.invoke(app, ["fades", "--from", "2023-01-01", "--to", "2024-01-01", "--store", url])
    assert "note no-actions-in-window" in quiet.output
    settings, keys = make_settings(tmp_path, url)
    auth = {"Authorization": f"Bearer {keys['reader']}"}
    with TestClient(create_app(settings)) as client:
        answer = client.get("/cases/K1/accountability?as_of=2023-01-01", headers=auth)
        assert answer.status_code == 200, answer.text
        assert answer.json()["notices"] == cli_notices
        fades = client.get("/pressure/fades?from=2023-01-01&to=2024-01-01", headers=auth).json()
        assert [n["code"] for n in fades["notices"]] == [notices.NO_ACTIONS]
