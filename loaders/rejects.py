"""The rows a tolerant load set aside, written back in their own file's format with their
error in one more column (``schema.REJECT_COLUMN``, which the loader reads past): fix the
rows, and load the rejects folder again (docs/input-format.md, "Tolerant loads")."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from graph.errors import InvalidInput
from loaders.schema import REJECT_COLUMN


class Rejected(Protocol):
    """A row set aside (``loaders.load.Finding``): where it was, and why."""

    file: str
    row: int | None
    rule: str
    message: str


def check_new_folder(folder: Path, message: str) -> None:
    """Refuse, with ``message``, a folder that is a file or holds files: what is written into
    it (rejects, an export) would mix with what is there."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidInput(message)


def check_rejects_folder(folder: Path) -> None:
    check_new_folder(folder, f"rejects folder {folder} is a file or not empty: give a new or empty folder")


def write_rejects(
    folder: Path, rejects: Iterable[Rejected], tables: dict[str, list[tuple[tuple[str, int | None], dict[str, Any]]]]
) -> list[Path]:
    """Write the rows set aside into ``folder`` (made), a file for each input file with a row
    set aside, under the input file's name; the files written.

    Raises
    ------
    InvalidInput
        ``folder`` is a file, or holds files already (rejects of another load are not mixed in).
    """
    check_rejects_folder(folder)
    rows = {src: row for entity_rows in tables.values() for src, row in entity_rows}
    by_file: dict[str, list[dict[str, Any]]] = {}
    for finding in rejects:
        row = rows.get((finding.file, finding.row))
        if row is not None:  # every reject is a row read (``tolerate`` sets aside nothing else)
            by_file.setdefault(finding.file, []).append({**row, REJECT_COLUMN: f"[{finding.rule}] {finding.message}"})
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, records in by_file.items():
        path = folder / name
        header = [*dict.fromkeys(k for r in records for k in r if k != REJECT_COLUMN), REJECT_COLUMN]
        if path.suffix == ".jsonl":
            with path.open("w", encoding="utf-8") as out:
                out.writelines(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
        elif path.suffix == ".xlsx":
            from openpyxl import Workbook

            book = Workbook(write_only=True)
            sheet = book.create_sheet()
            sheet.append(header)
            for r in records:
                sheet.append([r.get(h) for h in header])
            book.save(path)
        else:  # UTF-8 with a byte-order mark: Excel opens it as UTF-8
            with path.open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.DictWriter(out, header)
                writer.writeheader()
                writer.writerows({h: _cell(r.get(h)) for h in header} for r in records)
        written.append(path)
    return written


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
