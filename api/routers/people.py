from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Reader, StoreDep
from api.routers.common import AtQuery, day
from api.schemas import CareerPublic, HoldersPublic, PersonsPublic
from graph.errors import NotFound
from graph.model import Person
from queries import lookups

persons = APIRouter(prefix="/persons", tags=["persons"])
positions = APIRouter(prefix="/positions", tags=["positions"])


@persons.get("", response_model=PersonsPublic)
def search_persons(
    store: StoreDep,
    _: Reader,
    q: Annotated[str, Query(min_length=1, max_length=200, description="part of the name (Chinese works) or the id")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> PersonsPublic:
    found, total = store.find_persons(q, limit=limit, offset=offset)
    return PersonsPublic(data=found, count=len(found), total=total, limit=limit, offset=offset)


@persons.get("/{person_id:id}/career", response_model=CareerPublic)
def career(person_id: str, store: StoreDep, _: Reader) -> CareerPublic:
    found = lookups.person(store, person_id)
    return CareerPublic(person=found, career=lookups.career(store, found.id))


@positions.get("/{position_id:id}/holders", response_model=HoldersPublic)
def holders(position_id: str, store: StoreDep, _: Reader, at: AtQuery = None) -> HoldersPublic:
    if not store.get_positions([position_id]):
        raise NotFound(f"no position with id {position_id!r}")
    when = day(store, at)
    return HoldersPublic(position_id=position_id, at=when, holders=lookups.holders(store, position_id, when))


@persons.get("/{person_id:id}", response_model=Person)
def get_person(person_id: str, store: StoreDep, _: Reader) -> Person:
    return lookups.person(store, person_id)
