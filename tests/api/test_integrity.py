"""The service under hostile or careless use: limits that hold whatever the transfer encoding,
no file silently dropped, every failure problem+json and audited, keys that change while it
serves, ids that hold a slash or a newline, a store that vanishes."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import add_key, revoke_key
from graph.factory import open_store
from loaders.load import load_dataset
from tests.api.conftest import Api, make_settings
from tests.helpers import write_dataset

PROBLEM = "application/problem+json"


def audit(api: Api) -> list[dict[str, object]]:
    path = Path(api.settings.audit_log)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_a_chunked_upload_over_the_limit_is_413_and_audited(api: Api) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        yield b'{"tables": {"persons": ['
        for i in range(20_000):
            yield json.dumps({"id": f"big{i}", "name": "x" * 10}).encode() + b","
        yield b'{"id": "last", "name": "y"}]}}'

    r = api.client.post(
        "/imports", headers={**api.headers("loader"), "Content-Type": "application/json"}, content=chunks()
    )
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    assert "RTC_MAX_UPLOAD_BYTES" in r.json()["detail"]
    assert api.client.get("/persons/last", headers=api.headers("reader")).status_code == 404
    assert audit(api)[-1]["outcome"] == "too-large" and audit(api)[-1]["who"] == "loader-user"


@pytest.mark.parametrize(
    "files, message",
    [
        (
            [("f", ("persons.csv", b"id,name\np70,A\n")), ("f", ("cases.csv", b"id\n"))],
            "the form field 'f' is used by more than one file",
        ),
        (
            [("a", ("persons.csv", b"id,name\np70,A\n")), ("b", ("persons.csv", b"id,name\np71,B\n"))],
            "the file name 'persons.csv' is used by more than one file",
        ),
        (
            [("a", ("persons.csv", b"id,name\np70,A\n")), ("b", ("persons.jsonl", b'{"id":"p71","name":"B"}\n'))],
            "more than one file for 'persons'",
        ),
    ],
)
def test_no_uploaded_file_is_silently_dropped(
    api: Api, files: list[tuple[str, tuple[str, bytes]]], message: str
) -> None:
    sent = [(field, (name, io.BytesIO(data), "text/plain")) for field, (name, data) in files]
    r = api.client.post("/imports", headers=api.headers("loader"), files=sent)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert message in r.json()["detail"]
    assert api.client.get("/persons/p70", headers=api.headers("reader")).status_code == 404
    assert audit(api)[-1]["outcome"] == "refused"


def test_refused_import_attempts_are_audited_without_the_key(api: Api) -> None:
    body = {"tables": {"persons": [{"id": "p80", "name": "甲"}]}}
    assert api.client.post("/imports", json=body).status_code == 401
    assert api.client.post("/imports", headers=api.headers("reader"), json=body).status_code == 403
    assert api.client.post("/imports?dry_run=maybe", headers=api.headers("loader"), json=body).status_code == 422
    r = api.client.post("/imports", headers=api.headers("loader"), content=b"not json")
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    entries = audit(api)
    assert [(e["who"], e["outcome"], e["report"]["status"]) for e in entries] == [  # type: ignore[index]
        ("unauthenticated", "refused", 401),
        ("reader-user", "refused", 403),
        ("loader-user", "refused", 422),
        ("loader-user", "refused", 422),
    ]
    text = Path(api.settings.audit_log).read_text(encoding="utf-8")
    assert all(key not in text for key in api.keys.values())


def test_a_damaged_xlsx_upload_is_422_with_the_file_named(api: Api) -> None:
    r = api.client.post(
        "/imports", headers=api.headers("loader"), files={"f": ("persons.xlsx", io.BytesIO(b"PK\x03\x04junk"), "x")}
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["report"]["errors"][0]["file"] == "persons.xlsx"
    assert audit(api)[-1]["outcome"] == "invalid"


def test_an_import_that_waits_too_long_for_another_is_503_problem_and_audited(
    scenario_store: object, tmp_path: Path
) -> None:
    url = scenario_store.url  # type: ignore[attr-defined]
    if not url.startswith("embedded://"):
        pytest.skip("the lock file is the embedded store's")
    settings, keys = make_settings(tmp_path, url, lock_wait=0.3)
    other = open_store(url)
    with TestClient(create_app(settings)) as client, other.import_lock():
        r = client.post(
            "/imports",
            headers={"Authorization": f"Bearer {keys['loader']}"},
            json={"tables": {"persons": [{"id": "p90", "name": "乙"}]}},
        )
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
    assert "busy" in r.json()["detail"]
    entry = json.loads(Path(settings.audit_log).read_text(encoding="utf-8").splitlines()[-1])
    assert entry["outcome"] == "failed"


def test_an_unexpected_error_is_a_problem_not_text(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from queries import lookups

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(lookups, "career", broken)
    client = TestClient(api.client.app, raise_server_exceptions=False)
    r = client.get("/persons/p1/career", headers=api.headers("reader"))
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM
    assert "a bug" not in r.text


def test_adhoc_accountability_refuses_an_end_before_its_start(api: Api) -> None:
    body = {"org_id": "T", "category": "discipline", "start": "2020-03-01", "end": "2020-02-01"}
    r = api.client.post("/accountability", headers=api.headers("reader"), json=body)
    assert r.status_code == 422 and "end 2020-02-01 must be after start 2020-03-01" in r.json()["detail"]


def test_keys_added_and_revoked_take_effect_without_a_restart(api: Api) -> None:
    keys_file = api.settings.api_keys_file
    new = add_key(keys_file, "late", "reader")
    assert api.client.get("/persons/p1", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    revoke_key(keys_file, "late")
    assert api.client.get("/persons/p1", headers={"Authorization": f"Bearer {new}"}).status_code == 401
    revoke_key(keys_file, "reader-user")
    assert api.client.get("/persons/p1", headers=api.headers("reader")).status_code == 401


@pytest.mark.parametrize("person", ["Z/career", "line\nbreak", "a/b/c"])
def test_ids_with_a_slash_or_a_newline_are_reachable(tmp_path: Path, person: str) -> None:
    folder = write_dataset(
        tmp_path / "data",
        organizations=[{"id": "O", "name": "县委", "kind": "committee", "level": "county"}],
        positions=[{"id": "O/sec", "org_id": "O", "title": "书记", "role": "secretary"}],
        persons=[{"id": "Z", "name": "甲"}, {"id": person, "name": "乙"}],
        tenures=[{"person_id": person, "position_id": "O/sec", "start": "2020-01-01"}],
    )
    store = open_store(f"embedded://{tmp_path / 'store'}")
    assert load_dataset(store, folder).ok
    settings, keys = make_settings(tmp_path, store.url)
    h = {"Authorization": f"Bearer {keys['reader']}"}
    encoded = person.replace("/", "%2F").replace("\n", "%0A")
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/persons/{encoded}", headers=h).json()["id"] == person
        career = client.get(f"/persons/{encoded}/career", headers=h).json()
        assert career["person"]["id"] == person and career["career"][0]["post"]["position_id"] == "O/sec"
        assert client.get("/persons/Z/career", headers=h).json()["person"]["id"] == "Z"


def test_a_store_deleted_while_serving_is_reported_and_refuses_imports(tmp_path: Path, scenario_dataset: Path) -> None:
    store = open_store(f"embedded://{tmp_path / 'store'}")
    assert load_dataset(store, scenario_dataset).ok
    settings, keys = make_settings(tmp_path, store.url)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["reachable"]
        shutil.rmtree(tmp_path / "store")
        health = client.get("/health").json()
        assert not health["reachable"] and health["status"] == "degraded"
        r = client.post(
            "/imports",
            headers={"Authorization": f"Bearer {keys['loader']}"},
            json={"tables": {"persons": [{"id": "p99", "name": "丙"}]}},
        )
        assert r.status_code == 503 and "deleted or replaced while open" in r.json()["detail"]
