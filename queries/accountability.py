"""Accountability for a case: "double investigation of one case" (DOMAIN.md section 5.2).

For a case in organization ``o`` with misconduct window ``[s, e)`` and category ``c``:
the violators (``direct``), the secretary (``first``), members whose portfolio holds
``c`` (``portfolio``), the discipline secretary of the supervising commission
(``supervisory``), superiors that sent no strong-form action of ``c`` to ``o`` in
``[s - L, e)`` (``upstream``), and the other leaders (``collective``). Each person is
found where they are at ``as_of``, whether they stayed, moved or left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, Field

from graph.model import (
    Case,
    Category,
    Organization,
    OrgKind,
    Position,
    ResponsibilityKind,
    Role,
    Tenure,
    from_ordinal,
    to_ordinal,
)
from graph.store import CATEGORIES, Store
from queries.lookups import PersonRef, Post, posts_of
from queries.window import latest_date, strong_mask, weight_array

ROLE_ORDER = [r.value for r in ResponsibilityKind]


class PostThen(BaseModel):
    position_id: str
    title: str
    org_id: str
    org_name: str
    start: str
    end: str | None = None


class PostNow(BaseModel):
    position_id: str
    title: str
    org_id: str
    org_name: str
    start: str


class Evidence(BaseModel):
    tenures: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)


class Responsible(BaseModel):
    role: str
    person: PersonRef
    post_then: PostThen | None
    overlap_days: int
    posts_now: list[PostNow]
    movement: str  # same | transferred | promoted | demoted | left (unknown: no post during the window)
    path: list[PostThen] = Field(default_factory=list, description="tenures from the post then to as_of")
    last_post: PostThen | None = Field(None, description="for movement 'left': the last post held")
    level_up: int = Field(0, description="for upstream: how many levels above the case organization")
    evidence: Evidence


class CaseRef(BaseModel):
    id: str | None
    org_id: str
    org_name: str
    category: str
    start: str
    end: str | None
    window_end: str = Field(description="the end of [s, e) used: end, else discovered, else as_of")
    violator_ids: list[str]


class AccountabilityResult(BaseModel):
    case: CaseRef
    as_of: str
    lookback_days: int
    depth: int
    responsible: list[Responsible]


def accountability(
    store: Store,
    case: str | Case,
    *,
    as_of: str | dt.date | None = None,
    lookback_days: int = 365,
    depth: int = 1,
    weights: dict[str, float] | None = None,
) -> AccountabilityResult:
    """Everyone accountable for a case, found in their posts at ``as_of``.

    ``case`` is a stored case id, or a ``Case`` built by hand to ask "what if".
    ``as_of`` defaults to the latest date in the data.

    Examples
    --------
    >>> result = accountability(store, "K000123", as_of="2025-06-30")  # doctest: +SKIP
    >>> [(r.role, r.person.name, r.movement) for r in result.responsible]  # doctest: +SKIP
    [('direct', '李强', 'left'), ('first', '王伟', 'promoted'), ...]
    """
    if isinstance(case, str):
        found = store.get_cases([case])
        if case not in found:
            raise KeyError(f"no case with id {case!r}")
        case = found[case]
    if lookback_days < 0 or depth < 0:
        raise ValueError("lookback_days and depth must not be negative")
    at = to_ordinal(as_of) if as_of is not None else latest_date(store)
    orgs = store.get_organizations([case.org_id])
    if case.org_id not in orgs:
        raise KeyError(f"no organization with id {case.org_id!r}")
    org = orgs[case.org_id]
    s = to_ordinal(case.start)
    e = to_ordinal(case.end or case.discovered or from_ordinal(at + 1))
    e = max(e, s + 1)
    finder = _Finder(store, at)

    rows: list[Responsible] = []
    listed: set[str] = set()
    own = store.get_positions(org_ids=[org.id])
    rows += finder.direct(case.violator_ids, (s, e), org.id)
    rows += finder.holders(ResponsibilityKind.first, _by_role(own, Role.secretary), (s, e))
    rows += finder.holders(
        ResponsibilityKind.portfolio,
        [p for p in _by_role(own, Role.member) if Category(case.category) in p.portfolio],
        (s, e),
    )
    commission = supervising_commission(store, org)
    if commission is not None:
        theirs = store.get_positions(org_ids=[commission.id])
        rows += finder.holders(ResponsibilityKind.supervisory, _by_role(theirs, Role.discipline_secretary), (s, e))
    rows += _upstream(store, finder, org, case.category, (s - lookback_days, e), depth, weights)
    listed = {r.person.id for r in rows if r.role in ("direct", "first", "portfolio")}
    others = [p for p in own.values() if p.role is not Role.staff]
    rows += [r for r in finder.holders(ResponsibilityKind.collective, others, (s, e)) if r.person.id not in listed]
    finder.fill(rows)
    rows.sort(
        key=lambda r: (ROLE_ORDER.index(r.role), r.level_up, r.post_then.start if r.post_then else "", r.person.id)
    )
    return AccountabilityResult(
        case=CaseRef(
            id=case.id or None,
            org_id=org.id,
            org_name=org.name,
            category=case.category.value,
            start=case.start,
            end=case.end,
            window_end=from_ordinal(e),
            violator_ids=list(case.violator_ids),
        ),
        as_of=from_ordinal(at),
        lookback_days=lookback_days,
        depth=depth,
        responsible=rows,
    )


def _by_role(positions: dict[str, Position], role: Role) -> list[Position]:
    return [p for p in positions.values() if p.role is role]


def supervising_commission(store: Store, org: Organization) -> Organization | None:
    """The commission that supervises ``org``: its ``supervised_by``, else the commission
    whose parent is the nearest ancestor-or-self committee."""
    if org.supervised_by:
        return store.get_organizations([org.supervised_by]).get(org.supervised_by)
    current: Organization | None = org
    while current is not None:
        if current.kind is OrgKind.committee:
            kids = store.get_children([current.id]).get(current.id, [])
            found = [k for k in kids if k.kind is OrgKind.commission]
            if found:
                return found[0]
        parent = current.parent_id
        current = store.get_organizations([parent]).get(parent) if parent else None
    return None


def _upstream(
    store: Store,
    finder: _Finder,
    org: Organization,
    category: str,
    window: tuple[int, int],
    depth: int,
    weights: dict[str, float] | None,
) -> list[Responsible]:
    """Superiors who sent no strong-form action of the category down the chain, up to ``depth`` levels."""
    rows: list[Responsible] = []
    strong = strong_mask(weight_array(weights))
    child = org
    for level_up in range(1, depth + 1):
        if not child.parent_id:
            break
        parent = store.get_organizations([child.parent_id]).get(child.parent_id)
        if parent is None:
            break
        sent = store.actions(window[0], window[1], category=category, from_orgs=[parent.id], to_orgs=[child.id])
        if np.any(strong[sent.kind]):
            break  # the pressure was transmitted: the chain of failure stops here
        theirs = store.get_positions(org_ids=[parent.id])
        posts = _by_role(theirs, Role.secretary) + [
            p for p in _by_role(theirs, Role.member) if Category(category) in p.portfolio
        ]
        found = finder.holders(ResponsibilityKind.upstream, posts, window)
        for r in found:
            r.level_up = level_up
            r.evidence.actions = list(sent.ids)  # what was sent instead: weak forms only, or nothing
        rows += found
        child = parent
    return rows


class _Finder:
    """Turns tenures into rows, and fills in names, posts now and movement in few reads."""

    def __init__(self, store: Store, at: int) -> None:
        self.store = store
        self.at = at

    def holders(
        self, role: ResponsibilityKind, positions: Iterable[Position], window: tuple[int, int]
    ) -> list[Responsible]:
        ids = [p.id for p in positions]
        if not ids:
            return []
        tenures = self.store.tenures(position_ids=ids, overlapping=window)
        return self._rows(role.value, tenures, window)

    def direct(self, violators: Iterable[str], window: tuple[int, int], org_id: str) -> list[Responsible]:
        violators = list(dict.fromkeys(violators))
        if not violators:
            return []
        tenures = self.store.tenures(person_ids=violators, overlapping=window)
        rows = self._rows("direct", tenures, window, prefer_org=org_id)
        missing = [v for v in violators if v not in {r.person.id for r in rows}]
        rows += [
            Responsible(
                role="direct",
                person=PersonRef(id=v, name=""),
                post_then=None,
                overlap_days=0,
                posts_now=[],
                movement="left",
                evidence=Evidence(),
            )
            for v in missing
        ]
        return rows

    def _rows(
        self, role: str, tenures: list[Tenure], window: tuple[int, int], prefer_org: str | None = None
    ) -> list[Responsible]:
        by_person: dict[str, list[Tenure]] = {}
        for t in tenures:
            by_person.setdefault(t.person_id, []).append(t)
        posts = {p.tenure_id: p for p in posts_of(self.store, tenures)}
        rows = []
        for person, held in by_person.items():

            def score(t: Tenure) -> tuple[bool, int]:
                return (prefer_org is not None and posts[t.id].org_id == prefer_org, _overlap(t, window))

            best = max(held, key=score)
            others = sorted(t.id for t in held if t is not best)
            rows.append(
                Responsible(
                    role=role,
                    person=PersonRef(id=person, name=""),
                    post_then=_then(posts[best.id]),
                    overlap_days=_overlap(best, window),
                    posts_now=[],
                    movement="",
                    evidence=Evidence(tenures=[best.id, *others]),
                )
            )  # the post then comes first
        return rows

    def fill(self, rows: list[Responsible]) -> None:
        """Names, posts at ``as_of``, the path in between, and the movement: three reads for all rows."""
        people = {r.person.id for r in rows}
        if not people:
            return
        names = self.store.get_persons(people)
        careers: dict[str, list[Tenure]] = {}
        for t in self.store.tenures(person_ids=people):
            careers.setdefault(t.person_id, []).append(t)
        posts = {p.tenure_id: p for p in posts_of(self.store, [t for ts in careers.values() for t in ts])}
        for r in rows:
            r.person.name = names[r.person.id].name if r.person.id in names else ""
            career = sorted(careers.get(r.person.id, []), key=lambda t: (t.start_ordinal, t.position_id))
            now = [posts[t.id] for t in career if t.start_ordinal <= self.at < t.end_ordinal]
            r.posts_now = [
                PostNow(position_id=p.position_id, title=p.title, org_id=p.org_id, org_name=p.org_name, start=p.start)
                for p in now
            ]
            then = posts.get(r.evidence.tenures[0]) if r.post_then is not None else None
            r.movement = movement(then, now)
            if then is not None:
                r.path = [
                    _then(posts[t.id])
                    for t in career
                    if t.start_ordinal >= to_ordinal(then.start) and t.start_ordinal <= self.at
                ]
            if not now and career:
                before = [t for t in career if t.start_ordinal <= self.at]
                r.last_post = _then(posts[before[-1].id]) if before else None


def movement(then: Post | None, now: list[Post]) -> str:
    """Compare the highest rank held at ``as_of`` with the rank of the post held then."""
    if not now:
        return "left"
    if then is None:  # held no post during the window (a violator from outside the data)
        return "unknown"
    top = max(p.rank for p in now)
    if top > then.rank:
        return "promoted"
    if top < then.rank:
        return "demoted"
    return "same" if any(p.position_id == then.position_id for p in now) else "transferred"


def _overlap(t: Tenure, window: tuple[int, int]) -> int:
    return max(0, min(t.end_ordinal, window[1]) - max(t.start_ordinal, window[0]))


def _then(p: Post) -> PostThen:
    return PostThen(
        position_id=p.position_id, title=p.title, org_id=p.org_id, org_name=p.org_name, start=p.start, end=p.end
    )


def adhoc_case(org_id: str, start: str, end: str | None, category: str, violator_ids: Iterable[str] = ()) -> Case:
    """A case that is not stored, for "what if" questions."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; allowed: {', '.join(CATEGORIES)}")
    return Case(
        id="", org_id=org_id, category=Category(category), start=start, end=end, violator_ids=tuple(violator_ids)
    )
