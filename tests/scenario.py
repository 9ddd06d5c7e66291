"""The hand-checked scenario of the accountability tests (see tests/queries/test_accountability.py).

Central > province P > city S > county X > townships T and T2, each committee with a
commission. Case K1 in T (discipline, [2020-03-01, 2020-12-01)):
- the secretary p1 hands over to p2 on 2020-07-01 (inside the window) and is promoted
  to deputy secretary of the county X;
- the member p3 (portfolio: discipline) is transferred sideways to T2 on 2021-01-01;
- the discipline secretary p4 of T's commission retires on 2021-06-01;
- X sent T only a document on discipline in the lookback window, S sent X only a
  meeting, P sent S an inspection: upstream failure two levels deep.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import organization, write_dataset

ORGS = [
    organization("C", "中央委员会", "committee", "central"),
    organization("P", "某省委", "committee", "province", "C"),
    organization("P-JW", "某省纪委", "commission", "province", "P"),
    organization("S", "某市委", "committee", "city", "P"),
    organization("S-JW", "某市纪委", "commission", "city", "S"),
    organization("X", "某县委", "committee", "county", "S"),
    organization("X-JW", "某县纪委", "commission", "county", "X"),
    organization("T", "甲镇党委", "committee", "township", "X"),
    organization("T-JW", "甲镇纪委", "commission", "township", "T"),
    organization("T2", "乙镇党委", "committee", "township", "X"),
    organization("T2-JW", "乙镇纪委", "commission", "township", "T2"),
]


def _positions() -> list[dict[str, str]]:
    rows = []
    for org in ("P", "S", "X", "T", "T2"):
        rows += [
            {"id": f"{org}/sec", "org_id": org, "title": "书记", "role": "secretary"},
            {"id": f"{org}/dep", "org_id": org, "title": "副书记", "role": "deputy_secretary"},
            {
                "id": f"{org}/m1",
                "org_id": org,
                "title": "委员(纪律)",
                "role": "member",
                "portfolio": "discipline;work_style",
            },
            {
                "id": f"{org}/m2",
                "org_id": org,
                "title": "委员(组织)",
                "role": "member",
                "portfolio": "cadre_selection;case_support;power_oversight;education",
            },
            {"id": f"{org}/staff", "org_id": org, "title": "干部", "role": "staff"},
            {"id": f"{org}-JW/dis", "org_id": f"{org}-JW", "title": "纪委书记", "role": "discipline_secretary"},
        ]
    return rows


PERSONS = [
    {"id": f"p{i}", "name": name}
    for i, name in enumerate(
        ["", "张伟", "王芳", "李娜", "刘强", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴涛", "徐丽", "孙明"]
    )
    if i
]

TENURES = [
    {"person_id": "p1", "position_id": "T/sec", "start": "2018-01-01"},
    {"person_id": "p3", "position_id": "T/m1", "start": "2019-01"},  # month precision: 2019-01-01
    {"person_id": "p4", "position_id": "T-JW/dis", "start": "2017"},  # year precision
    {"person_id": "p5", "position_id": "T/dep", "start": "2019-01-01"},
    {"person_id": "p6", "position_id": "T/m2", "start": "2019-01-01"},
    {"person_id": "p7", "position_id": "T/staff", "start": "2019-05-01"},
    {"person_id": "p8", "position_id": "X/sec", "start": "2016-01-01"},
    {"person_id": "p9", "position_id": "X/m1", "start": "2016-01-01"},
    {"person_id": "p10", "position_id": "S/sec", "start": "2015-01-01"},
    {"person_id": "p11", "position_id": "S/m1", "start": "2015-01-01"},
    {"person_id": "p12", "position_id": "P/sec", "start": "2015-01-01"},
]

CHANGES = [
    {
        "id": "c1",
        "date": "2020-07-01",
        "kind": "promote",
        "person_id": "p1",
        "from_position_id": "T/sec",
        "to_position_id": "X/dep",
    },
    {"id": "c2", "date": "2020-07-01", "kind": "appoint", "person_id": "p2", "to_position_id": "T/sec"},
    {
        "id": "c3",
        "date": "2021-01-01",
        "kind": "transfer",
        "person_id": "p3",
        "from_position_id": "T/m1",
        "to_position_id": "T2/m1",
    },
    {"id": "c4", "date": "2021-06-01", "kind": "retire", "person_id": "p4", "from_position_id": "T-JW/dis"},
]

ACTIONS = [
    {
        "id": "a1",
        "date": "2019-06-01",
        "kind": "document",
        "from_org_id": "X",
        "to_org_id": "T",
        "category": "discipline",
    },
    {
        "id": "a2",
        "date": "2019-07-01",
        "kind": "meeting",
        "from_org_id": "S",
        "to_org_id": "X",
        "category": "discipline",
    },
    {
        "id": "a3",
        "date": "2019-08-01",
        "kind": "inspection",
        "from_org_id": "P",
        "to_org_id": "S",
        "category": "discipline",
    },
    {
        "id": "a4",
        "date": "2020-05-01",
        "kind": "inspection",
        "from_org_id": "X",
        "to_org_id": "T",
        "category": "work_style",
    },
    {
        "id": "a5",
        "date": "2018-01-01",
        "kind": "interview",
        "from_org_id": "X",
        "to_org_id": "T",
        "category": "discipline",
    },
]

CASES = [
    {
        "id": "K1",
        "org_id": "T",
        "category": "discipline",
        "start": "2020-03-01",
        "end": "2020-12-01",
        "violator_ids": "p7",
    },
    {"id": "K2", "org_id": "T2", "category": "cadre_selection", "start": "2021-03-01", "end": "2021-09-01"},
    {"id": "K3", "org_id": "T", "category": "discipline", "start": "2010-01-01", "end": "2010-06-01"},
]


def write(folder: Path) -> Path:
    return write_dataset(
        folder,
        organizations=ORGS,
        positions=_positions(),
        persons=PERSONS,
        tenures=TENURES,
        changes=CHANGES,
        actions=ACTIONS,
        cases=CASES,
    )
