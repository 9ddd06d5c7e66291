"""Dependencies: settings, the store opened once by the lifespan hook, and the caller's role.

They are ``async def`` on purpose: none of them blocks, and FastAPI runs a plain ``def``
dependency in its thread pool, a hop that cost more than the whole lookup it guards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status

from api import sessions
from api.keys import Principal, authenticate
from core.config import Settings
from graph.scoped import ScopedStore
from graph.store import Store


async def app_settings(request: Request) -> Settings:
    """The settings the app was created with (not ``dependency_overrides``: FastAPI analyses an
    overridden dependency's signature again on every request)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def _presented_key(
    authorization: Annotated[str | None, Header(description="Bearer API key")] = None,
    x_api_key: Annotated[str | None, Header(description="API key (alternative to Authorization)")] = None,
) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return x_api_key or None


def key_entries(request: Request) -> list[dict[str, Any]]:
    try:
        entries: list[dict[str, Any]] = request.app.state.keys.entries()
    except ValueError as exc:  # fail closed: a keys file that cannot be read accepts no key
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    return entries


def session_of(request: Request) -> Principal | None:
    """The principal of the browser session the request carries, for a read; else None."""
    token = request.cookies.get(sessions.COOKIE)
    if not token or request.method not in sessions.SAFE_METHODS:
        return None
    return sessions.verify(token, request.app.state.session_secret, key_entries(request))


async def _caller(request: Request, key: Annotated[str | None, Depends(_presented_key)]) -> Principal | None:
    """Whose key (or, for a read, whose browser session) this is, or None."""
    if not key:
        return session_of(request)
    return authenticate(key, key_entries(request))


async def get_store(request: Request, caller: Annotated[Principal | None, Depends(_caller)]) -> Store:
    """The store, as the caller may see it: limited to its jurisdiction when its key has one."""
    store: Store = request.app.state.store
    if caller is not None and caller.scope:
        return ScopedStore(store, caller.scope)
    return store


StoreDep = Annotated[Store, Depends(get_store)]


async def _principal(
    key: Annotated[str | None, Depends(_presented_key)], caller: Annotated[Principal | None, Depends(_caller)]
) -> Principal:
    if not key and caller is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "an API key is required (Authorization: Bearer KEY)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if caller is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key", headers={"WWW-Authenticate": "Bearer"})
    return caller


def require(role: str) -> Callable[..., Awaitable[Principal]]:
    async def check(request: Request, principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        request.state.who = principal.name  # for the audit of a refused import
        if not principal.may(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {principal.role} role may not do this (needs {role})")
        return principal

    return check


Reader = Annotated[Principal, Depends(require("reader"))]
Loader = Annotated[Principal, Depends(require("loader"))]
