"""Accountability, pressure, findings and scorecards: the queries of docs/domain.md."""

from __future__ import annotations

import functools
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Response

from api.deps import Reader, SettingsDep, StoreDep
from api.routers.common import AtQuery, CategoryQuery, FromQuery, ToQuery, day
from api.schemas import AdhocCase, CasesPublic, DoublePostsPublic, FadesPublic, GapsPublic, OrgPressurePublic
from graph.errors import NotFound
from queries import accountability, findings, pressure
from queries.window import default_window

cases = APIRouter(tags=["accountability"])
pressure_router = APIRouter(prefix="/pressure", tags=["pressure"])
findings_router = APIRouter(prefix="/findings", tags=["findings"])
scorecard_router = APIRouter(prefix="/scorecard", tags=["findings"])


@cases.get("/cases", response_model=CasesPublic)
def list_cases(
    store: StoreDep,
    _: Reader,
    q: Annotated[str | None, Query(max_length=200, description="part of the case id")] = None,
    org: Annotated[str | None, Query(description="only the cases of this organization")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> CasesPublic:
    """Stored cases by id (the workbench's search), in id order."""
    found = [c for c in store.get_cases(org_ids=[org] if org else None).values() if not q or q.lower() in c.id.lower()]
    found.sort(key=lambda c: c.id)
    page = found[offset : offset + limit]
    return CasesPublic(data=page, count=len(page), total=len(found), limit=limit, offset=offset)


@cases.get("/cases/{case_id:id}/accountability", response_model=accountability.AccountabilityResult)
async def case_accountability(
    case_id: str,
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    as_of: AtQuery = None,
    lookback_days: Annotated[int, Query(ge=0, le=3650)] = 365,
    depth: Annotated[int, Query(ge=0, le=6)] = 1,
) -> Response:
    """Who is accountable for a stored case, found in their posts at ``as_of``."""
    query = functools.partial(
        accountability.accountability,
        store,
        case_id,
        as_of=as_of,
        lookback_days=lookback_days,
        depth=depth,
        weights=settings.weights,
    )
    # In-process (embedded) it is a millisecond of CPU: run it here, without the thread
    # pool's hop (half the request). On a server store it waits on round trips: a thread.
    result = query() if store.capabilities.in_process else await anyio.to_thread.run_sync(query)
    # The busiest route: the result already is the response model, so pydantic writes the JSON
    # itself (FastAPI's generic encoder took a third of the request).
    return Response(result.model_dump_json(), media_type="application/json")


@cases.post("/accountability", response_model=accountability.AccountabilityResult)
def adhoc_accountability(
    body: AdhocCase, store: StoreDep, settings: SettingsDep, _: Reader
) -> accountability.AccountabilityResult:
    """The same for a case that is not stored ("what if")."""
    case = accountability.adhoc_case(body.org_id, body.start, body.end, body.category, body.violator_ids)
    return accountability.accountability(
        store,
        case,
        as_of=day(store, body.as_of),
        lookback_days=body.lookback_days,
        depth=body.depth,
        weights=settings.weights,
    )


def _pressure(
    store: StoreDep, settings: SettingsDep, start: str | None, end: str | None, category: CategoryQuery
) -> pressure.Pressure:
    return pressure.pressure(
        store,
        default_window(store, start, end),
        category=category.value if category else None,
        weights=settings.weights,
    )


@pressure_router.get("/levels", response_model=pressure.LevelProfile)
def levels(
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    start: FromQuery = None,
    end: ToQuery = None,
    category: CategoryQuery = None,
) -> pressure.LevelProfile:
    """Pressure received per level (median and mean over organizations, zeros included)."""
    return pressure.level_profile(_pressure(store, settings, start, end, category))


@pressure_router.get("/fades", response_model=FadesPublic)
def fades(
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    start: FromQuery = None,
    end: ToQuery = None,
    category: CategoryQuery = None,
) -> FadesPublic:
    """The fade ratio at each level boundary, and the steepest."""
    profile = pressure.level_profile(_pressure(store, settings, start, end, category))
    ratios = [
        {"from_level": a.level, "to_level": b.level, "ratio": b.fade_ratio_from_above}
        for a, b in zip(profile.levels, profile.levels[1:], strict=False)
    ]
    return FadesPublic(
        window=profile.window,
        category=profile.category,
        fades=ratios,
        steepest_fade=profile.steepest_fade.model_dump() if profile.steepest_fade else None,
        notices=profile.notices,
    )


@pressure_router.get("/orgs/{org_id:id}", response_model=OrgPressurePublic)
def org_pressure(
    org_id: str,
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    start: FromQuery = None,
    end: ToQuery = None,
    category: CategoryQuery = None,
) -> OrgPressurePublic:
    """One organization's figures, with the action ids behind each."""
    if not store.get_organizations([org_id]):
        raise NotFound(f"no organization with id {org_id!r}")
    p = _pressure(store, settings, start, end, category)
    figures = pressure.org_pressures(p, min_pressure=settings.min_pressure, sink_ratio=settings.sink_ratio)
    own = figures.get(org_id)
    return OrgPressurePublic(
        window=p.window.as_dict(),
        category=p.category,
        figures=own.model_dump() if own else {},
        received_by_kind=pressure.received_by_kind(p, org_id),
        evidence={f: pressure.evidence(p, org_id, f) for f in ("received", "sent", "weak", "commission")},
        notices=pressure.notices(p),
    )


@findings_router.get("/gaps", response_model=GapsPublic)
def gaps(store: StoreDep, _: Reader, at: AtQuery = None) -> GapsPublic:
    when = day(store, at)
    found = findings.gaps(store, when)
    return GapsPublic(at=when, gaps=[g.model_dump() for g in found], count=len(found))


@findings_router.get("/soft", response_model=findings.SoftReport)
def soft(
    store: StoreDep,
    _: Reader,
    start: FromQuery = None,
    end: ToQuery = None,
    min_outcomes: Annotated[int, Query(ge=1, le=1000)] = 3,
) -> findings.SoftReport:
    w = default_window(store, start, end) if start or end else None  # a lone from counts too
    return findings.soft_accountability(store, w, min_outcomes=min_outcomes)


@findings_router.get("/double-posts", response_model=DoublePostsPublic)
def double_posts(store: StoreDep, _: Reader, start: FromQuery = None, end: ToQuery = None) -> DoublePostsPublic:
    """People holding two incompatible leadership posts at once; only overlaps meeting the
    window when ``from`` or ``to`` is given."""
    window = default_window(store, start, end) if start or end else None
    found = findings.double_posts(store, window)
    return DoublePostsPublic(window=window.as_dict() if window else None, double_posts=found, count=len(found))


@findings_router.get("/slogans", response_model=findings.Slogans)
def slogans(
    store: StoreDep, settings: SettingsDep, _: Reader, start: FromQuery = None, end: ToQuery = None
) -> findings.Slogans:
    """Committees whose supervision work is done by their commission (case_support excepted)."""
    return findings.slogans(_pressure(store, settings, start, end, None), threshold=settings.commission_share_flag)


@scorecard_router.get("/{org_id:id}", response_model=findings.Scorecard)
def scorecard(
    org_id: str, store: StoreDep, settings: SettingsDep, _: Reader, start: FromQuery = None, end: ToQuery = None
) -> findings.Scorecard:
    if not store.get_organizations([org_id]):
        raise NotFound(f"no organization with id {org_id!r}")
    return findings.scorecard(
        store,
        org_id,
        _pressure(store, settings, start, end, None),
        min_pressure=settings.min_pressure,
        sink_ratio=settings.sink_ratio,
    )
