"""A load's report as JSON (`rtc load --json`, `--report-file`)."""

from __future__ import annotations

from typing import Any

from loaders.load import Report


class _Uncopyable:
    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        raise AssertionError("copied")


def test_the_report_as_a_dict_never_copies_what_it_leaves_out() -> None:
    # new_changes holds every change an import adds (367,514 on the province): copied then
    # dropped, it cost seconds a call
    report = Report(source="d")
    report.error(("persons.csv", 3), "birth", "1999-13-01", "date", "not a date")
    report.new_changes = [{"id": "C1", "note": _Uncopyable()}]
    out = report.to_dict()
    assert "new_changes" not in out and "failed" not in out
    assert out["ok"] is False and out["errors"][0]["row"] == 3 and out["error_count"] == 1
    assert set(out) == {f for f in Report.__dataclass_fields__ if f not in ("failed", "new_changes")} | {"ok"}
