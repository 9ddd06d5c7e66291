"""Read one input file (CSV, JSON Lines or .xlsx) into rows of strings, with the
row number a person would look up in the file. Problems are raised as
``FileProblem`` naming the file and the place."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import charset_normalizer


class FileProblem(Exception):
    def __init__(self, rule: str, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.row = row


Row = tuple[int, dict[str, Any]]


GB_FAMILY = {"gb18030", "gbk", "gb2312"}


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode(raw: bytes) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM) or GB18030; return ``(text, encoding)``.

    GB18030 decodes almost any bytes, so it is taken only when the file reads as Chinese text:
    Latin-1 ``Müller`` would otherwise become ``M黮ler`` without a word. A file whose lines are
    partly UTF-8 and partly not, or that holds a NUL byte, is refused with the line and byte."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        guess = charset_normalizer.from_bytes(raw[:4096]).best()
        hint = f"; it looks like {guess.encoding}" if guess else ""
        raise FileProblem(
            "encoding",
            f"byte {nul} is a NUL byte: not a text file in UTF-8 or GB18030{hint}",
            row=_line_of(raw, nul),
        )
    try:
        return raw.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError as exc:
        bad = exc.start
    line = _line_of(raw, bad)
    utf8_line = _utf8_line(raw)
    if utf8_line is not None:
        raise FileProblem(
            "encoding",
            f"mixed encodings: line {utf8_line} is UTF-8 but byte {bad} (0x{raw[bad]:02x}, line {line}) is not; "
            "save the whole file as UTF-8",
            row=line,
        )
    matches = charset_normalizer.from_bytes(raw)
    if any(GB_FAMILY.intersection(m.could_be_from_charset) for m in matches):
        try:
            return raw.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    guess = matches.best()
    hint = f"; it looks like {guess.encoding}" if guess else ""
    raise FileProblem(
        "encoding",
        f"byte {bad} (0x{raw[bad]:02x}, line {line}) is not UTF-8, and the file does not read as GB18030{hint}; "
        "save the file as UTF-8",
        row=line,
    )


def _utf8_line(raw: bytes) -> int | None:
    """The number of the first line with non-ASCII bytes that reads as UTF-8 (Chinese text
    that way), when another line does not: the sign of a file with two encodings."""
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if max(line, default=0) < 0x80:
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if any("\u3400" <= ch <= "\u9fff" for ch in text):
            return number
    return None


def read_rows(
    path: Path, *, stream: bool = False, skip: AbstractSet[int] = frozenset()
) -> tuple[list[str], Iterator[Row]]:
    """Return the header and an iterator over ``(row_number, {header: value})``.

    ``stream=True`` reads CSV and JSON Lines a block at a time (memory does not grow with the
    file): the encoding is chosen from the first megabyte, so a decoding problem further on is
    raised where it is met, and a JSON Lines header is the keys of its first object. Rows
    whose number is in ``skip`` are left out (a tolerant streamed load sets them aside)."""
    header, rows = _read_rows(path, stream)
    return (header, (r for r in rows if r[0] not in skip)) if skip else (header, rows)


def _read_rows(path: Path, stream: bool) -> tuple[list[str], Iterator[Row]]:
    if path.stat().st_size == 0:
        raise FileProblem("empty-file", "the file is empty (0 bytes): it needs at least a header row")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv_stream(path) if stream else _read_csv(path)
    if suffix == ".jsonl":
        return _read_jsonl_stream(path) if stream else _read_jsonl(path)
    if suffix == ".xlsx":
        return _read_xlsx(path)
    raise FileProblem("format", f"unsupported file type {suffix!r}: use .csv, .jsonl or .xlsx")


def _read_csv(path: Path) -> tuple[list[str], Iterator[Row]]:
    raw = path.read_bytes()
    _, encoding = decode(raw)  # the whole file: a problem is found before any row is read
    # then decoded again as its lines are read: a StringIO of the text holds 4 bytes a character
    # (a province's files open together took 0.4 GB so, 0.1 GB as bytes)
    return _csv_rows(io.TextIOWrapper(io.BytesIO(raw), encoding=encoding, newline=""))


def _sniff(path: Path) -> str:
    """The encoding of a file, judged on its first megabyte (see ``decode``)."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    try:
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    # the same rules as a whole-file read, on the head (a cut last line is left out)
    return decode(head[: head.rfind(b"\n") + 1] or head)[1]


def _guarded(fh: io.TextIOBase) -> Iterator[str]:
    """Lines of a streamed file, a decoding error or a NUL byte turned into a FileProblem; closed
    at the end."""
    number = 0
    try:
        with fh:
            for number, line in enumerate(fh, start=1):
                if "\x00" in line:
                    raise FileProblem(
                        "encoding", f"line {number} holds a NUL byte: not a text file in UTF-8 or GB18030", row=number
                    )
                yield line
    except UnicodeDecodeError as exc:
        raise FileProblem(
            "encoding",
            f"cannot decode byte {exc.start} of a block after line {number} ({exc.reason}); save as UTF-8",
            row=number + 1,
        ) from None


def _csv_lines(path: Path) -> Iterator[str]:
    """A CSV file's lines, streamed in the encoding of its first megabyte."""
    return _guarded(path.open(encoding=_sniff(path), newline=""))


