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
        self._read = 0  # bytes of the file read so far
        self._read_new()

    def _read_new(self) -> None:
        """The entries appended to the file since it was last read (another worker's imports)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            fh.seek(self._read)
            data = fh.read()
        whole = data[: data.rfind(b"\n") + 1]  # a line being written is read next time
        self._read += len(whole)
        for line in whole.decode("utf-8").splitlines():
            if line.strip():
                entry = ImportPublic.model_validate_json(line)
                self.entries[entry.id] = entry

    def get(self, import_id: str) -> ImportPublic | None:
        with self._lock:
            if import_id not in self.entries:
                self._read_new()
            return self.entries.get(import_id)

    def add(self, entry: ImportPublic) -> None:
        with self._lock:
            self._read_new()  # what other workers appended first
            self.entries[entry.id] = entry
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(entry.model_dump_json() + "\n")


def audit(request: Request, who: str, dry_run: bool, outcome: str, body: dict[str, Any]) -> ImportPublic:
    """Append one import attempt to the audit log (never the key) and return it."""
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    entry = ImportPublic(id=uuid.uuid4().hex[:16], who=who, at=at, dry_run=dry_run, outcome=outcome, report=body)
    request.app.state.import_log.add(entry)
    return entry
