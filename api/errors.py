"""Errors as ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.audit import audit
from graph.errors import InvalidInput, NotFound, StoreError

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra},
        status_code=status,
        media_type=PROBLEM,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        _audit_refused(request, exc.status_code, str(exc.detail))
        response = problem(exc.status_code, phrase(exc.status_code), str(exc.detail))
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        # the detail names the first parameter refused, as a person reads it: "at: not a date ..."
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in list(first.get("loc", ()))[1:]) or "request"
        detail = f"{where}: {str(first.get('msg', 'invalid')).removeprefix('Value error, ')}"
        _audit_refused(request, 422, detail)
        return problem(422, "Unprocessable Content", detail, errors=errors)

    @app.exception_handler(NotFound)  # raised by queries and views: no route maps it itself
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, "Not Found", str(exc))

    @app.exception_handler(InvalidInput)
    async def invalid_input(request: Request, exc: InvalidInput) -> JSONResponse:
        return problem(422, "Unprocessable Content", str(exc))

    @app.exception_handler(ValueError)  # a value the caller gave, refused by a library (pydantic, datetime)
    async def bad_value(request: Request, exc: ValueError) -> JSONResponse:
        return problem(422, "Unprocessable Content", str(exc))

    @app.exception_handler(StoreError)
    async def store_down(request: Request, exc: StoreError) -> JSONResponse:
        return problem(503, "Service Unavailable", str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not the caller's mistake: logged in full here, never shown to the caller.
        logging.getLogger("rtc.api").exception("unexpected error on %s %s", request.method, request.url.path)
        _audit_refused(request, 500, "an unexpected error")
        return problem(500, "Internal Server Error", "an unexpected error; it is logged on the server")


def _audit_refused(request: Request, status: int, detail: str) -> None:
    """An import attempt refused before the route could log it (no key, a role that may not
    import, bad parameters, a bug) goes to the audit log too."""
    if request.method != "POST" or request.url.path != "/imports" or getattr(request.state, "audited", False):
        return
    who = getattr(request.state, "who", None) or "unauthenticated"
    audit(request, who, False, "refused", {"status": status, "error": detail})


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
