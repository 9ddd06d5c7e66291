"""Imports: a dataset as uploaded files or JSON rows, with the same all-or-nothing,
idempotent semantics as ``rtc load``. Each import is logged: who, when, what, outcome."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import threading
import uuid
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from api.deps import Loader, Reader, SettingsDep, StoreDep
from api.errors import NotFound, problem
from api.schemas import ImportPublic, ImportRows
from graph.store import StoreError
from loaders.load import Report, load_dataset, load_tables
from loaders.schema import EXTENSIONS, FILES

router = APIRouter(prefix="/imports", tags=["imports"])
# Imports run in a worker thread of their own, one at a time; reads go on meanwhile.
_imports = anyio.CapacityLimiter(1)


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


def _outcome(report: Report) -> tuple[str, int]:
    if report.ok:
        if report.dry_run:
            return "dry-run-ok", 200
        return ("written", 201) if report.written else ("unchanged", 200)
    if any(e.rule == "duplicate-id" and "already stored" in e.message for e in report.errors):
        return "conflict", 409
    return "invalid", 422


def _finish(request: Request, who: str, dry_run: bool, report: Report | None, error: str | None) -> JSONResponse:
    entry_id = uuid.uuid4().hex[:16]
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if report is None:
        outcome, status, body = "failed", 503, {"error": error}
    else:
        (outcome, status), body = _outcome(report), report.to_dict()
    entry = ImportPublic(id=entry_id, who=who, at=at, dry_run=dry_run, outcome=outcome, report=body)
    request.app.state.import_log.add(entry)
    if status >= 400:
        title = {409: "Conflict", 422: "Unprocessable Content", 503: "Service Unavailable"}[status]
        detail = error or f"{report.error_count if report else 0} error(s): nothing was written"
        return problem(status, title, detail, import_id=entry_id, report=body)
    return JSONResponse(
        json.loads(entry.model_dump_json()), status_code=status, headers={"Location": f"/imports/{entry_id}"}
    )


@router.post(
    "",
    response_model=ImportPublic,
    status_code=201,
    responses={
        200: {"description": "nothing new, or a valid dry run"},
        409: {"description": "conflicts with stored records"},
        413: {"description": "upload too large"},
        422: {"description": "invalid: the report lists every error"},
    },
)
async def create_import(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    who: Loader,
    dry_run: Annotated[bool, Query(description="validate only")] = False,
) -> JSONResponse:
    """Upload files (multipart, named like ``persons.csv``) or JSON ``{"tables": {...}}``."""
    size = int(request.headers.get("content-length") or 0)
    if size > settings.max_upload_bytes:
        return problem(
            413,
            "Content Too Large",
            f"the upload is {size} bytes; the limit is {settings.max_upload_bytes} (setting RTC_MAX_UPLOAD_BYTES)",
        )
    content_type = request.headers.get("content-type", "")
    log = {"who": who.name, "via": "api"}
    try:
        if content_type.startswith("multipart/form-data"):
            form = await request.form()
            uploads = [f for f in form.values() if isinstance(f, UploadFile)]
            if not uploads:
                return problem(422, "Unprocessable Content", "no files in the upload")
            with tempfile.TemporaryDirectory() as folder:
                for upload in uploads:
                    name = Path(upload.filename or "").name
                    if Path(name).stem not in FILES or Path(name).suffix.lower() not in EXTENSIONS:
                        return problem(
                            422,
                            "Unprocessable Content",
                            f"unexpected file {name!r}: name files like persons.csv, actions.jsonl or cases.xlsx",
                        )
                    Path(folder, name).write_bytes(await upload.read())
                report = await anyio.to_thread.run_sync(
                    partial(load_dataset, store, folder, dry_run=dry_run, max_errors=settings.max_errors, log=log),
                    limiter=_imports,
                )
                report.source = ", ".join(sorted(Path(u.filename or "").name for u in uploads))
        else:
            body = ImportRows.model_validate_json(await request.body())
            unknown = sorted(set(body.tables) - set(FILES))
            if unknown:
                return problem(422, "Unprocessable Content", f"unknown tables {unknown}; allowed: {sorted(FILES)}")
            report = Report(source="json", max_errors=settings.max_errors)
            tables: dict[str, list[tuple[tuple[str, int | None], dict[str, Any]]]] = {
                name: [((name, n), row) for n, row in enumerate(rows, start=1)] for name, rows in body.tables.items()
            }
            await anyio.to_thread.run_sync(
                partial(load_tables, store, tables, report, dry_run=dry_run or body.dry_run, log=log), limiter=_imports
            )
    except StoreError as exc:
        return _finish(request, who.name, dry_run, None, str(exc))
    return _finish(request, who.name, report.dry_run, report, None)


@router.get("/{import_id}", response_model=ImportPublic)
def get_import(import_id: str, request: Request, _: Reader) -> ImportPublic:
    entry = request.app.state.import_log.entries.get(import_id)
    if entry is None:
        raise NotFound(f"no import with id {import_id!r}")
    found: ImportPublic = entry
    return found
