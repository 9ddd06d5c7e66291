"""The FastAPI service: accountability lookups, pressure, findings and imports over any
store. Closed by default: every route but /health needs an API key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import errors
from api.keys import load_keys
from api.routers import analysis, imports, meta, organizations, people
from rtc.settings import Settings, get_settings, open_configured_store


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = open_configured_store(settings.store)  # opened once, closed once
        app.state.keys = load_keys(settings.api_keys_file)
        app.state.import_log = imports.ImportLog(settings.audit_log)
        try:
            yield
        finally:
            app.state.store.close()

    app = FastAPI(
        title="rtc",
        version="1",
        lifespan=lifespan,
        description="Responsibility transmission chain: who is accountable for a case, and where "
        "supervision pressure fades. Send `Authorization: Bearer KEY` (or `X-API-Key`).",
    )
    app.dependency_overrides[get_settings] = lambda: settings
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )
    errors.install(app)
    for router in (
        meta.router,
        organizations.router,
        people.persons,
        people.positions,
        analysis.cases,
        analysis.pressure_router,
        analysis.findings_router,
        analysis.scorecard_router,
        imports.router,
    ):
        app.include_router(router)
    return app
