"""Test helpers: write small datasets in the canonical format; compare stores."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph.store import Store
from loaders.load import Report

Load = Callable[..., Report]  # load_dataset, or stream_dataset in small chunks (tests/loaders/conftest.py)


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None, encoding: str = "utf-8") -> Path:
    header = header or list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r.get(k, "") for k in header})
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_dataset(folder: Path, **tables: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        write_csv(folder / f"{name}.csv", rows)
    return folder


def organization(id: str, name: str, kind: str, level: str, parent_id: str = "", **extra: Any) -> dict[str, Any]:
    return {"id": id, "name": name, "kind": kind, "level": level, "parent_id": parent_id, **extra}


ENTITIES = [  # every stored entity, in load order
    "organizations",
    "positions",
    "persons",
    "tenure_rows",
    "changes",
    "duties",
    "actions",
    "cases",
    "accountability",
    "standards",
]


def snapshot(store: Store) -> dict[str, Any]:
    persons = sorted({t.person_id for t in store.tenures(position_ids=list(store.get_positions()))})

    def canonical(records: Any) -> list[str]:
        return sorted(
            json.dumps(r if isinstance(r, dict) else r.model_dump(), sort_keys=True, default=list) for r in records
        )

    return {
        **{e: canonical(store.export(e)) for e in ENTITIES},
        "tenures": canonical(store.tenures(person_ids=persons)),
    }
