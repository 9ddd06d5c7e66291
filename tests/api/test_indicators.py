"""The indicator routes answer what queries.indicators computes (tests/queries/test_indicators.py
holds the hand-checked numbers), refuse a scheme the server does not ship, and check a scheme."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from graph.store import Store
from queries.indicators.scheme import load_scheme
from queries.indicators.scores import leader_score, scores
from queries.window import Window
from tests.api.conftest import Api
from tests.queries.test_indicators import TWO

Y2019 = "from=2019-01-01&to=2020-01-01"


def test_scores_over_http_equal_the_query(api: Api, scenario_store: Store) -> None:
    r = api.client.get(f"/scores?{Y2019}&compare=false&limit=2&offset=1", headers=api.headers("reader"))
    assert r.status_code == 200, r.text
    body = r.json()
    expected = scores(scenario_store, load_scheme("default"), Window.of("2019-01-01", "2020-01-01"), compare=False)
    assert body["total"] == len(expected.organizations) and body["count"] == 2
    assert body["organizations"] == [o.model_dump(mode="json") for o in expected.organizations[1:3]]
    one = api.client.get(f"/scores/T?{Y2019}&scheme=six-plus-x", headers=api.headers("reader")).json()
    assert one["scheme"] == "six-plus-x" and one["organization"]["org_id"] == "T"
    assert all(i["ids"] is not None for i in one["organization"]["indicators"])  # explained by default


def test_a_leader_score_over_http(api: Api, scenario_store: Store) -> None:
    r = api.client.get("/persons/p1/score?from=2020-01-01&to=2021-01-01", headers=api.headers("reader"))
    expected = leader_score(scenario_store, load_scheme("default"), "p1", Window.of("2020-01-01", "2021-01-01"))
    assert r.status_code == 200 and r.json() == expected.model_dump(mode="json")
    assert [o["org_id"] for o in r.json()["organizations"]] == ["T", "X"]  # the post before and after the promotion


def test_a_scheme_the_server_does_not_ship_is_refused(api: Api) -> None:
    r = api.client.get("/scores?scheme=/etc/passwd", headers=api.headers("reader"))
    assert r.status_code == 422 and "unknown scheme '/etc/passwd'" in r.json()["detail"]


def test_a_scheme_file_is_checked_with_the_line_of_each_error(api: Api) -> None:
    headers = {**api.headers("reader"), "Content-Type": "text/plain"}
    ok = api.client.post("/schemes/check", headers=headers, content=TWO.encode())
    assert ok.status_code == 200 and ok.json() == {
        "id": "two",
        "name_zh": "两项",
        "name_en": "Two",
        "groups": 1,
        "indicators": 2,
        "points": 20.0,
    }
    bad = api.client.post("/schemes/check", headers=headers, content=TWO.replace("best: 1}", "}").encode())
    assert bad.status_code == 422 and "scheme:14: indicators.0.children.0.rule: a linear rule needs best" in bad.text


def test_alerts_over_http_and_in_an_import_report(api: Api) -> None:
    r = api.client.get("/alerts?since=2020-01-01", headers=api.headers("reader"))
    assert r.status_code == 200, r.text
    cases = [(a["change_id"], a["case_id"], a["role"]) for a in r.json()["alerts"] if a["kind"] == "open-case"]
    assert cases == [("c1", "K1", "first"), ("c3", "K1", "portfolio")]
    move = {
        "id": "c9",
        "date": "2021-03-01",
        "kind": "promote",
        "person_id": "p2",
        "from_position_id": "T/sec",
        "to_position_id": "S/dep",
    }
    dry = api.client.post("/imports?dry_run=true", headers=api.headers("loader"), json={"tables": {"changes": [move]}})
    assert dry.status_code == 200, dry.text
    report = dry.json()["report"]
    found = [(a["person_id"], a["case_id"]) for a in report["alerts"] if a["kind"] == "open-case"]
    assert found == [("p2", "K1")]  # a dry run shows what the import would raise


def test_a_report_over_http_opens_in_excel(api: Api) -> None:
    r = api.client.get("/reports?org=T&from=2020-01-01&to=2021-01-01&format=xlsx", headers=api.headers("reader"))
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(r.content))
    assert [row[0] for row in book["scores"].iter_rows(min_row=2, values_only=True)] == ["T"]
    page = api.client.get("/reports?org=T", headers=api.headers("reader"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html") and "研判报告" in page.text
    both = api.client.get("/reports?org=T&level=township", headers=api.headers("reader"))
    assert both.status_code == 422 and "one organization or of one level" in both.json()["detail"]
