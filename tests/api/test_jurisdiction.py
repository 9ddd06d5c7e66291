"""A key limited to a jurisdiction (the township T of the scenario): every route answers
from inside it only, and an id outside answers 404 exactly as an unknown id does."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from api.keys import add_key
from tests import scenario
from tests.api.conftest import Api

INSIDE = {"org_id": "T", "position_id": "T/sec", "person_id": "p1", "case_id": "K1"}
OUTSIDE = {"org_id": "X", "position_id": "X/sec", "person_id": "p8", "case_id": "K2"}
INSIDE_ORGS = {"T", "T-JW"}
QUERY = {
    "/persons": "?q=张",
    "/positions/{position_id}/holders": "?at=2020-06-01",
    "/pressure/levels": "?from=2018-01-01&to=2021-01-01",
    "/pressure/fades": "?from=2018-01-01&to=2021-01-01",
    "/views/pressure": "?from=2018-01-01&to=2021-01-01",
    "/views/pressure/expand": "?node=T::below&top=1",
    "/reports": "?org=T&from=2020-01-01&to=2021-01-01",
}
# T has nothing below it on the map: no aggregate inside the jurisdiction to open
STATUS = {"/views/pressure/expand": 404}


def _outside_marks() -> set[str]:
    """Names and ids that must never appear: organizations outside T, their positions, and
    the people who never held a post inside nor are named by one of its cases."""
    orgs = {o["id"]: o["name"] for o in scenario.ORGS if o["id"] not in INSIDE_ORGS}
    positions = {p["id"] for p in scenario._positions() if p["org_id"] not in INSIDE_ORGS}
    inside_people = {t["person_id"] for t in scenario.TENURES if t["position_id"].split("/")[0] in INSIDE_ORGS}
    inside_people |= {c["person_id"] for c in scenario.CHANGES if str(c.get("to_position_id", "")).startswith("T/")}
    inside_people |= {"p7"}  # the violator of K1
    people = {p["name"] for p in scenario.PERSONS if p["id"] not in inside_people}
    return set(orgs.values()) | positions | people | {"K2"}


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values()), set(value)) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) else set()


def _leaks(text: str, content_type: str) -> set[str]:
    marks = _outside_marks()
    if content_type.startswith("application/json") or content_type.startswith("application/problem+json"):
        found = _strings(json.loads(text))
        outside_ids = {o["id"] for o in scenario.ORGS if o["id"] not in INSIDE_ORGS}
        return {s for s in found if s in marks or s in outside_ids}
    # an ASCII id must stand alone (base64 images in a page hold "K2" by chance)
    return {m for m in marks if re.search(rf"(?<![\w+/]){re.escape(m)}(?![\w+/=])", text)}


def _paths(api: Api) -> list[tuple[str, str]]:
    spec = api.client.app.openapi()  # type: ignore[attr-defined]
    skip = {"/health", "/version", "/imports/{import_id}"}
    return [(path, "GET") for path, ops in spec["paths"].items() if "get" in ops and path not in skip]


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)].replace("/", "%2F"), path) + QUERY.get(path, "")


@pytest.fixture
def scoped(api: Api) -> dict[str, str]:
    key = add_key(api.settings.api_keys_file, "town-office", "reader", ["T"])
    return {"Authorization": f"Bearer {key}"}


def test_every_route_answers_from_inside_only(api: Api, scoped: dict[str, str]) -> None:
    paths = _paths(api)
    assert len(paths) >= 15, paths
    for path, _ in paths:
        r = api.client.get(_fill(path, INSIDE), headers=scoped)
        assert r.status_code == STATUS.get(path, 200), (path, r.status_code, r.text[:300])
        assert not _leaks(r.text, r.headers["content-type"]), (path, _leaks(r.text, r.headers["content-type"]))


def test_an_id_outside_is_404_as_an_unknown_id(api: Api, scoped: dict[str, str]) -> None:
    for path, _ in _paths(api):
        if "{" not in path:
            continue
        outside = api.client.get(_fill(path, OUTSIDE), headers=scoped)
        unknown = api.client.get(_fill(path, dict.fromkeys(OUTSIDE, "nope")), headers=scoped)
        assert unknown.status_code == 404, path
        assert outside.status_code == 404, (path, outside.text[:300])
        param = re.search(r"\{(\w+)\}", path).group(1)  # type: ignore[union-attr]
        assert outside.json()["detail"].replace(repr(OUTSIDE[param]), "'nope'") == unknown.json()["detail"], path


def test_answers_inside_are_limited_and_counted_inside(api: Api, scoped: dict[str, str]) -> None:
    orgs = api.client.get("/organizations", headers=scoped).json()
    assert {o["id"] for o in orgs["data"]} == INSIDE_ORGS and orgs["total"] == 2
    assert api.client.get("/organizations/T", headers=scoped).json()["parent_id"] is None
    career = api.client.get("/persons/p1/career", headers=scoped).json()["career"]
    assert [s["post"]["position_id"] for s in career] == ["T/sec"]  # the promotion to X is outside
    found = api.client.get("/accountability" if False else "/cases/K1/accountability?as_of=2022-01-01&depth=2",
                           headers=scoped).json()  # fmt: skip
    rows = {(r["role"], r["person"]["id"]): r for r in found["responsible"]}
    assert rows[("first", "p1")]["movement"] == "left"  # promoted out of the jurisdiction
    assert not any(role == "upstream" for role, _ in rows)  # the superiors are outside
    profile = api.client.get("/pressure/levels?from=2018-01-01&to=2021-01-01", headers=scoped).json()
    assert [(lv["level"], lv["orgs"]) for lv in profile["levels"]] == [("township", 1)]
    adhoc = {"org_id": "X", "category": "discipline", "start": "2020-03-01", "end": "2020-12-01"}
    assert api.client.post("/accountability", headers=scoped, json=adhoc).status_code == 404
    assert api.client.get("/persons?q=黄", headers=scoped).json()["total"] == 0  # p8 黄勇 is outside
    # p3 left T for T2 (outside): the move shows where from, not where to
    moves = api.client.get("/alerts?since=2020-01-01", headers=scoped).json()["alerts"]
    c3 = [(a["person_id"], a["from_position_id"], a["to_position_id"]) for a in moves if a["change_id"] == "c3"]
    assert c3 and set(c3) == {("p3", "T/m1", None)}
    for node in ("S::below", "X::below"):  # what lies below S and X is outside: as unknown as nope::below
        outside = api.client.get(f"/views/pressure/expand?node={node}&top=1", headers=scoped)
        unknown = api.client.get("/views/pressure/expand?node=nope::below&top=1", headers=scoped)
        assert outside.status_code == unknown.status_code == 404
        assert outside.json()["detail"].replace(node, "nope::below") == unknown.json()["detail"]


def test_a_key_with_a_jurisdiction_cannot_import(api: Api) -> None:
    key = add_key(api.settings.api_keys_file, "town-clerk", "loader", ["T"])
    r = api.client.post(
        "/imports",
        headers={"Authorization": f"Bearer {key}"},
        json={"tables": {"persons": [{"id": "p95", "name": "丁"}]}},
    )
    assert r.status_code == 403 and "jurisdiction" in r.json()["detail"]
