"""An import through the API takes the options of ``rtc load``: a tolerant import lists each
row it set aside, and a second source's added field is an update."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import make_settings

ORGS = [{"id": "P", "name": "某省", "kind": "committee", "level": "province"}]
POSITIONS = [{"id": "P/sec", "org_id": "P", "title": "省委书记", "role": "secretary"}]
PERSONS = [{"id": "u1", "name": "李强"}, {"id": "u2", "name": "王伟"}]
TENURES = [
    {"person_id": "u1", "position_id": "P/sec", "start": "1998.03", "end": "2003年2月"},
    {"person_id": "u2", "position_id": "P/sec", "start": "2003-13", "end": ""},
]


def test_a_tolerant_import_and_an_update_over_http(tmp_path: Path) -> None:
    settings, keys = make_settings(tmp_path, f"embedded://{tmp_path / 'store'}")
    auth = {"Authorization": f"Bearer {keys['loader']}"}
    body = {"tables": {"organizations": ORGS, "positions": POSITIONS, "persons": PERSONS, "tenures": TENURES}}
    with TestClient(create_app(settings)) as client:
        refused = client.post("/imports", json=body, headers=auth)
        assert refused.status_code == 422
        done = client.post("/imports?tolerant=true", json=body, headers=auth)
        assert done.status_code == 201, done.text
        report = done.json()["report"]
        assert report["rejected"] == {"tenures": 1}
        assert [(r["file"], r["row"], r["rule"]) for r in report["rejects"]] == [("tenures", 2, "bad-date")]
        assert report["date_forms"]["tenures.start"] == {"YYYY.MM[.DD]": 1}
        more = {"tables": {"persons": [{"id": "u1", "name": "李强", "birth": "1959年7月"}]}}
        updated = client.post("/imports", json=more, headers=auth)
        assert updated.status_code == 201 and updated.json()["report"]["counts"]["persons"]["updated"] == 1
        conflict = client.post("/imports", json={"tables": {"persons": [{"id": "u1", "name": "李四"}]}}, headers=auth)
        assert conflict.status_code == 409 and "'李强' in the store" in conflict.text
        fixed = client.post(
            "/imports?correct=true", json={"tables": {"persons": [{"id": "u1", "name": "李四"}]}}, headers=auth
        )
        assert fixed.status_code == 201
        # a second source calls u2 "s9": with match_persons, name and birth find the stored person
        both = {"persons": [{"id": "u2", "name": "王伟", "birth": "1961"}]}
        assert client.post("/imports", json={"tables": both}, headers=auth).status_code == 201
        other = {"persons": [{"id": "s9", "name": "王伟", "birth": "1961-05"}]}
        matched = client.post("/imports?match_persons=true", json={"tables": other}, headers=auth)
        assert matched.status_code == 201, matched.text
        assert [w["rule"] for w in matched.json()["report"]["warnings"]] == ["person-matched", "updated"]
        person = client.get("/persons/u2", headers=auth).json()
        assert (person["birth"], person["aliases"]) == ("1961-05", ["s9"])
