"""Dates as real sources write them: read into the stored form with their precision, each
form counted, unknown and still-in-office told apart, and anything else refused by name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.errors import InvalidInput
from graph.factory import open_store
from loaders import dates
from loaders.dates import read_date
from loaders.load import load_dataset
from tests.helpers import write_csv


@pytest.mark.parametrize(
    ("given_", "stored", "form"),
    [
        ("2003", "2003", dates.ISO),
        ("2003-06", "2003-06", dates.ISO),
        ("2003-06-01", "2003-06-01", dates.ISO),
        ("2003-00", "2003", dates.MONTH_UNKNOWN),
        ("2003-00-00", "2003", dates.MONTH_UNKNOWN),
        ("2003-06-00", "2003-06", dates.DAY_UNKNOWN),
        ("2003.06", "2003-06", dates.DOTTED),
        ("2003.6", "2003-06", dates.DOTTED),
        ("2003.06.01", "2003-06-01", dates.DOTTED),
        ("2003/6/1", "2003-06-01", dates.SLASHED),
        ("2003/06", "2003-06", dates.SLASHED),
        ("2003-6-1", "2003-06-01", dates.ISO),
        ("2003年6月", "2003-06", dates.CHINESE),
        ("2003年6月1日", "2003-06-01", dates.CHINESE),
        ("2003年", "2003", dates.CHINESE),
        ("200306", "2003-06", dates.COMPACT),
        ("20030601", "2003-06-01", dates.COMPACT),
        ("不详", None, dates.UNKNOWN),
        ("0000-00", None, dates.UNKNOWN),
        ("未知", None, dates.UNKNOWN),
        ("至今", None, dates.STILL),
        ("今", None, dates.STILL),
        ("9999-99", None, dates.STILL),
        ("9999/99", None, dates.STILL),
        (" 2003.06 ", "2003-06", dates.DOTTED),
    ],
)
def test_the_forms_of_real_sources(given_: str, stored: str | None, form: str) -> None:
    read = read_date(given_)
    assert (read.text, read.form) == (stored, form)


def test_day_and_month_order_only_when_the_header_declares_it() -> None:
    with pytest.raises(InvalidInput, match="declare the order"):
        read_date("01/06/2003")
    assert read_date("01/06/2003", dates.DAY_FIRST).text == "2003-06-01"
    assert read_date("01/06/2003", dates.MONTH_FIRST).text == "2003-01-06"


@pytest.mark.parametrize("bad", ["2003-13", "2003-02-30", "June 2003", "03", "2003-06-01T00:00", "2003-00-05"])
def test_what_is_no_date_is_refused_with_the_forms_read(bad: str) -> None:
    with pytest.raises(InvalidInput, match="not a date"):
        read_date(bad)


@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_every_form_of_a_day_reads_as_that_day(day: dt.date) -> None:
    iso = day.isoformat()
    for text in (
        iso,
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}{day.month:02d}{day.day:02d}",
    ):
        assert read_date(text).text == iso


def test_last_day_of_a_date_of_each_precision() -> None:
    assert dates.last_day("2004") == dt.date(2004, 12, 31).toordinal()
    assert dates.last_day("2004-02") == dt.date(2004, 2, 29).toordinal()
    assert dates.last_day("2004-12") == dt.date(2004, 12, 31).toordinal()
    assert dates.last_day("2004-10-05") == dt.date(2004, 10, 5).toordinal()


def _dataset(folder: Path, tenures: list[dict[str, str]], persons_header: str = "birth") -> Path:
    folder.mkdir()
    write_csv(folder / "organizations.csv", [{"id": "P", "name": "省", "kind": "committee", "level": "province"}])
    write_csv(
        folder / "positions.csv",
        [
            {"id": "P/sec", "org_id": "P", "title": "书记", "role": "secretary"},
            {"id": "P/st", "org_id": "P", "title": "干部", "role": "staff"},
        ],
    )
    write_csv(
        folder / "persons.csv",
        [{"id": f"u{i}", "name": f"人{i}", persons_header: b} for i, b in enumerate(["1950.03", "不详", "1955年"])],
    )
    write_csv(folder / "tenures.csv", tenures)
    return folder


def test_a_load_reads_each_form_and_counts_it(tmp_path: Path) -> None:
    folder = _dataset(
        tmp_path / "d",
        [
            {"person_id": "u0", "position_id": "P/sec", "start": "1998.06", "end": "2003年2月"},
            {"person_id": "u1", "position_id": "P/sec", "start": "2003-00", "end": "至今"},
            {"person_id": "u2", "position_id": "P/st", "start": "200106", "end": "9999-99"},
        ],
    )
    store = open_store(f"embedded://{tmp_path / 's'}")
    report = load_dataset(store, folder)
    assert report.ok, report.errors
    assert report.date_forms["tenures.start"] == {dates.DOTTED: 1, dates.MONTH_UNKNOWN: 1, dates.COMPACT: 1}
    assert report.date_forms["tenures.end"] == {dates.CHINESE: 1, dates.STILL: 2}
    assert report.date_forms["persons.birth"] == {dates.DOTTED: 1, dates.UNKNOWN: 1, dates.CHINESE: 1}
    people = store.get_persons(["u0", "u1", "u2"])
    assert [people[p].birth for p in ("u0", "u1", "u2")] == ["1950-03", None, "1955"]
    held = {t.person_id: (t.start, t.end) for t in store.tenures(position_ids=["P/sec", "P/st"])}
    assert held == {"u0": ("1998-06", "2003-02"), "u1": ("2003", None), "u2": ("2001-06", None)}


def test_still_in_office_only_in_an_end_and_an_unknown_start_is_an_error(tmp_path: Path) -> None:
    folder = _dataset(
        tmp_path / "d",
        [
            {"person_id": "u0", "position_id": "P/sec", "start": "至今", "end": ""},
            {"person_id": "u1", "position_id": "P/st", "start": "不详", "end": ""},
        ],
    )
    report = load_dataset(open_store(f"embedded://{tmp_path / 's'}"), folder)
    found = {(e.row, e.column, e.rule) for e in report.errors}
    assert found == {(2, "start", "bad-date"), (3, "start", "missing-field")}
    assert "only an end" in str(report.errors[0]) and "unknown" in str(report.errors[1])


def test_a_header_with_a_suffix_is_read_and_one_that_looks_known_is_warned(tmp_path: Path) -> None:
    """出生日期(YYYY-MM-DD) was kept as an unknown property, losing every birth date."""
    folder = _dataset(
        tmp_path / "d",
        [{"person_id": "u0", "position_id": "P/sec", "start": "2001", "end": ""}],
        persons_header="出生日期(YYYY-MM-DD)",
    )
    store = open_store(f"embedded://{tmp_path / 's'}")
    report = load_dataset(store, folder)
    assert report.ok, report.errors
    assert store.get_persons(["u0"])["u0"].birth == "1950-03"
    assert [w.rule for w in report.warnings] == ["header-read"]

    other = _dataset(
        tmp_path / "e",
        [{"person_id": "u0", "position_id": "P/sec", "start": "2001", "end": ""}],
        persons_header="出生日期时间",
    )
    report = load_dataset(open_store(f"embedded://{tmp_path / 't'}"), other, dry_run=True)
    warned = [w for w in report.warnings if w.rule == "unknown-column"]
    assert len(warned) == 1 and "出生日期" in warned[0].message and "birth" in warned[0].message


def test_a_header_declares_the_day_first_order(tmp_path: Path) -> None:
    folder = _dataset(
        tmp_path / "d",
        [{"person_id": "u0", "position_id": "P/sec", "start（DD/MM/YYYY）": "01/06/2003", "end": ""}],
    )
    store = open_store(f"embedded://{tmp_path / 's'}")
    report = load_dataset(store, folder)
    assert report.ok, report.errors
    assert [t.start for t in store.tenures(person_ids=["u0"])] == ["2003-06-01"]
    assert report.date_forms["tenures.start"] == {dates.DAY_FIRST: 1}


@pytest.mark.parametrize(
    ("first_end", "second_start", "rule"),
    [
        ("2004-10", "2004", "uncertain-handover"),  # the successor may have come in November
        ("2004-10-15", "2004-10", "uncertain-handover"),
        ("2004-10-15", "2004-10-01", "overlapping-tenure"),  # both to the day: a real overlap
        ("2005-03", "2004", "overlapping-tenure"),  # 2004 ends before 2005-03 whatever its month
    ],
)
def test_an_overlap_within_the_imprecision_is_a_warning(
    tmp_path: Path, first_end: str, second_start: str, rule: str
) -> None:
    folder = _dataset(
        tmp_path / "d",
        [
            {"person_id": "u0", "position_id": "P/sec", "start": "1999", "end": first_end},
            {"person_id": "u1", "position_id": "P/sec", "start": second_start, "end": ""},
        ],
    )
    store = open_store(f"embedded://{tmp_path / 's'}")
    report = load_dataset(store, folder)
    found = [f.rule for f in [*report.errors, *report.warnings] if f.rule != "header-read"]
    assert found == [rule]
    if rule == "uncertain-handover":
        assert report.ok and {t.end for t in store.tenures(position_ids=["P/sec"])} == {first_end, None}


# the last start leaves room for a 400-day tenure before Python's last date
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9998, 1, 1)), st.integers(1, 400), st.integers(1, 400))
def test_day_precise_overlaps_are_never_uncertain(start: dt.date, length: int, into: int) -> None:
    from graph.model import Tenure, uncertain_overlap

    opened = {"opened_by": "tenure-row", "open_kind": "tenure-row"}
    end = start + dt.timedelta(days=length)
    later = start + dt.timedelta(days=min(into, length - 1) if length > 1 else 0)
    a = Tenure(id="a", person_id="x", position_id="p", start=start.isoformat(), end=end.isoformat(), **opened)
    b = Tenure(id="b", person_id="y", position_id="p", start=later.isoformat(), end=None, **opened)
    assert not uncertain_overlap(a, b) and not uncertain_overlap(b, a)
