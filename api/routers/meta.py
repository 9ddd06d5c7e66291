from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from api.deps import StoreDep
from api.schemas import HealthPublic, VersionPublic

router = APIRouter(tags=["service"])


@router.get("/health", response_model=HealthPublic)
def health(store: StoreDep) -> HealthPublic:
    """No key needed. Says which kind of store serves, and whether it answers."""
    try:
        store.ping()  # an embedded store whose folder was deleted while serving is not reachable
        reachable = True
    except Exception:
        reachable = False
    backend = store.url.partition("://")[0] or "embedded"
    return HealthPublic(status="ok" if reachable else "degraded", backend=backend, reachable=reachable)


@router.get("/version", response_model=VersionPublic)
def get_version() -> VersionPublic:
    try:
        return VersionPublic(version=version("rtc"))
    except PackageNotFoundError:
        return VersionPublic(version="unknown")
