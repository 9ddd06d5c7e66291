"""Validate a dataset against docs/input-format.md and write it as one batch.

Every problem is reported with file, row, column, value and rule; a batch with any
error writes nothing. The same file loaded twice changes nothing: a record whose id
is stored with the same content is skipped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache, partial
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

from graph.errors import InvalidInput
from graph.model import (
    OPEN_END,
    ChangeKind,
    LabelledEnum,
    Level,
    Organization,
    Role,
    Tenure,
    dates_agree,
    default_rank,
    double_post_pairs,
    from_ordinal,
    to_ordinal,
    uncertain_overlap,
)
from graph.store import Batch, Store, gc_paused
from loaders.dates import read_date
from loaders.identity import resolve
from loaders.interchange.common import stored_rows
from loaders.interchange.elite import read_elite
from loaders.interchange.read import file_format, interchange_files, is_interchange, read_interchange, read_whole
from loaders.readers import FileProblem, read_rows
from loaders.rejects import check_rejects_folder, write_rejects
from loaders.schema import EXTENSIONS, FILES, INTERVALS, ORDER, REJECT_COLUMN, Column, Headers, headers
from loaders.tenures import derive_person, overlaps

MAX_ERRORS = 1000
NO_ROWS = "the file has a header but no data rows: add rows or remove the file"
Source = tuple[str, int | None]  # (file name, row number)


@dataclass
class Finding:
    """One error or warning, placed in the input."""

    severity: str  # error | warning
    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        place = self.file + (f", row {self.row}" if self.row is not None else "")
        col = f", column {self.column}" if self.column else ""
        val = f" (value {self.value!r})" if self.value not in (None, "") else ""
        return f"{place}{col}{val}: [{self.rule}] {self.message}"


@dataclass
class Report:
    """The outcome of one import: counts per file and every finding (errors capped)."""

    source: str
    dry_run: bool = False
    written: bool = False
    error_count: int = 0
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    date_forms: dict[str, dict[str, int]] = field(default_factory=dict)  # "file.column" -> form -> values
    # A tolerant load: the rows set aside, each with its first error, and how many a file
    # (rows read = rows loaded + rows set aside, always).
    rejects: list[Finding] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)
    rejects_written: list[str] = field(default_factory=list)  # the rejects files
    failed: dict[Source, Finding] = field(default_factory=dict, repr=False)
    tenures_derived: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    max_errors: int = MAX_ERRORS
    # the personnel changes this import adds, for the caller to check (queries.indicators.alerts;
    # records as parsed, their place in the input under ``_src``), and the alerts it found
    # (docs/indicators.md)
    new_changes: list[dict[str, Any]] = field(default_factory=list, repr=False)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, src: Source, column: str | None, value: Any, rule: str, message: str) -> None:
        self.error_count += 1
        finding = Finding("error", src[0], src[1], column, _text(value), rule, message)
        if len(self.errors) < self.max_errors:
            self.errors.append(finding)
        self.failed.setdefault(src, finding)  # every one, for a tolerant load to set its row aside

    def warn(self, src: Source, column: str | None, value: Any, rule: str, message: str) -> None:
        if len(self.warnings) < self.max_errors:
            self.warnings.append(Finding("warning", src[0], src[1], column, _text(value), rule, message))

    def count(self, entity: str, what: str, n: int = 1) -> None:
        bucket = self.counts.setdefault(entity, {"read": 0, "new": 0, "unchanged": 0, "updated": 0})
        bucket[what] += n

    def lap(self, phase: str, since: float) -> float:
        """Record the seconds spent in ``phase`` since ``since``; return now."""
        now = time.perf_counter()
        self.phases[phase] = round(self.phases.get(phase, 0.0) + now - since, 3)
        return now

    def to_dict(self) -> dict[str, Any]:
        # emptied first: asdict deep-copies, and new_changes holds every change an import adds
        out = asdict(dataclasses.replace(self, failed={}, new_changes=[]))
        del out["failed"], out["new_changes"]
        out["ok"] = self.ok
        return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------- reading files


def find_files(folder: Path, report: Report) -> dict[str, Path]:
    """Map each entity to its file in ``folder``; unknown files are warned about."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        report.error((str(folder), None), None, None, "no-folder", "not a folder: a dataset is a folder of files")
        return found
    interchange = False  # its Popolo and FtM files are read by read_interchange
    for path in sorted(folder.iterdir()):
        stem, suffix = path.stem, path.suffix.lower()
        if is_interchange(path.name):
            interchange = True
            continue
        if path.name in ("truth.json",) or path.name.startswith("."):
            continue
        if stem not in FILES or suffix not in EXTENSIONS:
            report.warn(
                (path.name, None),
                None,
                None,
                "unknown-file",
                f"ignored: expected one of {', '.join(ORDER)} with {', '.join(EXTENSIONS)}",
            )
            continue
        if stem in found:
            report.error(
                (path.name, None),
                None,
                None,
                "duplicate-file",
                f"two files for {stem}: {found[stem].name} and {path.name}; keep one",
            )
            continue
        found[stem] = path
    if not found and not interchange and report.ok:  # loading nothing would say "nothing new", as if all were stored
        report.error(
            (str(folder), None),
            None,
            None,
            "no-dataset",
            f"no dataset file here: expected files named like {', '.join(ORDER[:3])}... with {', '.join(EXTENSIONS)}",
        )
    return found


RawRows = dict[str, list[tuple[Source, dict[str, Any]]]]
# What ``prepare`` reads: each file's rows, read once, first to last (a streamed load's chunk
# makes each row a dict only as it is read: ``loaders.stream``).
Rows = Mapping[str, Iterable[tuple[Source, dict[str, Any]]]]


def read_folder(folder: Path, report: Report, mapping: str | Path | None = None, *, elite: bool = False) -> RawRows:
    """Read every file of a dataset folder into raw rows keyed by entity: its canonical files,
    and its Popolo and FollowTheMoney files, or such a file given alone; ``elite``: a folder of
    files in the elite-dataset column shape (``mapping``: the table of these formats' words to
    rtc's, docs/interchange.md)."""
    if elite:
        if not folder.is_dir():
            report.error((str(folder), None), None, None, "no-folder", "not a folder: --elite reads a folder of files")
            return {}
        return read_elite(folder, report, mapping)
    if folder.is_file() and file_format(folder):
        return read_interchange([folder], report, mapping)
    tables: RawRows = {}
    for entity, path in find_files(folder, report).items():
        try:
            header, rows = read_rows(path)
            tables[entity] = [((path.name, number), row) for number, row in rows]
        except FileProblem as exc:
            report.error((path.name, exc.row), None, None, exc.rule, str(exc))
            continue
        check_header(entity, path.name, header, report)
        if not tables[entity]:
            report.error(
                (path.name, None),
                None,
                None,
                "no-rows",
                NO_ROWS,
            )
    if folder.is_dir() and (others := interchange_files(folder)):
        for entity, read in read_interchange(others, report, mapping).items():
            tables[entity] = [*tables.get(entity, []), *read]
    return tables


