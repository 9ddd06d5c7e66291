"""Imports: a dataset as uploaded files or JSON rows, with the same all-or-nothing,
idempotent semantics as ``rtc load``. Each import is logged: who, when, what, outcome."""

from __future__ import annotations

import json
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive

from api.audit import audit
from api.deps import Loader, Reader, SettingsDep, StoreDep
from api.errors import phrase, problem
from api.schemas import ImportPublic, ImportRows
from graph.errors import NotFound
from graph.store import StoreError
from loaders.interchange.read import is_interchange
from loaders.load import LoadOptions, Report, load_dataset, load_tables
from loaders.schema import EXTENSIONS, FILES
from queries.indicators.alerts import import_alerts
from queries.indicators.scheme import load_scheme

router = APIRouter(prefix="/imports", tags=["imports"])
# Imports run in a worker thread of their own, one at a time; reads go on meanwhile.
_imports = anyio.CapacityLimiter(1)


def _outcome(report: Report) -> tuple[str, int]:
    if report.ok:
        if report.dry_run:
            return "dry-run-ok", 200
        return ("written", 201) if report.written else ("unchanged", 200)
    if any(e.rule == "duplicate-id" and "already stored" in e.message for e in report.errors):
        return "conflict", 409
    return "invalid", 422


def _refuse(request: Request, who: str, dry_run: bool, status: int, detail: str) -> JSONResponse:
    """An import refused before validation (too large, badly formed): audited, problem+json."""
    outcome = "too-large" if status == 413 else "refused"
    entry = audit(request, who, dry_run, outcome, {"status": status, "error": detail})
    return problem(status, phrase(status), detail, import_id=entry.id)


def _finish(request: Request, who: str, dry_run: bool, report: Report | None, error: str | None) -> JSONResponse:
    if report is None:
        outcome, status, body = "failed", 503, {"error": error}
    else:
        (outcome, status), body = _outcome(report), report.to_dict()
    entry = audit(request, who, dry_run, outcome, body)
    if status >= 400:
        detail = error or f"{report.error_count if report else 0} error(s): nothing was written"
        return problem(status, phrase(status), detail, import_id=entry.id, report=body)
    return JSONResponse(
        json.loads(entry.model_dump_json()), status_code=status, headers={"Location": f"/imports/{entry.id}"}
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
        503: {"description": "the store is unavailable or busy with another import; nothing was written"},
    },
)
async def create_import(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    who: Loader,
    dry_run: Annotated[bool, Query(description="validate only")] = False,
    tolerant: Annotated[
        bool, Query(description="load every valid row; the others are listed in the report's rejects")
    ] = False,
    correct: Annotated[bool, Query(description="replace stored values a record contradicts (each listed)")] = False,
    handover_days: Annotated[
        int, Query(ge=0, description="trim a predecessor's end when a one-seat overlap is at most this many days")
    ] = 0,
    match_persons: Annotated[
        bool, Query(description="find a new person's stored record by name and birth date (its id kept as alias)")
    ] = False,
) -> JSONResponse:
    """Upload files (multipart, named like ``persons.csv``) or JSON ``{"tables": {...}}``.
    The options are those of ``rtc load`` (docs/input-format.md); a tolerant import lists each
    row it set aside in ``rejects`` (file, row, error), to be fixed and sent again."""
    request.state.audited = True  # every answer below is written to the audit log by _finish
    if who.scope:
        detail = "a key limited to a jurisdiction cannot import: an import may touch any organization"
        return _refuse(request, who.name, dry_run, 403, detail)
    limit = settings.max_upload_bytes
    size = int(request.headers.get("content-length") or 0)
    if size > limit:
        return _refuse(request, who.name, dry_run, 413, f"the upload is {size} bytes; {_limit(limit)}")
    # The body is counted as it arrives, whatever the transfer encoding (chunked has no length).
    body = Request(request.scope, receive=_counted(request.receive, limit))
    content_type = request.headers.get("content-type", "")
    log = {"who": who.name, "via": "api"}
    options = LoadOptions(correct=correct, tolerant=tolerant, handover_days=handover_days, match_persons=match_persons)
    history = store.date_range() is None  # a first load is the history itself: no alert
    try:
        if content_type.startswith("multipart/form-data"):
            form = await body.form()
            uploads = [(field, f) for field, f in form.multi_items() if isinstance(f, UploadFile)]
            problem_text = _check_uploads(uploads)
            if problem_text:
                return _refuse(request, who.name, dry_run, 422, problem_text)
            with tempfile.TemporaryDirectory() as folder:
                for _, upload in uploads:
                    Path(folder, Path(upload.filename or "").name).write_bytes(await upload.read())
                report = await anyio.to_thread.run_sync(
                    partial(
                        load_dataset,
                        store,
                        folder,
                        dry_run=dry_run,
                        max_errors=settings.max_errors,
                        log=log,
                        options=options,
                    ),
                    limiter=_imports,
                )
                report.source = ", ".join(sorted(Path(u.filename or "").name for _, u in uploads))
        else:
            rows = ImportRows.model_validate_json(await body.body())
            unknown = sorted(set(rows.tables) - set(FILES))
            if unknown:
                return _refuse(request, who.name, dry_run, 422, f"unknown tables {unknown}; allowed: {sorted(FILES)}")
            report = Report(source="json", max_errors=settings.max_errors)
            tables: dict[str, list[tuple[tuple[str, int | None], dict[str, Any]]]] = {
                name: [((name, n), row) for n, row in enumerate(table, start=1)] for name, table in rows.tables.items()
            }
            await anyio.to_thread.run_sync(
                partial(load_tables, store, tables, report, dry_run=dry_run or rows.dry_run, log=log, options=options),
                limiter=_imports,
            )
    except _TooLarge:
        return _refuse(request, who.name, dry_run, 413, f"the upload is over the limit; {_limit(limit)}")
    except ValidationError as exc:
        return _refuse(request, who.name, dry_run, 422, f"not an import body: {exc.errors()[0]['msg']}")
    except StoreError as exc:
        return _finish(request, who.name, dry_run, None, str(exc))
    if report.ok and report.new_changes and settings.alerts_on_import and not history:
        report.alerts = await anyio.to_thread.run_sync(
            partial(
                import_alerts,
                store,
                load_scheme(settings.scheme),
                report.new_changes,
                weights=settings.weights,
                min_pressure=settings.min_pressure,
                sink_ratio=settings.sink_ratio,
            )
        )
    return _finish(request, who.name, report.dry_run, report, None)


