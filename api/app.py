"""The FastAPI service: accountability lookups, pressure, findings and imports over any
store. Closed by default: every route but /health needs an API key."""

from __future__ import annotations

import gc
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from api import errors
from api.audit import ImportLog
from api.deps import Reader
from api.ids import EncodedSlashes
from api.keys import KeyRing
from api.routers import analysis, imports, indicators, meta, organizations, people, views, workbench
from core.config import Settings, get_settings, open_configured_store
from graph.store import Store
from queries.accountability import accountability


def _warm(store: Store) -> None:
    """Build the store's in-memory indexes now, then exempt them from garbage collection: a full
    collection walking millions of index objects stalled concurrent requests for 200 ms."""
    store.warm()
    cases = store.get_cases()
    if cases:  # whatever else the busiest route builds lazily
        accountability(store, next(iter(cases)))
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The API; ``store``: one opened, warmed and released before a fork (``rtc serve --workers``),
    that this worker reconnects to, sharing the indexes the parent built."""
    settings = settings or get_settings()
    shared = store

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if shared is not None:
            shared.reconnect()
            app.state.store = store = shared
        else:
            app.state.store = store = open_configured_store(settings.store, settings)  # opened once, closed once
        _warm(store)
        app.state.keys = KeyRing(settings.api_keys_file)
        app.state.keys.entries()  # a broken keys file stops the start, with its reason
        app.state.import_log = ImportLog(settings.audit_log)
        try:
            yield
        finally:
            app.state.store.close()

    docs = {} if settings.public_docs else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(
        title="rtc",
        version="1",
        lifespan=lifespan,
        **docs,  # type: ignore[arg-type]
        description="Responsibility transmission chain: who is accountable for a case, and where "
        "supervision pressure fades. Send `Authorization: Bearer KEY` (or `X-API-Key`).",
    )
    app.state.settings = settings
    # signs browser sessions; a random one per process unless set (several workers must share it)
    app.state.session_secret = settings.session_secret.get_secret_value().encode() or secrets.token_bytes(32)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )
    app.add_middleware(EncodedSlashes)
    errors.install(app)
    for router in (
        meta.router,
        organizations.router,
        indicators.router,  # before /persons/{id}: an id may hold a slash, /score ends the route
        people.persons,
        people.positions,
        analysis.cases,
        analysis.pressure_router,
        analysis.findings_router,
        analysis.scorecard_router,
        imports.router,
        views.router,
        workbench.router,
    ):
        app.include_router(router)
    if not settings.public_docs:

        @app.get("/openapi.json", include_in_schema=False)
        def openapi(_: Reader) -> JSONResponse:
            return JSONResponse(app.openapi())

    return app
