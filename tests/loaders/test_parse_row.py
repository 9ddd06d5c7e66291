"""A row of text cells (a CSV file) is read by a plan made once per header; any other row, and
any row the plan cannot read, by the generic path. Both must give the same record and tell the
report the same: the plan is only a shortcut."""

from __future__ import annotations

import random
from typing import Any

import pytest

from loaders.load import Report, _parse_any, parse_row

# Each entity's required columns (under one of their headers), then headers a file may add:
# other columns, an alias of a column given (two headers, one column), a declared date order,
# an unknown column (a property) and the rejects column.
HEADERS = {
    "tenures": (
        [["person_id", "人员"], ["position_id"], ["start", "任职时间(DD/MM/YYYY)"]],
        ["end", "离任时间", "remark", "_reject", "人员"],
    ),
    "actions": (
        [["id"], ["date", "日期"], ["kind"], ["from_org_id"], ["to_org_id"], ["category"]],
        ["by_org_id", "note", "日期"],
    ),
    "positions": ([["id"], ["org_id"], ["title"], ["role"]], ["rank", "portfolio", "分管", "extra"]),
    "persons": ([["id"], ["name", "姓名"]], ["birth", "出生日期", "gender", "aliases", "姓名"]),
}
DATES = ["2003", "2003-06-01", "2003.6", "01/02/2003", "2003-00", "不详", "至今", "2003-13-01", "1999", "", " "]
TEXT = ["x1", " P1 ", "", "  "]
CELLS = {
    **dict.fromkeys(["start", "任职时间(DD/MM/YYYY)", "end", "离任时间", "date", "日期", "birth", "出生日期"], DATES),
    "kind": ["inspection", "meeting", "talk"],
    "category": ["discipline", "finance", "bogus"],
    "role": ["secretary", "boss"],
    "rank": ["12", "twelve", ""],
    "portfolio": ["discipline;finance", "discipline", "nope", ""],
    "分管": ["discipline", ""],
}


def _told(report: Report) -> Any:
    return report.errors, report.date_forms, report.error_count


@pytest.mark.parametrize("entity", sorted(HEADERS))
def test_the_plan_reads_a_row_as_the_generic_path_does(entity: str) -> None:
    rng = random.Random(entity)
    required, optional = HEADERS[entity]
    planned_rows = 0
    for _ in range(3000):
        header = [rng.choice(names) for names in required]
        more = [h for h in optional if h not in header]
        header += rng.sample(more, rng.randint(0, min(3, len(more))))
        rng.shuffle(header)
        raw = {h: rng.choice(CELLS.get(h, TEXT)) for h in header}
        planned, generic = Report(source="t"), Report(source="t")
        rec = parse_row(entity, ("f.csv", 2), raw, planned)
        assert rec == _parse_any(entity, ("f.csv", 2), raw, generic), raw
        assert _told(planned) == _told(generic), raw
        planned_rows += rec is not None
    assert planned_rows > 50  # enough rows the plan reads to the end


def test_a_row_of_other_values_takes_the_generic_path() -> None:
    report = Report(source="t")
    rec = parse_row(
        "positions", ("f.jsonl", 1), {"id": "P", "org_id": "O", "title": "t", "role": "staff", "rank": 3}, report
    )
    assert rec is not None and rec["rank"] == 3 and report.ok