class FileRows:
    """One file's rows, read as they are parsed (``read_folder_once``), then ``then``'s. A
    problem met on the way (a malformed line, a byte that does not decode) is reported where it
    is met and ends the file; so is a file with no row. ``broken`` then tells ``prepare``."""

    def __init__(self, name: str, rows: Iterator[tuple[int, dict[str, Any]]], report: Report) -> None:
        self.name, self._rows, self._report = name, rows, report
        self.then: list[tuple[Source, dict[str, Any]]] = []
        self.broken = False

    def __iter__(self) -> Iterator[tuple[Source, dict[str, Any]]]:
        name, read = self.name, 0
        try:
            for number, row in self._rows:
                read += 1
                yield (name, number), row
        except FileProblem as exc:
            self.broken = True
            self._report.error((name, exc.row), None, None, exc.rule, str(exc))
        if not read and not self.broken:
            self.broken = True
            self._report.error((name, None), None, None, "no-rows", NO_ROWS)
        yield from self.then


def read_folder_once(folder: Path, report: Report, mapping: str | Path | None = None) -> Rows:
    """``read_folder`` for one reading: each canonical file's rows are read as ``prepare``
    parses them (``FileRows``), so that the raw rows of every file are never held at once (a
    province's took 1.1 GB, more than its records: docs/performance.md). A file's encoding and
    header are checked here, before any row is parsed."""
    if not folder.is_dir():  # a Popolo or FollowTheMoney file, or no folder: read_folder says
        return read_folder(folder, report, mapping)
    tables: dict[str, FileRows] = {}
    for entity, path in find_files(folder, report).items():
        try:
            header, rows = read_rows(path)
        except FileProblem as exc:
            report.error((path.name, exc.row), None, None, exc.rule, str(exc))
            continue
        check_header(entity, path.name, header, report)
        tables[entity] = FileRows(path.name, rows, report)
    if others := interchange_files(folder):
        out: dict[str, Iterable[tuple[Source, dict[str, Any]]]] = dict(tables)
        for entity, read in read_interchange(others, report, mapping).items():
            if entity in tables:
                tables[entity].then = read
            else:
                out[entity] = read
        return out
    return tables


def check_header(entity: str, name: str, header: list[str], report: Report) -> None:
    """Required columns present; a header read through its suffix said, and one that rtc does
    not know but looks like one it does warned of (its values would be kept as a property)."""
    known = headers(entity)
    present = {c for h in header if (c := known.column(h))}
    for h in header:
        if h in known.suffixed:
            order = f", dates read as {known.orders[h]}" if h in known.orders else ""
            report.warn(
                (name, 1), known.suffixed[h], h, "header-read", f"header {h!r} read as {known.suffixed[h]}{order}"
            )
        elif (like := known.unknown_like_known(h)) is not None:
            report.warn(
                (name, 1),
                None,
                h,
                "unknown-column",
                f"column {h!r} is not one rtc knows, but looks like {like!r} ({known.column(like)}): its values "
                f"are kept as a property, not read as {known.column(like)}. Rename the header if it is that column",
            )
    for col in FILES[entity]:
        if col.required and col.name not in present:
            aliases = f" (or {', '.join(col.aliases)})" if col.aliases else ""
            report.error(
                (name, 1),
                col.name,
                None,
                "missing-column",
                f"required column {col.name}{aliases} is missing; the header has: {', '.join(header)}",
            )


# ---------------------------------------------------------------- parsing rows


# The props of every record without properties (most): one dict, not 64 bytes a record (81 MB
# of a province's load). Nothing changes a record's props in place; a change makes a new dict.
NO_PROPS: dict[str, Any] = {}


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p.strip() for p in str(value).replace("；", ";").split(";") if p.strip()]


@lru_cache
def _columns(entity: str) -> tuple[tuple[str, Column, str], ...]:
    """Each column with how its value is read: ``str`` (stripped), ``date`` or ``other``."""
    return tuple((c.name, c, c.datatype if c.datatype in ("str", "date") else "other") for c in FILES[entity])


@dataclass(frozen=True)
class _Plan:
    """How the rows under one header are read when every cell is text (a CSV file, 39 million
    rows in a nation): each header's column and reading, resolved once."""

    # header, column, reading, order, forms key, and whether equal values share one object
    cells: tuple[tuple[str, str, Column, str, str | None, str, bool], ...]
    props: tuple[str, ...]  # headers kept as properties
    absent: tuple[tuple[str, Any], ...]  # columns no header gives, and their empty value
    required_absent: bool


@lru_cache(maxsize=256)
def _plan(entity: str, header: tuple[str, ...]) -> _Plan | None:
    """The plan of a header; None where two headers give one column (the generic path decides)."""
    known = headers(entity)
    cells, props, given = [], [], set()
    columns = {name: (col, read) for name, col, read in _columns(entity)}
    for key in header:
        name = known.column(key)
        if name is None:
            if key != REJECT_COLUMN:
                props.append(key)
            continue
        if name in given:
            return None
        given.add(name)
        col, read = columns[name]
        cells.append((key, name, col, read, known.orders.get(key), f"{entity}.{name}", col.repeats))
    absent = [(n, () if c.datatype in ("list", "enumlist") else None) for n, c, _ in _columns(entity) if n not in given]
    required = any(c.required for n, c, _ in _columns(entity) if n not in given)
    return _Plan(tuple(cells), tuple(props), tuple(absent), required)


