"""``rtc load`` of Popolo and FollowTheMoney: which files are theirs, and their records as the
canonical rows a load validates (``loaders.load.read_folder`` calls ``read_interchange``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loaders.interchange import popolo
from loaders.interchange.common import Source, membership_posts, personnel_rows
from loaders.interchange.ftm import read_ftm
from loaders.interchange.mapping import load_mapping

Rows = list[tuple[Source, dict[str, Any]]]
FTM_SUFFIXES = (".ftm.json", ".ftm.jsonl")


def is_interchange(name: str) -> bool:
    """Whether a dataset folder's file of this name is Popolo's or FtM's."""
    return name == popolo.DOCUMENT or name in popolo.FILES or name.endswith(FTM_SUFFIXES)


def interchange_files(folder: Path) -> list[Path]:
    """The Popolo and FtM files of a dataset folder (read beside its canonical files)."""
    return [p for p in sorted(folder.iterdir()) if is_interchange(p.name)]


def read_whole(path: Path) -> bool:
    """Whether a load of ``path`` reads Popolo or FtM: a file given alone, or a folder holding
    one. Those are read whole (not streamed, not set aside row by row)."""
    return path.is_file() or (path.is_dir() and bool(interchange_files(path)))


def file_format(path: Path) -> str | None:
    """``popolo`` or ``ftm`` for a file given alone: by its name, else by its first record."""
    if path.name.endswith(FTM_SUFFIXES):
        return "ftm"
    if is_interchange(path.name):
        return "popolo"
    if path.suffix.lower() not in (".json", ".jsonl"):
        return None
    try:
        with path.open(encoding="utf-8-sig") as fh:
            head = fh.read(1 << 16)
    except (OSError, UnicodeDecodeError):
        return None
    first = head.lstrip()[:1]
    if first == "{" and '"schema"' in head.split("\n", 1)[0]:
        return "ftm"
    if first == "{" and any(f'"{c}"' in head for c in popolo.COLLECTIONS):
        return "popolo"
    return None


def read_interchange(paths: list[Path], report: Any, mapping: str | Path | None = None) -> dict[str, Rows]:
    """The canonical rows (organizations, positions, persons, tenures, changes) of Popolo and
    FtM files; ``mapping``: a file in the shape of ``mapping.yaml`` instead of the shipped one."""
    table = load_mapping(mapping)
    found: dict[str, Rows] = {}
    for path in paths:
        if file_format(path) == "ftm":
            read = read_ftm(path, report, table)
        else:
            key = path.stem if path.name in popolo.FILES else "document"
            read = popolo.read_popolo({key: path}, report, table)
        for name, rows in read.items():
            found.setdefault(name, []).extend(rows)
    positions = found.get("posts", []) + found.get("positions", [])
    members = [(src, row, row.pop("_rtc", {}) or {}) for src, row in found.get("memberships", [])]
    positions += membership_posts(members, {str(row.get("id")) for _, row in positions}, table.role, report.warn)
    tenures, changes = personnel_rows(members)
    tables: dict[str, Rows] = {
        "organizations": found.get("organizations", []),
        "positions": positions,
        "persons": found.get("persons", []),
        "tenures": tenures,
        "changes": changes,
    }
    return {entity: rows for entity, rows in tables.items() if rows}
