"""The assessment report: its tables are the queries' answers, and the workbook and the Word
file open again with what the page shows (openpyxl, python-docx)."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from openpyxl import load_workbook

from graph.errors import InvalidInput
from graph.store import Store
from queries.findings import gaps
from queries.indicators.assessment import assessment
from queries.indicators.scheme import parse_scheme
from queries.indicators.scores import scores
from queries.pressure import level_profile, pressure
from queries.window import Window
from tests.queries.test_indicators import TWO
from viz.report import render_report, tables

Y2020 = Window.of("2020-01-01", "2021-01-01")


def test_the_report_tables_are_the_queries_answers(scenario_store: Store) -> None:
    a = assessment(scenario_store, parse_scheme(TWO), Y2020, org_id="T")
    expected = scores(scenario_store, parse_scheme(TWO), Y2020, org_ids=["T"])
    assert a.scores == expected.organizations and a.warnings == {"green": 1}
    assert a.profile == level_profile(pressure(scenario_store, Y2020), ["T"])
    assert a.gaps == gaps(scenario_store, "2020-12-31", ["T"])
    # K1 (2020, discipline) has no leader held: its first and portfolio leaders, and where they are now
    # (K3, of 2010, is open too: nobody is on record as its leaders)
    assert [(c.case_id, len(c.leaders) > 0) for c in a.open_cases] == [("K1", True), ("K3", False)]
    leaders = {(ld.role, ld.person_id, ld.now) for ld in a.open_cases[0].leaders}
    assert ("first", "p1", "某县委 副书记") in leaders and ("first", "p2", "甲镇党委 书记") in leaders
    assert ("portfolio", "p3", "甲镇党委 委员(纪律)") in leaders
    # 2020: T received a4 (1.0); the years without any action are no data
    by_year = {r.year: r.received for r in a.trend}
    assert by_year[2020] == 1.0 and by_year[2017] is None
    with pytest.raises(InvalidInput, match="one organization or of one level"):
        assessment(scenario_store, parse_scheme(TWO), Y2020)
    with pytest.raises(InvalidInput, match="cannot be empty"):  # GET /reports?org= once answered 500
        assessment(scenario_store, parse_scheme(TWO), Y2020, org_id="")


def test_the_workbook_and_the_word_file_open_again(scenario_store: Store) -> None:
    a = assessment(scenario_store, parse_scheme(TWO), Y2020, level="township")
    want = tables(a)
    book = load_workbook(io.BytesIO(render_report(a, "xlsx")))
    assert book.sheetnames == ["report", *want]
    for name, (columns, rows) in want.items():
        got = [list(r) for r in book[name].iter_rows(values_only=True)]
        assert got[0] == columns and len(got) == len(rows) + 1
    assert [r[0] for r in book["scores"].iter_rows(min_row=2, values_only=True)] == [s.org_id for s in a.scores]
    assert book["scores"].auto_filter.ref and book["scores"].freeze_panes == "A2"
    doc = Document(io.BytesIO(render_report(a, "docx")))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == list(want)
    scores_table = doc.tables[0]
    assert [c.text for c in scores_table.rows[0].cells][:3] == ["org", "name", "level"]
    assert [r.cells[0].text for r in scores_table.rows[1:]] == [s.org_id for s in a.scores]


def test_the_page_prints_offline_with_its_charts(scenario_store: Store) -> None:
    a = assessment(scenario_store, parse_scheme(TWO), Y2020, org_id="T")
    page = render_report(a, "html").decode()
    assert page.count("<svg") == 2 and "default-src 'none'" in page
    assert not re.search(r"\b(src|href)=", page)  # nothing to fetch: it opens and prints offline
    assert 'data-table="open cases"' in page and "K1" in page
