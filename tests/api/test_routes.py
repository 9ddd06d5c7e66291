"""Every route: the auth matrix, hand-checked answers, problem+json errors, imports."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import Api

ADHOC = {
    "org_id": "T",
    "category": "discipline",
    "start": "2020-03-01",
    "end": "2020-12-01",
    "violator_ids": ["p7"],
    "as_of": "2022-01-01",
}
READS = [
    ("GET", "/organizations?level=township"),
    ("GET", "/organizations/T"),
    ("GET", "/organizations/T/children"),
    ("GET", "/organizations/T/leaders?at=2020-05-01"),
    ("GET", "/positions/T/sec/holders?at=2020-06-01"),
    ("GET", "/persons?q=张"),
    ("GET", "/persons/p1"),
    ("GET", "/persons/p1/career"),
    ("GET", "/cases?q=K&org=T"),
    ("GET", "/cases/K1/accountability?as_of=2022-01-01&depth=2"),
    ("POST", "/accountability"),
    ("GET", "/pressure/levels?from=2019-01-01&to=2021-01-01"),
    ("GET", "/pressure/fades?from=2019-01-01&to=2021-01-01"),
    ("GET", "/pressure/orgs/T?from=2019-01-01&to=2021-01-01"),
    ("GET", "/findings/gaps?at=2020-06-30"),
    ("GET", "/findings/soft"),
    ("GET", "/findings/slogans?from=2019-01-01&to=2021-01-01"),
    ("GET", "/scorecard/X?from=2019-01-01&to=2021-01-01"),
    ("GET", "/scores?from=2019-01-01&to=2020-01-01"),
    ("GET", "/scores/T?from=2019-01-01&to=2020-01-01"),
    ("GET", "/persons/p1/score?from=2020-01-01&to=2021-01-01"),
    ("GET", "/views/pressure?from=2019-01-01&to=2020-01-01"),
    ("GET", "/views/pressure?root=C&format=graphml"),
    ("GET", "/views/cases/K1?as_of=2022-01-01"),
    ("GET", "/views/persons/p1"),
    ("GET", "/views/duties/X?format=gexf"),
]
IMPORT = {"tables": {"persons": [{"id": "p99", "name": "新人"}]}}


def call(api: Api, method: str, path: str, role: str | None):  # type: ignore[no-untyped-def]
    body = ADHOC if path == "/accountability" else IMPORT if path == "/imports" else None
    return api.client.request(method, path, headers=api.headers(role), json=body)


@pytest.mark.parametrize("method, path", [*READS, ("POST", "/imports"), ("GET", "/imports/some-id")])
def test_no_key_or_a_bad_key_is_401(api: Api, method: str, path: str) -> None:
    for role in (None, "bad"):
        r = call(api, method, path, role)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("method, path", READS)
def test_every_role_reads(api: Api, method: str, path: str) -> None:
    for role in ("reader", "loader", "admin"):
        assert call(api, method, path, role).status_code == 200, (role, path)


def test_import_needs_the_loader_role(api: Api) -> None:
    assert call(api, "POST", "/imports", "reader").status_code == 403
    assert call(api, "POST", "/imports", "loader").status_code == 201
    assert call(api, "POST", "/imports", "admin").status_code == 200  # the same rows again: nothing new


def test_health_and_version_are_open(api: Api) -> None:
    health = api.client.get("/health").json()
    assert health["reachable"] and health["backend"] in ("embedded", "falkordb", "neo4j")
    assert api.client.get("/version").json()["version"]


def test_answers_match_the_queries(api: Api) -> None:
    h = api.headers("reader")
    data = api.client.get("/cases/K1/accountability?as_of=2022-01-01&depth=2", headers=h).json()
    assert [(r["role"], r["person"]["id"], r["movement"]) for r in data["responsible"]][:5] == [
        ("direct", "p7", "same"),
        ("first", "p1", "promoted"),
        ("first", "p2", "same"),
        ("portfolio", "p3", "transferred"),
        ("supervisory", "p4", "left"),
    ]
    adhoc = api.client.post("/accountability", headers=h, json=ADHOC).json()
    assert adhoc["responsible"][1]["person"]["id"] == "p1"
    holders = api.client.get("/positions/T/sec/holders?at=2020-07-01", headers=h).json()
    assert [x["person"]["id"] for x in holders["holders"]] == ["p2"]
    levels = api.client.get("/pressure/levels?from=2019-01-01&to=2021-01-01", headers=h).json()
    assert levels["steepest_fade"] == {"from_level": "city", "to_level": "county", "ratio": 0.2}
    org = api.client.get("/pressure/orgs/T?from=2019-01-01&to=2021-01-01", headers=h).json()
    assert org["evidence"]["received"] == ["a1", "a4"] and org["figures"]["received"] == 1.1
    persons = api.client.get("/persons?q=张", headers=h).json()
    assert (persons["total"], persons["data"][0]["name"]) == (1, "张伟")


def test_pagination(api: Api) -> None:
    h = api.headers("reader")
    first = api.client.get("/organizations?limit=3&offset=0", headers=h).json()
    second = api.client.get("/organizations?limit=3&offset=3", headers=h).json()
    assert first["total"] == 11 and first["count"] == 3 and second["count"] == 3
    assert {o["id"] for o in first["data"]}.isdisjoint(o["id"] for o in second["data"])


@pytest.mark.parametrize(
    "path, status",
    [
        ("/cases/K404/accountability", 404),
        ("/organizations/nope", 404),
        ("/persons/nope", 404),
        ("/positions/nope/holders", 404),
        ("/scorecard/nope", 404),
        ("/views/pressure?root=nope", 404),
        ("/views/cases/nope", 404),
        ("/views/persons/nope", 404),
        ("/views/duties/nope", 404),
        ("/views/pressure?format=png", 422),
        ("/imports/nope", 404),
        ("/positions/T/sec/holders?at=2020-02-30", 422),
        ("/organizations?limit=0", 422),
        ("/pressure/levels?category=telepathy", 422),
        ("/pressure/levels?from=2021-01-01&to=2020-01-01", 422),
        ("/persons?q=x&offset=18353767180382205952", 422),  # found by schemathesis: beyond SQLite integers
    ],
)
def test_errors_are_problem_json(api: Api, path: str, status: int) -> None:
    r = api.client.get(path, headers=api.headers("reader"))
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == status and r.json()["detail"]


@pytest.mark.parametrize(
    "path, detail",
    [
        ("/positions/T/sec/holders?at=2022-13-01", "at: not a date: '2022-13-01' (month must be in 1..12)"),
        ("/pressure/levels?from=2021-02-30", "from: not a date: '2021-02-30'"),
        ("/views/cases/K1?as_of=2022-13", "as_of: not a date: '2022-13'"),
        ("/organizations?limit=0", "limit: "),
    ],
)
def test_a_refused_parameter_is_named_in_the_detail(api: Api, path: str, detail: str) -> None:
    r = api.client.get(path, headers=api.headers("reader"))
    assert r.status_code == 422 and detail in r.json()["detail"], r.json()


def test_views_are_pages_and_exports(api: Api) -> None:
    page = api.client.get("/views/cases/K1?as_of=2022-01-01", headers=api.headers("reader"))
    assert page.headers["content-type"].startswith("text/html") and "case K1" in page.text
    assert '"id":"person:p1"' in page.text  # the payload the page draws from
    graphml = api.client.get(
        "/views/pressure?root=C&from=2019-01-01&to=2020-01-01&format=graphml", headers=api.headers("reader")
    )
    assert graphml.headers["content-type"] == "application/xml" and '<node id="S">' in graphml.text


def test_adhoc_case_in_an_unknown_organization_is_404(api: Api) -> None:
    r = api.client.post("/accountability", headers=api.headers("reader"), json={**ADHOC, "org_id": "nope"})
    assert r.status_code == 404 and "nope" in r.json()["detail"]


def test_422_names_the_field(api: Api) -> None:
    r = api.client.get("/organizations?limit=abc", headers=api.headers("reader"))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "limit"]


def test_multipart_import_dry_run_then_real_then_report(api: Api) -> None:
    h = api.headers("loader")
    files = {"persons": ("persons.csv", io.BytesIO("id,姓名\np50,赵六\n".encode()), "text/csv")}
    dry = api.client.post("/imports?dry_run=true", headers=h, files=files)
    assert dry.status_code == 200 and dry.json()["outcome"] == "dry-run-ok"
    assert api.client.get("/persons/p50", headers=h).status_code == 404
    files = {"persons": ("persons.csv", io.BytesIO("id,姓名\np50,赵六\n".encode()), "text/csv")}
    real = api.client.post("/imports", headers=h, files=files)
    assert real.status_code == 201 and real.json()["outcome"] == "written"
    assert api.client.get("/persons/p50", headers=h).json()["name"] == "赵六"
    entry = api.client.get(real.headers["location"], headers=api.headers("reader")).json()
    assert entry["who"] == "loader-user" and entry["report"]["counts"]["persons"]["new"] == 1


def test_an_ftm_upload_imports_and_its_source_shows_in_the_answers(api: Api) -> None:
    h = api.headers("loader")
    lines = [
        {"id": "p70", "schema": "Person", "properties": {"name": ["孙七"], "sourceUrl": ["https://example.org/p70"]}},
    ]
    body = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in lines).encode()
    files = {"f": ("entities.ftm.json", io.BytesIO(body), "application/json")}
    real = api.client.post("/imports", headers=h, files=files)
    assert real.status_code == 201, real.text
    person = api.client.get("/persons/p70", headers=h).json()
    assert person["name"] == "孙七" and person["props"]["source"] == "https://example.org/p70"


def test_invalid_import_is_422_with_the_report_and_conflict_is_409(api: Api) -> None:
    h = api.headers("loader")
    bad = api.client.post("/imports", headers=h, json={"tables": {"persons": [{"id": "p60"}]}})
    assert bad.status_code == 422 and bad.json()["report"]["errors"][0]["rule"] == "missing-field"
    clash = api.client.post("/imports", headers=h, json={"tables": {"persons": [{"id": "p1", "name": "别人"}]}})
    assert clash.status_code == 409 and clash.json()["import_id"]
    lines = Path(api.settings.audit_log).read_text(encoding="utf-8").splitlines()
    audit = [json.loads(line) for line in lines]
    assert [e["outcome"] for e in audit] == ["invalid", "conflict"]


def test_upload_too_large_is_413(api: Api) -> None:
    big = io.BytesIO(b"id,name\n" + b"p,x\n" * 60_000)
    r = api.client.post("/imports", headers=api.headers("loader"), files={"f": ("persons.csv", big, "text/csv")})
    assert r.status_code == 413 and "RTC_MAX_UPLOAD_BYTES" in r.json()["detail"]


def test_openapi_needs_a_key_and_docs_are_off_unless_made_public(api: Api, tmp_path: Path) -> None:
    """Only /health and /version are open (README); RTC_PUBLIC_DOCS opens the schema and /docs."""
    assert api.client.get("/openapi.json").status_code == 401
    spec = api.client.get("/openapi.json", headers=api.headers("reader")).json()
    assert "/cases/{case_id}/accountability" in spec["paths"]
    assert api.client.get("/docs").status_code == 404
    public = api.settings.model_copy(update={"public_docs": True})
    with TestClient(create_app(public)) as client:
        assert "/cases/{case_id}/accountability" in client.get("/openapi.json").json()["paths"]
        assert client.get("/docs").status_code == 200
