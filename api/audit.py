"""The audit log of imports: every attempt through the API, who, when, what and the outcome,
refused ones included (the key itself is never written)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from pathlib import Path
from typing import Any

from fastapi import Request

from api.schemas import ImportPublic


class ImportLog:
    """Every import of this service: kept in memory for GET, and appended to the audit file."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.entries: dict[str, ImportPublic] = {}
        self._lock = threading.Lock()
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    entry = ImportPublic.model_validate_json(line)
                    self.entries[entry.id] = entry

    def add(self, entry: ImportPublic) -> None:
        with self._lock:
            self.entries[entry.id] = entry
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(entry.model_dump_json() + "\n")


def audit(request: Request, who: str, dry_run: bool, outcome: str, body: dict[str, Any]) -> ImportPublic:
    """Append one import attempt to the audit log (never the key) and return it."""
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    entry = ImportPublic(id=uuid.uuid4().hex[:16], who=who, at=at, dry_run=dry_run, outcome=outcome, report=body)
    request.app.state.import_log.add(entry)
    return entry
