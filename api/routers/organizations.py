from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Reader, StoreDep
from api.routers.common import AtQuery, day
from api.schemas import LeadersPublic, OrganizationsPublic
from graph.errors import NotFound
from graph.model import Level, Organization
from queries import lookups

router = APIRouter(prefix="/organizations", tags=["organizations"])


@router.get("", response_model=OrganizationsPublic)
def list_organizations(
    store: StoreDep,
    _: Reader,
    level: Level | None = None,
    parent: str | None = Query(None, description="only the children of this organization"),
    q: str | None = Query(None, max_length=200, description="part of the name (Chinese works) or the id"),
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> OrganizationsPublic:
    found = [
        o
        for o in store.get_organizations().values()
        if (level is None or o.level is level)
        and (parent is None or o.parent_id == parent)
        and (not q or q in o.name or q == o.id)
    ]
    found.sort(key=lambda o: o.id)
    page = found[offset : offset + limit]
    return OrganizationsPublic(data=page, count=len(page), total=len(found), limit=limit, offset=offset)


def _org(store: StoreDep, org_id: str) -> Organization:
    found = store.get_organizations([org_id])
    if org_id not in found:
        raise NotFound(f"no organization with id {org_id!r}")
    return found[org_id]


@router.get("/{org_id:id}/children", response_model=list[Organization])
def children(org_id: str, store: StoreDep, _: Reader) -> list[Organization]:
    _org(store, org_id)
    return store.get_children([org_id]).get(org_id, [])


@router.get("/{org_id:id}/leaders", response_model=LeadersPublic)
def leaders(org_id: str, store: StoreDep, _: Reader, at: AtQuery = None) -> LeadersPublic:
    _org(store, org_id)
    when = day(store, at)
    return LeadersPublic(org_id=org_id, at=when, leaders=lookups.leaders(store, org_id, when))


@router.get("/{org_id:id}", response_model=Organization)
def get_organization(org_id: str, store: StoreDep, _: Reader) -> Organization:
    return _org(store, org_id)