class _TooLarge(Exception):
    """The body grew past ``max_upload_bytes`` while it was read."""


def _counted(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise _TooLarge
        return message

    return counted


def _limit(limit: int) -> str:
    return f"the limit is {limit} bytes (setting RTC_MAX_UPLOAD_BYTES)"


def _check_uploads(uploads: list[tuple[str, UploadFile]]) -> str | None:
    """Why a multipart upload cannot be imported as it is, or None: every file must be named
    like an entity's file, once (two parts under one name would silently replace each other)."""
    if not uploads:
        return "no files in the upload"
    names = [Path(u.filename or "").name for _, u in uploads]
    for name in names:
        if is_interchange(name):
            continue  # Popolo or FollowTheMoney, read beside the canonical files
        if Path(name).stem not in FILES or Path(name).suffix.lower() not in EXTENSIONS:
            return (
                f"unexpected file {name!r}: name files like persons.csv, actions.jsonl or cases.xlsx "
                "(or popolo.json, entities.ftm.json)"
            )
    for label, values in (("file name", names), ("form field", [field for field, _ in uploads])):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            return (
                f"the {label} {repeated[0]!r} is used by more than one file: send each file once, under its own field"
            )
    stems = [Path(n).stem for n in names]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        return f"more than one file for {twice[0]!r}: send one file per entity"
    return None


@router.get("/{import_id}", response_model=ImportPublic)
def get_import(import_id: str, request: Request, who: Reader) -> ImportPublic:
    entry = request.app.state.import_log.get(import_id)
    if entry is None or (who.scope and entry.who != who.name):  # a jurisdiction sees its own imports only
        raise NotFound(f"no import with id {import_id!r}")
    found: ImportPublic = entry
    return found
