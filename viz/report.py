"""The assessment report (``queries.indicators.assessment``) as a printable offline page with
its charts inline (SVG), a workbook of one sheet per table (openpyxl) and a Word file
(python-docx), the format offices file. Each presents the same tables; none computes."""

from __future__ import annotations

import io
import math
from html import escape
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from graph.errors import InvalidInput
from queries.indicators.assessment import Assessment
from viz.view import _environment

REPORT_FORMATS = ("html", "xlsx", "docx")
COLOURS = {"red": "#d73027", "yellow": "#fdae61", "green": "#1a9850", "not scored": "#bdbdbd"}


def tables(a: Assessment) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every table of the report, by sheet name: (columns, rows)."""
    score_columns = ["org", "name", "level", "kind", "score", "points", "share", "rank", "of", "warning"]
    scores = (
        [*score_columns, "veto", "previous", "change", "lost most"],
        [
            [
                *[s.org_id, s.org_name, s.level, s.kind, s.score, s.points, s.share, s.rank, s.of, s.warning],
                *[", ".join(s.vetoed_by), s.previous_share, s.change, ", ".join(s.lost_most)],
            ]
            for s in a.scores
        ],
    )
    indicators = (
        [
            *["org", "indicator", "name", "measure", "category", "value", "score", "points", "lost"],
            *["share of lost", "warning", "how"],
        ],
        [
            [
                *[s.org_id, i.id, f"{i.name_zh} {i.name_en}", i.measure, i.category, i.value, i.score, i.points],
                *[i.lost, i.lost_share, i.warning, i.how],
            ]
            for s in a.scores
            for i in s.indicators
        ],
    )
    lost = (
        ["indicator", "name", "points lost", "share", "organizations"],
        [[r.indicator, f"{r.name_zh} {r.name_en}", r.lost, r.share, r.organizations] for r in a.lost],
    )
    profile = (
        ["level", "organizations", "median", "mean", "fade from the level above"],
        [[r.level, r.orgs, r.median, r.mean, r.fade_ratio_from_above] for r in a.profile.levels],
    )
    trend = (["year", "received", "level median"], [[r.year, r.received, r.level_median] for r in a.trend])
    case_rows: list[list[Any]] = []
    for c in a.open_cases:  # a row per leader accountable (a case without one: a row of its own)
        head = [c.case_id, c.org_id, c.org_name, c.category, c.start, c.end]
        case_rows += [[*head, ld.role, ld.person_id, ld.name, ld.post_then, ld.now] for ld in c.leaders]
        case_rows += [] if c.leaders else [[*head, "", "", "", "", ""]]
    cases = (
        ["case", "org", "name", "category", "start", "end", "role", "person", "name", "post then", "now"],
        case_rows,
    )
    gaps = (
        ["kind", "org", "name", "detail", "ids"],
        [[g.kind, g.org_id, g.org_name, g.detail, ", ".join(g.ids)] for g in a.gaps],
    )
    return {
        "scores": scores,
        "indicators": indicators,
        "lost most": lost,
        "level profile": profile,
        "by year": trend,
        "open cases": cases,
        "gaps": gaps,
    }


# ---------------------------------------------------------------- charts (SVG)


def profile_svg(a: Assessment, width: int = 640) -> str:
    """The level profile: a bar per level (median received pressure), the fade from the level
    above written beside it, the steepest in red."""
    rows = a.profile.levels
    if not rows:
        return "<p>no level profile: no organization in the window</p>"
    top = max((r.median for r in rows), default=0.0) or 1.0
    steep = a.profile.steepest_fade.to_level if a.profile.steepest_fade else None
    bar, h = width - 300, 26
    parts = []
    for k, r in enumerate(rows):
        y = 10 + k * h
        w = bar * r.median / top
        fade = "" if r.fade_ratio_from_above is None else f"×{r.fade_ratio_from_above}"
        colour = "#d73027" if r.level == steep else "#4575b4"
        parts.append(
            f'<text x="0" y="{y + 17}" font-size="13">{escape(r.level)}</text>'
            f'<rect x="90" y="{y + 4}" width="{w:.1f}" height="{h - 8}" fill="{colour}"/>'
            f'<text x="{96 + w:.1f}" y="{y + 17}" font-size="12">{r.median} ({r.orgs})</text>'
            f'<text x="{width - 110}" y="{y + 17}" font-size="12" fill="{colour}">{fade}'
            f"{' steepest' if r.level == steep else ''}</text>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{20 + len(rows) * h}" '
        f'role="img" aria-label="level profile">{"".join(parts)}</svg>'
    )


def trend_svg(a: Assessment, width: int = 640, height: int = 220) -> str:
    """Received pressure per year: the organization's (a level: its median) and its level's median."""
    rows = a.trend
    values = [v for r in rows for v in (r.received, r.level_median) if v is not None]
    if len(rows) < 2 or not values:
        return "<p>no trend: fewer than two years of data</p>"
    top = max(values) or 1.0
    left, bottom, right, top_pad = 50, height - 30, width - 30, 10

    def x(i: int) -> float:
        return left + (right - left) * i / (len(rows) - 1)

    def y(v: float) -> float:
        return bottom - (bottom - top_pad) * v / top

    def line(key: str, colour: str, dash: str) -> str:
        points = [f"{x(i):.1f},{y(getattr(r, key)):.1f}" for i, r in enumerate(rows) if getattr(r, key) is not None]
        style = f'fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"'
        return f'<polyline {style} points="{" ".join(points)}"/>'

    ticks = "".join(
        f'<text x="{x(i):.1f}" y="{height - 10}" font-size="11" text-anchor="middle">{r.year}</text>'
        for i, r in enumerate(rows)
    )
    scale = "".join(
        f'<text x="{left - 6}" y="{y(top * f) + 4:.1f}" font-size="11" text-anchor="end">{top * f:.3g}</text>'
        f'<line x1="{left}" x2="{right}" y1="{y(top * f):.1f}" y2="{y(top * f):.1f}" stroke="#eee"/>'
        for f in (0, 0.5, 1)
    )
    legend = (
        f'<text x="{left + 10}" y="{top_pad + 12}" font-size="12" fill="#d73027">'
        f"{'this organization' if a.org_id else 'the level median'}</text>"
        f'<text x="{left + 170}" y="{top_pad + 12}" font-size="12" fill="#4575b4">its level median (dashed)</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" role="img" '
        f'aria-label="received pressure by year">{scale}{line("level_median", "#4575b4", "6 4")}'
        f"{line('received', '#d73027', '')}{ticks}{legend}</svg>"
    )


# ---------------------------------------------------------------- formats


def to_html(a: Assessment) -> str:
    """A page that prints (A4, the charts inline) and opens offline: no request leaves it."""
    return (
        _environment()
        .get_template("report.html.j2")
        .render(a=a, tables=tables(a), profile=profile_svg(a), trend=trend_svg(a), colours=COLOURS, number=_number)
    )


def to_xlsx(a: Assessment) -> bytes:
    """One sheet per table, a header row frozen and filtered, warnings coloured."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    about = book.create_sheet("report")
    for row in [
        ["title", a.title],
        ["scheme", f"{a.scheme}: {a.scheme_name}"],
        ["window", f"{a.window['from']} – {a.window['to']} (to exclusive)"],
        ["previous window", f"{a.previous_window['from']} – {a.previous_window['to']}" if a.previous_window else ""],
        ["as of", a.at],
        *[[f"organizations {k}", v] for k, v in a.warnings.items()],
    ]:
        about.append(row)
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 22, 80
    for name, (columns, rows) in tables(a).items():
        sheet = book.create_sheet(name)
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(v) for v in row])
        sheet.freeze_panes = "A2"
        if rows:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
        if "warning" in columns:
            k = columns.index("warning") + 1
            for r in range(2, len(rows) + 2):
                colour = COLOURS.get(str(sheet.cell(r, k).value))
                if colour:
                    sheet.cell(r, k).fill = PatternFill("solid", fgColor=colour.lstrip("#"))
        for k, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(k)].width = min(60, max(10, len(column) + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_docx(a: Assessment) -> bytes:
    """The report as a Word document: headings, the tables, and the charts as bars of text."""
    from docx import Document  # imported here: only a report reads it

    doc = Document()
    doc.add_heading(a.title, level=0)
    doc.add_paragraph(
        f"Scheme {a.scheme} ({a.scheme_name}); window {a.window['from']} – {a.window['to']} (exclusive); as of {a.at}. "
        + ", ".join(f"{n} {k}" for k, n in a.warnings.items())
    )
    everything = tables(a)
    charts = {"level profile": _bars(a.profile.levels, "median"), "by year": _bars(a.trend, "received")}
    for name, (columns, rows) in everything.items():
        doc.add_heading(name, level=1)
        if not rows:
            doc.add_paragraph("none")
            continue
        extra = name in charts
        table = doc.add_table(rows=1, cols=len(columns) + (1 if extra else 0))
        table.style = "Light Grid Accent 1"
        for cell, text in zip(table.rows[0].cells, [*columns, *(["chart"] if extra else [])], strict=True):
            cell.text = text
        for k, row in enumerate(rows):
            cells = table.add_row().cells
            for cell, value in zip(cells, [*row, *([charts[name][k]] if extra else [])], strict=True):
                cell.text = _number(value)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


MEDIA = {
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def render_report(a: Assessment, fmt: str) -> bytes:
    """The report in ``fmt``: html, xlsx or docx."""
    if fmt == "html":
        return to_html(a).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(a)
    if fmt == "docx":
        return to_docx(a)
    raise InvalidInput(f"unknown report format {fmt!r}: {', '.join(REPORT_FORMATS)}")


def report_format(out: Path) -> str:
    """The format a report file's name asks for (checked before the report is computed)."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in REPORT_FORMATS:
        raise InvalidInput(f"cannot write {out.name}: a report's file name ends in .html, .xlsx or .docx")
    return fmt


def write_report(a: Assessment, out: Path) -> Path:
    """Write the report by the file's suffix (.html, .xlsx, .docx); nothing half-written."""
    data = render_report(a, report_format(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out


def _bars(rows: list[Any], key: str) -> list[str]:
    values = [getattr(r, key) or 0.0 for r in rows]
    top = max(values, default=0.0) or 1.0
    return ["█" * max(0, math.ceil(20 * v / top)) for v in values]


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, int | float | str) else str(value)


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
