"""``rtc export``: what a store holds, as the canonical files, a Popolo document or a
FollowTheMoney entity stream. Loading an export into an empty store gives the same answers.

Popolo and FollowTheMoney hold organizations, posts, people and their memberships
(occupancies); everything else a store holds (changes, duties, actions, cases,
accountability, standards) goes beside them as canonical files, and every field the format
has no place for is kept in an ``rtc`` object on the record, so nothing is lost either way.
"""

from __future__ import annotations

import json
from pathlib import Path

from graph.errors import InvalidInput
from graph.model import to_ordinal
from graph.store import Store
from loaders.interchange import FORMATS
from loaders.interchange.common import PEOPLE, memberships, stored_rows, write_csv
from loaders.interchange.ftm import ftm_entities
from loaders.interchange.popolo import popolo_document
from loaders.rejects import check_new_folder
from loaders.schema import ORDER


def export_dataset(store: Store, folder: Path, fmt: str, *, at: str | None = None) -> dict[str, int]:
    """Write what ``store`` holds into ``folder`` (new or empty) as ``fmt``; ``at``: only the
    memberships held on that day, as dated memberships without the changes behind them (Popolo,
    FtM: a snapshot). Returns the records written per file."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}: {', '.join(FORMATS)}")
    if at is not None and fmt == "csv":
        raise InvalidInput("--at is for popolo and ftm: the canonical files hold the whole history")
    if at is not None:
        try:
            to_ordinal(at)
        except (InvalidInput, ValueError) as exc:
            raise InvalidInput(f"--at {at!r}: {exc}") from None
    check_new_folder(folder, f"{folder} is not an empty folder: an export is written into a new or empty one")
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    beside = ORDER if fmt == "csv" else [e for e in ORDER if e not in PEOPLE]
    for entity in beside:
        rows = stored_rows(store, entity)
        if rows:
            write_csv(folder / f"{entity}.csv", rows)
            written[f"{entity}.csv"] = len(rows)
    if fmt == "popolo":
        doc = popolo_document(store, memberships(store, at), snapshot=at is not None)
        (folder / "popolo.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        written["popolo.json"] = sum(len(v) for v in doc.values() if isinstance(v, list))
    elif fmt == "ftm":
        entities = ftm_entities(store, memberships(store, at), snapshot=at is not None)
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entities)
        (folder / "entities.ftm.json").write_text(text, encoding="utf-8")
        written["entities.ftm.json"] = len(entities)
    return written