def _read_csv_stream(path: Path) -> tuple[list[str], Iterator[Row]]:
    return _csv_rows(_csv_lines(path))


def _csv_header(reader: Iterator[list[str]]) -> list[str]:
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileProblem("empty-file", "the file has no header row") from None
    except csv.Error as exc:
        raise FileProblem("malformed-csv", f"header row is not valid CSV: {exc}", row=1) from None
    if not any(header):
        raise FileProblem("empty-file", "the header row is blank", row=1)
    return header


def _csv_rows(source: Iterator[str] | io.TextIOBase) -> tuple[list[str], Iterator[Row]]:
    reader = csv.reader(source, strict=True)
    header = _csv_header(reader)

    def rows() -> Iterator[Row]:
        while True:
            line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileProblem("malformed-csv", f"not valid CSV: {exc}", row=line) from None
            if not any(values) or not "".join(values).strip():
                continue
            if len(values) != len(header):
                raise FileProblem(
                    "malformed-csv",
                    f"row has {len(values)} fields but the header has {len(header)}",
                    row=line,
                )
            yield line, dict(zip(header, values, strict=True))

    return header, rows()


def read_column(path: Path, names: Iterable[str], skip: AbstractSet[int] = frozenset()) -> Iterator[str]:
    """The stripped values of the first column whose header is one of ``names`` (none when no
    column is), a row at a time, blank rows left out, as ``read_rows(path, stream=True)`` would
    give them, and a FileProblem where it would raise one. For a CSV file no record is built:
    the streamed loader reads every id of a nation this way before it validates (39 million
    rows). Rows whose number is in ``skip`` are left out, as ``read_rows`` leaves them."""
    wanted = set(names)
    if path.suffix.lower() != ".csv" or path.stat().st_size == 0 or skip:
        header, rows = read_rows(path, stream=True, skip=skip)
        key = next((h for h in header if h in wanted), None)
        if key is not None:
            yield from (text for _, row in rows if (text := str(row.get(key) or "").strip()))
        return
    reader = csv.reader(_csv_lines(path), strict=True)
    header = _csv_header(reader)
    index = next((i for i, h in enumerate(header) if h in wanted), None)
    if index is None:
        return
    width = len(header)
    try:
        for values in reader:
            if len(values) == width:
                if text := values[index].strip():
                    yield text
            elif "".join(values).strip():
                raise FileProblem(
                    "malformed-csv", f"row has {len(values)} fields but the header has {width}", row=reader.line_num
                )
    except csv.Error as exc:
        raise FileProblem("malformed-csv", f"not valid CSV: {exc}", row=reader.line_num) from None


def _read_jsonl(path: Path) -> tuple[list[str], Iterator[Row]]:
    text, _ = decode(path.read_bytes())
    records = list(_jsonl_objects(enumerate(text.splitlines(), start=1)))
    header: dict[str, None] = {}
    for _, obj in records:
        header.update(dict.fromkeys(obj))
    if not records:
        raise FileProblem("empty-file", "the file has no JSON objects")
    return list(header), iter(records)


def _jsonl_objects(lines: Iterable[tuple[int, str]]) -> Iterator[Row]:
    """The JSON objects of numbered lines (blank lines skipped)."""
    for number, line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FileProblem("malformed-jsonl", f"line is not valid JSON: {exc.msg}", row=number) from None
        if not isinstance(obj, dict):
            raise FileProblem("malformed-jsonl", "line is not a JSON object", row=number)
        yield number, obj


def _read_jsonl_stream(path: Path) -> tuple[list[str], Iterator[Row]]:
    rows = _jsonl_objects(enumerate(_guarded(path.open(encoding=_sniff(path))), start=1))
    first = next(rows, None)
    if first is None:
        raise FileProblem("empty-file", "the file has no JSON objects")
    return list(first[1]), itertools.chain([first], rows)


def _read_xlsx(path: Path) -> tuple[list[str], Iterator[Row]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FileProblem("malformed-xlsx", f"not a readable .xlsx workbook: {exc}") from None
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    try:
        first = next(it, None)
    except Exception as exc:  # a sheet cut short, a shared string out of range...: read as it goes
        book.close()
        raise FileProblem("malformed-xlsx", f"the header row cannot be read: {_broken(exc)}", row=1) from None
    if first is None or not any(c is not None and str(c).strip() for c in first):
        book.close()
        raise FileProblem("empty-file", f"the first sheet {sheet.title!r} is empty: it needs a header row")
    header = [("" if c is None else str(c).strip()) for c in first]

    def rows() -> Iterator[Row]:
        number = 1
        try:
            for number, values in enumerate(it, start=2):
                cells = ["" if v is None else _cell_text(v) for v in values]
                if not any(c.strip() for c in cells):
                    continue
                cells = (cells + [""] * len(header))[: len(header)]
                yield number, dict(zip(header, cells, strict=True))
        except Exception as exc:
            raise FileProblem(
                "malformed-xlsx", f"the sheet cannot be read after row {number}: {_broken(exc)}", row=number + 1
            ) from None
        finally:
            book.close()

    return header, rows()


def _broken(exc: Exception) -> str:
    return f"the workbook is damaged ({type(exc).__name__}: {exc}); save it again from the spreadsheet program"


def _cell_text(value: Any) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