def parse_row(
    entity: str, src: Source, raw: dict[str, Any], report: Report, shared: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """One raw row to a normalized record, or None (with errors reported). ``shared``: the
    values already read (a load's), each kept once (``_parse_text``)."""
    plan = _plan(entity, tuple(raw))
    if plan is not None and not plan.required_absent:
        out = _parse_text(entity, plan, raw, report, {} if shared is None else shared)
        if out is not None:
            out["_src"] = src
            return out
    return _parse_any(entity, src, raw, report)


def _parse_text(
    entity: str, plan: _Plan, raw: dict[str, Any], report: Report, shared: dict[str, str]
) -> dict[str, Any] | None:
    """``parse_row`` of a row whose cells are all text and valid; None (nothing reported) for
    any other, which ``_parse_any`` then reads and reports. A value of a column whose values
    repeat (``Column.repeats``: references, dates, titles) is kept once in ``shared``: 476,088
    actions name 14,799 organizations, and a province's load peaked 0.21 GiB lower so, for 1.0 s
    more of parsing; names and descriptions, nearly all distinct, are not (docs/performance.md)."""
    out: dict[str, Any] = {}
    forms: list[tuple[str, str]] = []
    for key, name, col, read, order, forms_key, share in plan.cells:
        value = raw[key]
        if type(value) is not str:
            return None
        if not value or value.isspace():
            if col.required:
                return None
            out[name] = () if col.datatype in ("list", "enumlist") else None
        elif read == "str":
            value = value.strip()
            out[name] = shared.setdefault(value, value) if share else value
        elif read == "date":
            try:
                date = read_date(value, order)
            except ValueError:
                return None
            if (date.text is None and col.required) or (date.still_in_office and (entity, name) not in ENDS):
                return None
            out[name] = shared.setdefault(date.text, date.text) if share and date.text is not None else date.text
            forms.append((forms_key, date.form))
        else:
            try:
                out[name] = _convert(col, value)
            except ValueError:
                return None
    for name, empty in plan.absent:
        out[name] = empty
    if entity in INTERVALS:
        start, end = INTERVALS[entity]
        if out.get(start) and out.get(end) and to_ordinal(out[end]) < to_ordinal(out[start]):
            return None
    if entity == "actions" and not out.get("by_org_id"):
        out["by_org_id"] = out["from_org_id"]
    props = {}
    for key in plan.props:
        value = raw[key]
        if type(value) is not str:
            return None
        if value and not value.isspace():
            props[key] = value.strip()
    out["props"] = props or NO_PROPS
    for forms_key, form in forms:  # the row is read: only now is the report told
        counted = report.date_forms.setdefault(forms_key, {})
        counted[form] = counted.get(form, 0) + 1
    return out


def _parse_any(entity: str, src: Source, raw: dict[str, Any], report: Report) -> dict[str, Any] | None:
    """``parse_row`` of any row: cells of any type, errors reported."""
    known = headers(entity)
    names, orders = known.names, known.orders
    props: dict[str, Any] = {}
    out: dict[str, Any] = {}
    declared: dict[str, str] = {}  # column -> the date order its header declared
    nested: set[str] = set()  # columns already reported: not reported missing as well
    for key, value in raw.items():
        if type(value) is str:  # a CSV or Excel cell: the common case, kept short
            if not value or value.isspace():
                continue
        elif value is None or (isinstance(value, str) and not value.strip()):
            continue
        name = names[key] if key in names else known.column(key)
        if orders and key in orders and name:
            declared[name] = orders[key]
        if type(value) is not str and (
            isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict | list) for v in value))
        ):
            # a JSON Lines object inside a record: str() would store Python's repr of it
            report.error(src, name or key, value, "nested-value", "a nested JSON object is not a value: flatten it")
            nested.add(name or key)
            continue
        if name is None:
            if key != REJECT_COLUMN:
                props[key] = value.strip() if isinstance(value, str) else value
        else:
            out[name] = value
    ok = not nested
    for name, col, read in _columns(entity):
        if nested and name in nested:
            continue
        value = out.get(name)
        if value is None:
            if col.required:
                report.error(src, name, "", "missing-field", f"required field {name} is empty")
                ok = False
            out[name] = () if col.datatype in ("list", "enumlist") else None
        elif read == "str" and isinstance(value, str):
            out[name] = value.strip()
        elif read == "date":
            try:
                value = out[name] = _read_date(entity, name, value, declared.get(name), report)
            except ValueError as exc:
                report.error(src, name, value, "bad-date", str(exc))
                ok = False
                continue
            if value is None and col.required:
                report.error(src, name, raw_value(raw, known, name), "missing-field", f"{name} is unknown")
                ok = False
        else:
            try:
                out[name] = _convert(col, value)
            except ValueError as exc:
                report.error(src, name, value, f"bad-{col.datatype}", str(exc))
                ok = False
    if ok and entity in INTERVALS:
        start, end = INTERVALS[entity]
        if out.get(start) and out.get(end) and to_ordinal(out[end]) < to_ordinal(out[start]):
            report.error(src, end, out[end], "end-before-start", f"{end} {out[end]} is before {start} {out[start]}")
            ok = False
    if entity == "actions" and ok and not out.get("by_org_id"):
        out["by_org_id"] = out["from_org_id"]
    out["props"] = props or NO_PROPS
    out["_src"] = src
    return out if ok else None


# The columns that may say "still in office" (至今, 9999-99): the ends of intervals.
ENDS = {(entity, end) for entity, (_, end) in INTERVALS.items()}


def _read_date(entity: str, column: str, value: Any, declared: str | None, report: Report) -> str | None:
    """A date column's value in its stored form (None: unknown, or an open end), its form
    counted in the report."""
    if isinstance(value, list):
        raise ValueError("a JSON list is not a value for this column: give one value")
    read = read_date(str(value), declared)
    if read.still_in_office and (entity, column) not in ENDS:
        raise InvalidInput(f"{value!r} means still in office, which only an end can say")
    forms = report.date_forms.setdefault(f"{entity}.{column}", {})
    forms[read.form] = forms.get(read.form, 0) + 1
    return read.text


def raw_value(raw: dict[str, Any], known: Headers, column: str) -> Any:
    """The value a row gave for ``column``, under whichever of its headers."""
    return next((v for k, v in raw.items() if known.column(k) == column), None)


@lru_cache(maxsize=1 << 12)
def _enum_value(enum: type[LabelledEnum], text: str) -> str:
    return enum.parse(text).value


def _convert(col: Column, value: Any) -> Any:
    if isinstance(value, list) and col.datatype not in ("list", "enumlist"):
        raise ValueError("a JSON list is not a value for this column: give one value")
    if col.datatype == "int":
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(f"not a whole number: {value!r}") from None
    if col.datatype == "enum":
        assert col.enum is not None
        try:
            return _enum_value(col.enum, str(value))
        except ValueError:
            raise ValueError(f"unknown {col.name} {value!r}; allowed: {col.enum.allowed()}") from None
    if col.datatype in ("list", "enumlist"):
        items = _split(value)
        if col.enum is not None:
            try:
                items = [_enum_value(col.enum, i) for i in items]
            except ValueError as exc:
                raise ValueError(f"unknown {col.name} item {exc}; allowed: {col.enum.allowed()}") from None
        return tuple(items)
    return str(value).strip()


