"""The column shape of the research datasets on Chinese political elites (CPED-style): a person
file (``姓名``, ``出生日期``, ``籍贯``, ``现状``, ``查处/罢黜时间``, ``最初查处单位``) and a career file
(a row per stint: person, unit, post, start, end), read as canonical rows
(``rtc load FOLDER --elite``; the recipe is in docs/interchange.md).

What the canonical files have no column for is kept: the status and the investigation
(``查处/罢黜时间``, ``最初查处单位``) as properties of the person, the other columns as
properties of their row. Dates may be day first (``DD/MM/YYYY``, as these datasets write them),
partial (``YYYY-00``) or say "still in office" (``9999-99``, ``至今``).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from graph.errors import InvalidInput
from loaders.dates import DAY_FIRST as DECLARED_DAY_FIRST
from loaders.dates import read_date
from loaders.interchange.common import Source, classify
from loaders.interchange.mapping import load_mapping
from loaders.readers import FileProblem, read_rows

Rows = list[tuple[Source, dict[str, Any]]]

# header -> what it is; the first name of each is the one the recipe documents
PERSON = {
    "编号": "id",
    "人员编号": "id",
    "姓名": "name",
    "性别": "gender",
    "出生日期": "birth",
    "出生年月": "birth",
    "出生年份": "birth",
    "籍贯": "native_place",
    "现状": "status",
    "查处/罢黜时间": "investigated_on",
    "查处时间": "investigated_on",
    "罢黜时间": "investigated_on",
    "最初查处单位": "investigated_by",
    "查处单位": "investigated_by",
}
CAREER = {
    "编号": "person_id",
    "人员编号": "person_id",
    "姓名": "name",
    "出生日期": "birth",
    "出生年月": "birth",
    "起始时间": "start",
    "开始时间": "start",
    "任职时间": "start",
    "终止时间": "end",
    "结束时间": "end",
    "离任时间": "end",
    "单位": "unit",
    "工作单位": "unit",
    "机构": "unit",
    "任职机构": "unit",
    "职务": "post",
    "职位": "post",
}
# These datasets write day-first dates: the header says so to the canonical date reader.
DAY_FIRST = "(DD/MM/YYYY)"
_SUFFIX = re.compile(r"\s*[(（][^)）]*[)）]\s*$")  # 李强(江苏省): the dataset's own disambiguation


def person_key(name: str, birth: str | None) -> str:
    """A person's id where the file gives none: the name as written (with the dataset's own
    suffix for namesakes) and the birth date, read, so two 李强 born apart stay two and the
    person and career files agree whatever form each writes the date in."""
    if not birth:
        return name
    try:
        read = read_date(birth, DECLARED_DAY_FIRST).text
    except (ValueError, InvalidInput):
        read = None  # the load names the bad birth date
    return f"{name}/{read or birth}"


def read_elite(folder: Path, report: Any, mapping: str | Path | None = None) -> dict[str, Rows]:
    """The canonical rows of a folder of elite-dataset files: each file is a person file or a
    career file by its headers (a career file has a start column)."""
    table = load_mapping(mapping)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".xlsx", ".jsonl"))
    persons: Rows = []
    careers: Rows = []
    for path in files:
        try:
            header, rows = read_rows(path)
            read = [((path.name, n), row) for n, row in rows]
        except FileProblem as exc:
            report.error((path.name, exc.row), None, None, exc.rule, str(exc))
            continue
        names = {h.strip() for h in header}
        if names & {h for h, c in CAREER.items() if c == "start"}:
            careers += read
        elif "姓名" in names:
            persons += read
        else:
            report.warn(
                (path.name, None),
                None,
                None,
                "unknown-file",
                "ignored: neither a person file (姓名) nor a career file (起始时间)",
            )
    if not persons and not careers:
        report.error(
            (str(folder), None), None, None, "no-dataset", "no person file (姓名) or career file (起始时间) here"
        )
    out_persons = [(src, _person(row) | {"source": _at(src)}) for src, row in persons]
    known = {r["id"] for _, r in out_persons}
    orgs: dict[str, tuple[Source, dict[str, Any]]] = {}
    posts: dict[str, tuple[Source, dict[str, Any]]] = {}
    tenures: Rows = []
    for src, raw in careers:
        row = _renamed(raw, CAREER)
        name = str(row.pop("name", "") or "").strip()
        birth = str(row.pop("birth", "") or "").strip() or None
        person = str(row.pop("person_id", "") or "").strip() or (person_key(name, birth) if name else "")
        if person and person not in known and name:  # a career file alone: its persons made from it
            known.add(person)
            made = {"id": person, "name": _SUFFIX.sub("", name) or name, f"birth{DAY_FIRST}": birth}
            out_persons.append((src, made | {"source": _at(src)}))
        unit, post = str(row.pop("unit", "") or "").strip(), str(row.pop("post", "") or "").strip()
        if unit and unit not in orgs:
            org = {"id": unit, "name": unit, "source": _at(src)}
            classify(org, None, src, report, table, column="unit")
            orgs[unit] = (src, org)
        position = f"{unit}#{post}" if unit and post else ""
        if position and position not in posts:
            made = {"id": position, "org_id": unit, "title": post, "role": table.role(post)}
            posts[position] = (src, made | {"source": _at(src)})
        dates = {f"start{DAY_FIRST}": row.pop("start", None), f"end{DAY_FIRST}": row.pop("end", None)}
        tenures.append((src, {"person_id": person, "position_id": position, **dates, **row, "source": _at(src)}))
    tables = {
        "organizations": list(orgs.values()),
        "positions": list(posts.values()),
        "persons": out_persons,
        "tenures": tenures,
    }
    return {k: v for k, v in tables.items() if v}


def _at(src: Source) -> str:
    """A record's source: the file and row it was read from."""
    return f"{src[0]}:{src[1]}"


def _renamed(raw: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A row with the recipe's headers as rtc's names (a suffix such as ``(YYYY-MM-DD)`` read
    past); any other column kept under its own header."""
    out: dict[str, Any] = {}
    for header, value in raw.items():
        key = header.strip()
        bare = _SUFFIX.sub("", key)
        out[names.get(key) or names.get(bare) or key] = value
    return out


def _person(raw: dict[str, Any]) -> dict[str, Any]:
    row = _renamed(raw, PERSON)
    name = str(row.get("name") or "").strip()
    birth = str(row.get("birth") or "").strip() or None
    row["id"] = str(row.get("id") or "").strip() or (person_key(name, birth) if name else "")
    row["name"] = _SUFFIX.sub("", name) or name
    if birth:
        row[f"birth{DAY_FIRST}"] = row.pop("birth")
    when = str(row.get("investigated_on") or "").strip()
    if when:  # kept as a property: read here, as the dataset writes its dates
        with contextlib.suppress(ValueError, InvalidInput):  # else kept as written: a property is never refused
            row["investigated_on"] = read_date(when, DECLARED_DAY_FIRST).text or when
    return row
