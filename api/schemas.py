"""Response models of the API (``XPublic``; lists as ``XsPublic(data, count, total)``)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from graph.model import Case, Organization, Person
from queries.findings import DoublePost
from queries.lookups import CareerStep, Holding
from queries.notices import Notice

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int = Field(description="items in this page")
    total: int = Field(description="items matching, all pages")
    limit: int
    offset: int


class OrganizationsPublic(Page[Organization]):
    pass


class PersonsPublic(Page[Person]):
    pass


class CasesPublic(Page[Case]):
    pass


class HealthPublic(BaseModel):
    status: str
    backend: str = Field(description="the kind of store: embedded, neo4j or falkordb")
    reachable: bool


class VersionPublic(BaseModel):
    version: str
    api: str = "1"


class HoldersPublic(BaseModel):
    position_id: str
    at: str
    holders: list[Holding]


class LeadersPublic(BaseModel):
    org_id: str
    at: str
    leaders: list[Holding]


class CareerPublic(BaseModel):
    person: Person
    career: list[CareerStep]


class AdhocCase(BaseModel):
    """A case that is not stored: ask "who would be accountable if..."."""

    org_id: str
    category: str
    start: str = Field(examples=["2021-05-01"])
    end: str | None = Field(None, examples=["2021-12-31"])
    violator_ids: list[str] = Field(default_factory=list)
    as_of: str | None = Field(None, description="default: the latest date in the data")
    lookback_days: int = Field(365, ge=0, le=3650)
    depth: int = Field(1, ge=0, le=6)


class FadesPublic(BaseModel):
    window: dict[str, str]
    category: str | None
    fades: list[dict[str, Any]]
    steepest_fade: dict[str, Any] | None
    notices: list[Notice] = Field(default_factory=list)


class OrgPressurePublic(BaseModel):
    window: dict[str, str]
    category: str | None
    figures: dict[str, Any]
    received_by_kind: dict[str, dict[str, float]]
    evidence: dict[str, list[str]] = Field(description="action ids behind each figure")
    notices: list[Notice] = Field(default_factory=list)


class DoublePostsPublic(BaseModel):
    window: dict[str, str] | None = Field(description="null: over all the data")
    double_posts: list[DoublePost]
    count: int


class GapsPublic(BaseModel):
    at: str
    gaps: list[dict[str, Any]]
    count: int


class ImportRows(BaseModel):
    """An import as JSON: rows per file name (``persons``, ``tenures``, ...), as in the files."""

    tables: dict[str, list[dict[str, Any]]]
    dry_run: bool = False


class ImportPublic(BaseModel):
    id: str
    who: str
    at: str
    dry_run: bool
    outcome: str = Field(description="written | unchanged | dry-run-ok | invalid | conflict | failed")
    report: dict[str, Any]