def same_content(entity: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two records of ``entity`` say the same (every column and the extra properties)."""
    if not all(a.get(name) == b.get(name) for name, _, _ in _columns(entity)):
        return False
    if a["props"] == b["props"]:
        return True
    first, given = dict(a["props"]), dict(b["props"])
    if first.get("source"):  # where a record was first loaded from stays its source (``SOURCE``)
        given.pop("source", None)
        first.pop("source")
    return first == given


# The records an import may add fields to (docs/input-format.md, "Updates"): those stored by
# their id alone. Changes and actions are kept with their person or recipient, accountability
# with its case, and a tenure row's only field to add is its end.
UPDATABLE = ("organizations", "positions", "persons", "duties", "cases", "standards")


# Lists a later load adds its items to, never a conflict: a person's ids in other sources and
# the persons it is not (``loaders.identity``).
GROWING = ("aliases", "not_same_as")
# A record's provenance (docs/interchange.md): kept from its first load, never a conflict.
SOURCE = "props.source"


@dataclass
class Difference:
    """How a record given again differs from the stored one: fields it adds, and fields whose
    values conflict (stored, given). A field the new record leaves empty is not a difference."""

    added: dict[str, Any] = field(default_factory=dict)
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def merged(self, stored: dict[str, Any], *, correct: bool) -> dict[str, Any]:
        """The stored record with the added fields (and with ``correct``, the given values)."""
        out = dict(stored)
        props = dict(stored.get("props") or {})
        for name, value in [*self.added.items(), *((k, v[1]) for k, v in self.conflicts.items() if correct)]:
            if name.startswith("props."):
                props[name[len("props.") :]] = value
            else:
                out[name] = value
        out["props"] = props
        return out


def difference(entity: str, stored: dict[str, Any], given: dict[str, Any]) -> Difference:
    """What ``given`` says that ``stored`` does not (extra properties as ``props.NAME``)."""
    diff = Difference()
    pairs = [(name, stored.get(name), given.get(name)) for name, _, _ in _columns(entity)]
    old_props, new_props = stored.get("props") or {}, given.get("props") or {}
    pairs += [(f"props.{k}", old_props.get(k), v) for k, v in new_props.items()]
    dates = _date_columns(entity)
    for name, old, new in pairs:
        if new in (None, "", ()) or old == new:
            continue
        if name == SOURCE and old:  # where the record was first loaded from stays its source
            continue
        if name in dates and dates_agree(old, new):  # the same date, to another precision
            if len(new) > len(old or ""):  # a finer one is added; a coarser one says nothing new
                diff.added[name] = new
            continue
        if name in GROWING:  # a list another source adds to: the union
            if not set(new) <= set(old or ()):
                diff.added[name] = tuple(dict.fromkeys([*(old or ()), *new]))
            continue
        if old in (None, "", ()):
            diff.added[name] = new
        else:
            diff.conflicts[name] = (old, new)
    return diff


@lru_cache
def _date_columns(entity: str) -> frozenset[str]:
    return frozenset(c.name for c in FILES[entity] if c.datatype == "date")


def _described(conflicts: dict[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{name} is {old!r} in the store, {new!r} here" for name, (old, new) in conflicts.items())


# ---------------------------------------------------------------- the batch


class PrepareReads(Protocol):
    """The reads ``prepare`` makes: a store answers them, and so do ``NothingStored`` (a first
    load) and a streamed load's overlay."""

    url: str

    def existing_ids(self, entity: str, ids: Iterable[str]) -> set[str]: ...

    def stored_records(self, entity: str, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]: ...

    def personnel_records(self, person_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]: ...

    def persons_named(self, names: Iterable[str]) -> list[dict[str, Any]]: ...

    def alias_owners(self, ids: Iterable[str] | None = None) -> dict[str, str]: ...

    def get_organizations(self, ids: Iterable[str] | None = None) -> dict[str, Organization]: ...

    def position_roles(self, ids: Iterable[str]) -> dict[str, tuple[str, int | None]]: ...

    def tenures_overlapping(self, spans: Iterable[tuple[str, int, int]]) -> list[Tenure]: ...


class NothingStored:
    """The reads ``prepare`` makes, answered for a store that holds nothing yet. A first load
    then asks the store nothing: on a server each of these reads was a round trip carrying
    thousands of ids, for an answer that could only be empty."""

    def __init__(self, url: str) -> None:
        self.url = url

    def existing_ids(self, entity: str, ids: Iterable[str]) -> set[str]:
        return set()

    def stored_records(self, entity: str, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        return {}

    def personnel_records(self, person_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return [], []

    def persons_named(self, names: Iterable[str]) -> list[dict[str, Any]]:
        return []

    def alias_owners(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        return {}

    def get_organizations(self, ids: Iterable[str] | None = None) -> dict[str, Organization]:
        return {}

    def position_roles(self, ids: Iterable[str]) -> dict[str, tuple[str, int | None]]:
        return {}

    def tenures_overlapping(self, spans: Iterable[tuple[str, int, int]]) -> list[Tenure]:
        return []


def as_prepare_reads(store: Store) -> PrepareReads:
    """``store``, or ``NothingStored`` when it holds nothing (one count per entity to know)."""
    return store if any(store.counts().values()) else NothingStored(store.url)


class _Context:
    """What validation needs to know about ids: the batch first, then the store."""

    def __init__(self, store: PrepareReads, records: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.store = store
        self.records = records
        self._stored: dict[str, set[str]] = {}

    def exists(self, entity: str, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` exist in the batch or the store."""
        ids = set(ids)
        batch = self.records.get(entity, {})
        missing = [i for i in ids if i not in batch]
        found = ids - set(missing)
        cached = self._stored.setdefault(entity, set())
        unknown = [i for i in missing if i not in cached]
        if unknown:
            cached.update(self.store.existing_ids(entity, unknown))
        return found | (set(missing) & cached)


@dataclass(frozen=True)
class LoadOptions:
    """How a load treats what it finds (docs/input-format.md): ``correct`` replaces stored
    values a record contradicts (each listed); ``tolerant`` loads every valid row and sets the
    others aside (``Report.rejects``); ``handover_days`` trims a predecessor's end to the
    successor's start when two tenures of a one-seat position overlap by at most that many days;
    ``match_persons`` finds the stored person a new person row is by name and birth."""

    correct: bool = False
    tolerant: bool = False
    handover_days: int = 0
    match_persons: bool = False  # find a new person row's stored person by name and birth (loaders.identity)
    in_chunks: bool = False  # set by the streamed loader, which refuses what needs every row at once


ALL_OR_NOTHING = LoadOptions()  # the default: nothing written unless every row is valid


def prepare(
    store: PrepareReads,
    tables: Rows,
    report: Report,
    progress: Callable[[str, int], None] | None = None,
    options: LoadOptions = ALL_OR_NOTHING,
) -> Batch:
    """Validate raw rows against each other and the store; return the batch to write. Each
    file's rows are read once, first to last."""
    started = time.perf_counter()
    unreadable = not report.ok  # a file could not be read: its rows are not there to refer to
    records: dict[str, dict[str, dict[str, Any]]] = {}
    tenure_rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    shared: dict[str, str] = {}
    for entity in ORDER:
        read = 0
        rows = tables.get(entity, ())
        for src, raw in rows:
            read += 1
            rec = parse_row(entity, src, raw, report, shared)
            if rec is None:
                continue
            if entity == "tenures":
                _add_tenure_row(rec, tenure_rows, report)
            else:
                _add_record(entity, rec, records.setdefault(entity, {}), report)
        unreadable = unreadable or (isinstance(rows, FileRows) and rows.broken)
        if read:
            report.count(entity, "read", read)
        if progress:
            progress(entity, read)
    del shared
    t = report.lap("parse", started)
    if unreadable:
        # each row's own errors are listed too, so one fix-and-retry sees them all; references
        # into the missing file would only be noise
        return Batch()
    step(progress, "checking references")
    mapping = resolve(
        store, records, tenure_rows.values(), report, match=options.match_persons, in_chunks=options.in_chunks
    )
    if mapping:
        tenure_rows = _rename_persons(records, tenure_rows, mapping, report)
    ctx = _Context(store, records)
    _check_references(ctx, tenure_rows, report)
    _fill_ranks(ctx, report)
    t = report.lap("references", t)
    batch = Batch()
    step(progress, "comparing with the store")
    _split_new(ctx, batch, report, correct=options.correct)
    t = report.lap("compare-with-store", t)
    step(progress, "deriving tenures and checking them")
    _personnel(ctx, batch, tenure_rows, report, options.handover_days)
    report.lap("personnel", t)
    return batch


STEP = -1  # ``progress(text, STEP)``: a step of the load begins (else ``progress(entity, rows)``)


def step(progress: Callable[[str, int], None] | None, text: str) -> None:
    """Say which step of a load runs: a long one (deriving tenures, writing) would otherwise
    sit under the last file's count."""
    if progress:
        progress(text, STEP)


def _rename_persons(
    records: dict[str, dict[str, dict[str, Any]]],
    tenure_rows: dict[tuple[str, str, str], dict[str, Any]],
    mapping: dict[str, str],
    report: Report,
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Give the persons ``loaders.identity`` found stored under other ids those ids (their own
    kept as aliases), in their rows and wherever a record names them; the tenure rows, again
    keyed by person."""
    persons = records.get("persons", {})
    for given in [p for p in persons if p in mapping]:
        rec = persons.pop(given)
        rec["id"] = mapping[given]
        rec["aliases"] = tuple(dict.fromkeys([*(rec.get("aliases") or ()), given]))
        if rec["id"] in persons:
            report.error(
                rec["_src"],
                "id",
                given,
                "duplicate-id",
                f"{given} is stored person {rec['id']}, and so is the row {persons[rec['id']]['_src'][1]} "
                "of this file: give one row a person",
            )
            continue
        persons[rec["id"]] = rec
    for rec in persons.values():
        rec["not_same_as"] = tuple(mapping.get(p, p) for p in rec.get("not_same_as") or ())
    for entity in ("changes", "accountability"):
        for rec in records.get(entity, {}).values():
            rec["person_id"] = mapping.get(rec["person_id"], rec["person_id"])
    for rec in records.get("cases", {}).values():
        rec["violator_ids"] = tuple(mapping.get(p, p) for p in rec.get("violator_ids") or ())
    renamed: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in tenure_rows.values():
        row["person_id"] = mapping.get(row["person_id"], row["person_id"])
        _add_tenure_row(row, renamed, report)
    return renamed


def _add_record(entity: str, rec: dict[str, Any], seen: dict[str, dict[str, Any]], report: Report) -> None:
    prior = seen.get(rec["id"])
    if prior is None:
        seen[rec["id"]] = rec
    elif not same_content(entity, prior, rec):
        diff = [k for k in rec if not k.startswith("_") and rec.get(k) != prior.get(k)]
        report.error(
            rec["_src"],
            "id",
            rec["id"],
            "duplicate-id",
            f"id {rec['id']} appears again (first at row {prior['_src'][1]}) with different {', '.join(diff)}",
        )


# A tenure row's key: one row a person, position and start (a stored row given again replaces it)
_tenure_row_key = itemgetter("person_id", "position_id", "start")


def _add_tenure_row(rec: dict[str, Any], seen: dict[tuple[str, str, str], dict[str, Any]], report: Report) -> None:
    key = _tenure_row_key(rec)
    prior = seen.get(key)
    if prior is None:
        seen[key] = rec
    elif prior.get("end") != rec.get("end") or prior["props"] != rec["props"]:
        report.error(
            rec["_src"],
            "end",
            rec.get("end"),
            "duplicate-id",
            f"tenure of {key[0]} at {key[1]} from {key[2]} appears again (first at row "
            f"{prior['_src'][1]}) with a different end",
        )


def _check_references(ctx: _Context, tenure_rows: dict[Any, dict[str, Any]], report: Report) -> None:
    for entity in ORDER:
        rows = list(tenure_rows.values()) if entity == "tenures" else list(ctx.records.get(entity, {}).values())
        for col in FILES[entity]:
            if col.ref is None:
                continue
            if col.datatype in ("list", "enumlist"):
                wanted = {v for r in rows for v in r.get(col.name) or ()}
            else:
                wanted = {v for r in rows if (v := r.get(col.name)) is not None}
            known = ctx.exists(col.ref, wanted)
            if len(known) == len(wanted):
                continue  # every reference found: no row to report (a second pass over the rows)
            for r in rows:
                for v in _values(r.get(col.name)):
                    if v not in known:
                        report.error(
                            r["_src"],
                            col.name,
                            v,
                            "unknown-reference",
                            f"no {col.ref[:-1] if col.ref.endswith('s') else col.ref} with id {v!r} "
                            f"in this import or the store",
                        )
    _check_cycles(ctx, report)


def _values(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, tuple) else (value,)


def _check_cycles(ctx: _Context, report: Report) -> None:
    orgs = ctx.records.get("organizations", {})
    stored = ctx.store.get_organizations([o["parent_id"] for o in orgs.values() if o.get("parent_id")])
    for org in orgs.values():
        if org["id"] in (org.get("predecessor_ids") or ()):
            report.error(org["_src"], "predecessor_ids", org["id"], "cycle", f"{org['id']} cannot continue itself")
        seen = {org["id"]}
        parent = org.get("parent_id")
        while parent:
            if parent in seen:
                report.error(
                    org["_src"],
                    "parent_id",
                    org["parent_id"],
                    "cycle",
                    f"the parent chain of {org['id']} comes back to {parent}",
                )
                break
            seen.add(parent)
            parent = (
                orgs[parent].get("parent_id")
                if parent in orgs
                else (stored[parent].parent_id if parent in stored else None)
            )


def _fill_ranks(ctx: _Context, report: Report) -> None:
    positions = ctx.records.get("positions", {})
    orgs = ctx.records.get("organizations", {})
    stored = ctx.store.get_organizations({p["org_id"] for p in positions.values()} - set(orgs))
    for pos in positions.values():
        if pos["rank"] is not None:
            continue
        level = (
            orgs[pos["org_id"]]["level"]
            if pos["org_id"] in orgs
            else (stored[pos["org_id"]].level.value if pos["org_id"] in stored else None)
        )
        if level is not None:
            pos["rank"] = default_rank(Level(level), Role(pos["role"]))


# Records a store finds by id together with another of their fields (``Store.stored_records``):
# a server store keeps a person's changes on the person, and FalkorDB keeps no index on actions
# (their recipient's is used). Such an id stored with another person or recipient is not seen
# there, so an import does not find it "already stored with different content".
KEYED_WITH = {"changes": "person_id", "actions": "to_org_id"}


def _split_new(ctx: _Context, batch: Batch, report: Report, *, correct: bool = False) -> None:
    """Keep only records not stored yet, and the updates of stored ones: a field the store
    lacks is added; a value other than the stored one is an error naming both, unless
    ``correct`` (then it replaces the stored one, listed as a warning)."""
    for entity, recs in ctx.records.items():
        key = (lambda r, f=KEYED_WITH[entity]: (r.get(f), r["id"])) if entity in KEYED_WITH else itemgetter("id")
        stored = ctx.store.stored_records(entity, [key(r) for r in recs.values()])
        new, updated = [], []
        for rec in recs.values():
            prior = stored.get(key(rec))
            if prior is None:
                new.append(rec)
                continue
            if same_content(entity, prior, rec):
                report.count(entity, "unchanged")
                continue
            diff = difference(entity, prior, rec)
            what = f"{entity[:-1] if entity.endswith('s') else entity} {rec['id']}"
            if entity not in UPDATABLE and (diff.added or diff.conflicts):
                diff = Difference(conflicts={**{k: (None, v) for k, v in diff.added.items()}, **diff.conflicts})
                report.error(
                    rec["_src"],
                    "id",
                    rec["id"],
                    "duplicate-id",
                    f"{what} is already stored with different content: {_described(diff.conflicts)} "
                    f"({entity} are not updated by a later load)",
                )
                continue
            if diff.conflicts and not correct:
                column = next(iter(diff.conflicts))
                report.error(
                    rec["_src"],
                    column,
                    diff.conflicts[column][1],
                    "duplicate-id",
                    f"{what} is already stored with different content: {_described(diff.conflicts)}. A load adds "
                    "what the store lacks and never overwrites; load with --correct to replace stored values",
                )
                continue
            if not diff.added and not diff.conflicts:  # the new record only leaves fields empty
                report.count(entity, "unchanged")
                continue
            for name, (old, new_value) in diff.conflicts.items():
                report.warn(
                    rec["_src"], name, new_value, "corrected", f"{what}: {name} {old!r} replaced by {new_value!r}"
                )
            if diff.added:
                report.warn(rec["_src"], None, None, "updated", f"{what}: added {', '.join(diff.added)}")
            updated.append(diff.merged(prior, correct=correct) | {"_src": rec["_src"]})
        report.count(entity, "new", len(new))
        if entity == "changes":
            report.new_changes = new  # the batch's own records (a copy of each took 0.1 GB on a province)
        if new:
            batch.rows[entity] = new
        if updated:
            report.count(entity, "updated", len(updated))
            batch.updates[entity] = updated


def _personnel(
    ctx: _Context, batch: Batch, tenure_rows: dict[Any, dict[str, Any]], report: Report, handover_days: int = 0
) -> None:
    """Derive tenures of every person the batch touches and check them."""
    stored = ctx.store.stored_records("tenure_rows", tenure_rows)
    fresh = []
    for key, row in tenure_rows.items():
        if key in stored and same_content("tenures", stored[key], row):
            report.count("tenures", "unchanged")
        else:
            report.count("tenures", "updated" if key in stored else "new")
            fresh.append(row)
    new_changes = batch.rows.get("changes", [])
    persons = {r["person_id"] for r in fresh} | {c["person_id"] for c in new_changes}
    if not persons:
        return
    _check_change_fields(new_changes, report)
    stored_rows, stored_changes = ctx.store.personnel_records(persons)
    for r in stored_rows:
        r["_src"] = ("stored tenure row", None)
    # Each person's records, the stored first, as runs of lists sorted by person (stably: in
    # the order given within a person), not maps of every person's: those took 50 MB on a
    # province beside the tenures derived, at the load's peak (docs/performance.md).
    rows = sorted([*stored_rows, *fresh], key=_person_of)
    changes = sorted(
        [*({**c, "_src": (f"stored change {c['id']}", None)} for c in stored_changes), *new_changes], key=_person_of
    )
    derived: list[Tenure] = []
    row_runs, change_runs = _Runs(rows), _Runs(changes)
    for person in sorted(persons):
        keyed = {_tenure_row_key(r): r for r in row_runs.take(person)}  # the last of a key given
        tenures, problems = derive_person(person, keyed.values(), change_runs.take(person))
        derived.extend(tenures)
        for p in problems:
            report.error(p.source, p.column, p.value, p.rule, p.message)
    sources = _Sources(rows, changes)
    moves = _moves(new_changes)
    # one read for the three checks: a streamed nation's load reads them a chunk at a time
    info = _positions(ctx, {t.position_id for t in derived} | {p for c in moves for p in _ends(c)})
    derived = _check_overlaps(ctx, info, persons, derived, report, sources, handover_days)
    _check_double_posts(info, derived, report, sources)
    _check_ranks(info, moves, report)
    report.tenures_derived = len(derived)
    batch.tenure_rows = fresh
    batch.tenure_persons = persons
    batch.tenures = derived


_person_of = itemgetter("person_id")


class _Runs:
    """Records sorted by person, taken a person at a time in that order."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self._records, self._at = records, 0

    def take(self, person: str) -> list[dict[str, Any]]:
        """The records of ``person`` (none: an empty list), asked in the records' order: a
        step a record, where two binary searches a person cost 3.8% of a streamed nation's
        personnel time (a person has two or three records)."""
        records, at, end = self._records, self._at, len(self._records)
        while at < end and records[at]["person_id"] < person:  # persons not asked for
            at += 1
        start = at
        while at < end and records[at]["person_id"] == person:
            at += 1
        self._at = at
        return records[start:at]


class _Sources:
    """Where a derived tenure was opened, for the report of a problem with it: a tenure row, or
    a change. Its maps are made at the first problem (most loads have none)."""

    def __init__(self, rows: list[dict[str, Any]], changes: list[dict[str, Any]]) -> None:
        self._given_rows, self._given_changes = rows, changes

    @cached_property
    def _rows(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {_tenure_row_key(r): r for r in self._given_rows}  # the last given

    @cached_property
    def _changes(self) -> dict[tuple[str, str], dict[str, Any]]:
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for c in self._given_changes:
            out.setdefault((c["person_id"], c["id"]), c)  # the first given
        return out

    def of(self, t: Tenure) -> Source:
        if t.opened_by == "tenure-row":
            row = self._rows.get((t.person_id, t.position_id, t.start))
            return row["_src"] if row else ("stored tenure row", None)
        change = self._changes.get((t.person_id, t.opened_by))
        return change["_src"] if change else (f"change {t.opened_by}", None)


# The kinds that move a person from a position they name (read once: a nation's 11 million
# changes each made an enum member to ask, 2.7% of a streamed load's personnel time)
_MOVES = {k.value: k in (ChangeKind.transfer, ChangeKind.promote, ChangeKind.demote) for k in ChangeKind}


def _check_change_fields(changes: list[dict[str, Any]], report: Report) -> None:
    """A move without the position it leaves (one that opens a tenure without where is
    ``derive_person``'s problem: it cannot apply it)."""
    for c in changes:
        kind = c["kind"]  # a value of ``ChangeKind``: parsed so
        if _MOVES[kind] and not c.get("from_position_id"):
            report.error(c["_src"], "from_position_id", "", "missing-field", f"a {kind} change needs from_position_id")


def _positions(ctx: _Context, ids: Iterable[str]) -> dict[str, tuple[str, int | None]]:
    """Role and rank of each position, from the batch or the store."""
    ids = set(ids)
    batch = ctx.records.get("positions", {})
    out = {i: (batch[i]["role"], batch[i]["rank"]) for i in ids if i in batch}
    out.update(ctx.store.position_roles(ids - set(out)))
    return out


def _check_overlaps(
    ctx: _Context,
    info: dict[str, tuple[str, int | None]],
    persons: set[str],
    derived: list[Tenure],
    report: Report,
    sources: _Sources,
    handover_days: int = 0,
) -> list[Tenure]:
    """Report overlaps at one-seat positions: an error, a warning when the dates' imprecision
    explains it, and with ``handover_days`` a trim of the predecessor's end when both tenures
    are this import's. ``info``: role and rank of each derived tenure's position. The
    derived tenures, trimmed."""
    one_holder = {p for p, (role, _) in info.items() if Role(role).one_holder}
    # Only one-holder positions can have an overlap, and only stored tenures that overlap a
    # derived one can clash with it (the stored ones do not overlap each other).
    spans = [(t.position_id, t.start_ordinal, t.end_ordinal) for t in derived if t.position_id in one_holder]
    stored = ctx.store.tenures_overlapping(spans)
    others = [t for t in stored if t.person_id not in persons]
    trimmed: dict[str, Tenure] = {}
    for a, b in overlaps([*derived, *others], one_holder.__contains__):
        later = b if b.person_id in persons else a
        src = sources.of(later)
        column = _column_of(later)
        both = f"{a.person_id} [{a.start}, {a.end or 'open'}) and {b.person_id} [{b.start}, {b.end or 'open'})"
        if uncertain_overlap(a, b):
            report.warn(
                src,
                column,
                later.position_id,
                "uncertain-handover",
                f"position {later.position_id}: {both} overlap only as far as their dates are imprecise "
                "(a handover whose day is not known); both kept as given",
            )
            continue
        first, second = sorted((a, b), key=lambda t: (t.start_ordinal, t.id))
        days = min(first.end_ordinal, second.end_ordinal) - second.start_ordinal
        if days <= handover_days and first.person_id in persons and first.end_ordinal <= second.end_ordinal:
            trimmed[first.id] = Tenure(**{**dict(first), "end": second.start})
            report.warn(
                src,
                column,
                later.position_id,
                "handover-trimmed",
                f"position {later.position_id}: {both} overlap by {days} days; {first.person_id}'s tenure "
                f"now ends at {second.start} (the handover rule, up to {handover_days} days)",
            )
            continue
        report.error(
            src,
            column,
            later.position_id,
            "overlapping-tenure",
            f"position {later.position_id} has one holder at a time, but {both} overlap",
        )
    return [trimmed.get(t.id, t) for t in derived]


def _check_double_posts(
    info: dict[str, tuple[str, int | None]],
    derived: list[Tenure],
    report: Report,
    sources: _Sources,
) -> None:
    """Warn of a person holding two incompatible leadership posts at once (the same role at
    the same rank, ``graph.model.incompatible_posts``): real sources have it, as an error of
    the source or a real concurrency, so it is kept and said, and ``rtc findings double-posts``
    lists it again later."""
    for a, b in double_post_pairs(derived, lambda p: info.get(p, ("staff", None))):
        end = min(a.end_ordinal, b.end_ordinal)
        span = (
            f"[{b.start}, still open)"
            if end == OPEN_END
            else f"[{b.start}, {from_ordinal(end)}), {end - b.start_ordinal} days"
        )
        report.warn(
            sources.of(b),
            _column_of(b),
            b.position_id,
            "double-post",
            f"{a.person_id} holds {a.position_id} and {b.position_id} at once, both {info[a.position_id][0]} "
            f"of rank {info[a.position_id][1]}: {span}",
        )


def _column_of(t: Tenure) -> str:
    """The column that opened a tenure: a tenure row's position, or a change's new one."""
    return "position_id" if t.opened_by == "tenure-row" else "to_position_id"


def _moves(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changes that move a person from one given position to another."""
    return [c for c in changes if _MOVES[c["kind"]] and c.get("from_position_id") and c.get("to_position_id")]


def _ends(move: dict[str, Any]) -> tuple[str, str]:
    return move["from_position_id"], move["to_position_id"]


def _check_ranks(info: dict[str, tuple[str, int | None]], moves: list[dict[str, Any]], report: Report) -> None:
    """Warn of a move whose kind says otherwise than the two positions' ranks. ``info``: role
    and rank of both positions of every move (``_positions``)."""
    expect = {"transfer": (0,), "promote": (1,), "demote": (-1,)}
    for c in moves:
        a, b = info.get(c["from_position_id"]), info.get(c["to_position_id"])
        if not a or not b or a[1] is None or b[1] is None:
            continue
        sign = (b[1] > a[1]) - (b[1] < a[1])
        if sign not in expect[c["kind"]]:
            report.warn(
                c["_src"],
                "kind",
                c["kind"],
                "kind-vs-rank",
                f"declared {c['kind']} but the rank goes from {a[1]} to {b[1]}",
            )


# ---------------------------------------------------------------- entry points

TOLERANT_ROUNDS = 8  # a rejected row can make the rows naming it invalid: validated again


def tolerate(
    store: PrepareReads,
    tables: RawRows,
    report: Report,
    progress: Callable[[str, int], None] | None,
    options: LoadOptions,
) -> Batch:
    """Validate, set aside every row with an error, and validate the rest again until no
    error is left (a row set aside can make the rows that name it invalid): the batch of the
    valid rows. A file whose header lacks a required column is set aside whole. An error no
    row can be set aside for (an unreadable file, a clash with a stored record's source) still
    fails the load. ``report`` ends as the last round's, with every row set aside in
    ``rejects`` (its first error) and a count a file in ``rejected``."""
    rows_of = {src: entity for entity, rows in tables.items() for src, _ in rows}
    files = {src[0] for src in rows_of}
    aside = {f.file: f for src, f in report.failed.items() if src not in rows_of and f.file in files}
    rejects = {src: f for src, f in report.failed.items() if src in rows_of}
    if any(src not in rows_of and f.file not in aside for src, f in report.failed.items()):
        # the load fails whatever is set aside: list every row's error, set nothing aside (as streamed)
        return prepare(store, tables, report, progress, options)
    attempt = report
    batch = Batch()
    for _ in range(TOLERANT_ROUNDS):
        rejects |= {src: dataclasses.replace(aside[src[0]], row=src[1]) for src in rows_of if src[0] in aside}
        kept = {e: [(src, row) for src, row in rows if src not in rejects] for e, rows in tables.items()}
        attempt = Report(source=report.source, max_errors=report.max_errors, dry_run=report.dry_run)
        batch = prepare(store, kept, attempt, progress, options)
        fresh = {src: f for src, f in attempt.failed.items() if src in rows_of and src not in rejects}
        if attempt.ok or not fresh:
            break
        rejects |= fresh
    report.errors, report.error_count = attempt.errors, attempt.error_count
    report.warnings = [*report.warnings, *attempt.warnings][: report.max_errors]
    report.date_forms, report.tenures_derived = attempt.date_forms, attempt.tenures_derived
    report.counts = attempt.counts
    report.new_changes = attempt.new_changes
    report.phases.update(attempt.phases)
    report.rejects = sorted(rejects.values(), key=lambda f: (f.file, f.row or 0))
    for src in rejects:
        entity = rows_of[src]
        report.rejected[entity] = report.rejected.get(entity, 0) + 1
    for entity, rows in tables.items():
        counts = report.counts.setdefault(entity, {"read": 0, "new": 0, "unchanged": 0, "updated": 0})
        counts["read"] = len(rows)
    return batch if report.ok else Batch()


def load_tables(
    store: Store,
    tables: RawRows,
    report: Report,
    *,
    dry_run: bool = False,
    log: dict[str, Any] | None = None,
    progress: Callable[[str, int], None] | None = None,
    options: LoadOptions = ALL_OR_NOTHING,
) -> Report:
    """Validate raw rows and, when there is no error and not ``dry_run``, write them (with
    ``options.tolerant``, the valid ones: ``tolerate``)."""

    def validate(reads: PrepareReads) -> Batch:
        if options.tolerant:
            return tolerate(reads, tables, report, progress, options)
        return prepare(reads, _let_go(tables), report, progress, options)

    return _validated_and_written(store, validate, report, dry_run=dry_run, log=log, progress=progress)


def _validated_and_written(
    store: Store,
    validate: Callable[[PrepareReads], Batch],
    report: Report,
    *,
    dry_run: bool,
    log: dict[str, Any] | None,
    progress: Callable[[str, int], None] | None,
) -> Report:
    """The batch ``validate`` makes of the store's reads, written when the report has no error
    and not ``dry_run``."""
    started = time.perf_counter()
    report.dry_run = dry_run
    # Validation and the write under one lock: what was checked is still true when it is written.
    with contextlib.nullcontext() if dry_run else store.import_lock():
        batch = validate(as_prepare_reads(store))
        # nothing new, but an import failed part-way: an empty batch completes it (``Store.unfinished``)
        if report.ok and not dry_run and (batch.count() or batch.tenures or store.unfinished()):
            t = time.perf_counter()
            step(progress, "writing to the store")
            store.write(batch, log={**(log or {}), "source": report.source, "counts": report.counts})
            report.lap("write", t)
            report.written = True
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _let_go(tables: RawRows) -> Rows:
    """Each file's raw rows for one reading, each let go once read (the lists are emptied):
    nothing reads a raw row again once parsed, and a province's take half a gigabyte beside
    its records (docs/performance.md)."""

    def once(rows: list[tuple[Source, dict[str, Any]]]) -> Iterator[tuple[Source, dict[str, Any]]]:
        rows.reverse()
        while rows:
            yield rows.pop()

    return {entity: once(rows) for entity, rows in tables.items()}


def load_dataset(
    store: Store,
    folder: str | Path,
    *,
    dry_run: bool = False,
    max_errors: int = MAX_ERRORS,
    log: dict[str, Any] | None = None,
    progress: Callable[[str, int], None] | None = None,
    options: LoadOptions = ALL_OR_NOTHING,
    rejects_to: Path | None = None,
    mapping: str | Path | None = None,
    elite: bool = False,
) -> Report:
    """Load a dataset folder (docs/input-format.md) into ``store``: all of it, or nothing
    (``options.tolerant``: every valid row, the others set aside in ``Report.rejects`` and,
    given ``rejects_to``, written there in their own format: ``loaders.rejects``).

    Examples
    --------
    >>> report = load_dataset(store, "examples/county")  # doctest: +SKIP
    >>> report.ok, report.counts["persons"]["new"]  # doctest: +SKIP
    (True, 36)
    """
    started = time.perf_counter()
    if options.tolerant and (elite or read_whole(Path(folder))):
        raise InvalidInput("a tolerant load is for the canonical files: load Popolo or FollowTheMoney whole")
    if rejects_to is not None:
        check_rejects_folder(rejects_to)  # before anything is written
    report = Report(source=str(folder), max_errors=max_errors)
    with gc_paused():
        # every raw row kept: a tolerant load's rejects are written from them (and an elite
        # folder is read by read_folder alone)
        if options.tolerant or elite:
            tables = read_folder(Path(folder), report, mapping, elite=elite)
            report.lap("read", started)
            load_tables(store, tables, report, dry_run=dry_run, log=log, progress=progress, options=options)
            if rejects_to is not None and report.rejects:
                report.rejects_written = [str(p) for p in write_rejects(rejects_to, report.rejects, tables)]
        else:  # each row read as it is parsed: the "read" phase is the files' decoding and headers
            rows = read_folder_once(Path(folder), report, mapping)
            report.lap("read", started)
            _validated_and_written(
                store,
                partial(prepare, tables=rows, report=report, progress=progress, options=options),
                report,
                dry_run=dry_run,
                log=log,
                progress=progress,
            )
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def migrate(source: Store, target: Store, *, max_errors: int = MAX_ERRORS) -> Report:
    """Copy every record of ``source`` into ``target`` as one import (validated like a file load).

    Raw personnel records (tenure rows and changes) are copied, and tenures derived again, so
    the target holds exactly what a load of the original files would give it.
    """
    started = time.perf_counter()
    report = Report(source=f"migrate from {source.url}", max_errors=max_errors)
    with gc_paused():
        tables: RawRows = {}
        for entity in ORDER:
            rows = stored_rows(source, entity)
            if rows:
                tables[entity] = [((f"{source.url} {entity}", n), r) for n, r in enumerate(rows, start=1)]
        report.lap("read", started)
        load_tables(target, tables, report, log={"migrated_from": source.url})
    report.seconds = round(time.perf_counter() - started, 3)
    return report
