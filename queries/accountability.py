"""Accountability for a case: "double investigation of one case" (docs/domain.md).

For a case in organization ``o`` with misconduct window ``[s, e)`` and category ``c``:
the violators (``direct``), the secretary (``first``), members whose portfolio holds
``c`` (``portfolio``), the discipline secretary of the supervising commission
(``supervisory``), superiors that sent no strong-form action of ``c`` to ``o`` in
``[s - L, e)`` (``upstream``), and the other leaders (``collective``). Each person is
found where they are at ``as_of``, whether they stayed, moved or left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Self

import numpy as np
from pydantic import BaseModel, Field

from graph.errors import InvalidInput, NotFound
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
from graph.store import CATEGORIES, Store, commissions_among
from queries.lineage import predecessors
from queries.lookups import PersonRef, Post, posts_of, sources_of
from queries.notices import NO_COMMISSION, Notice, existence, vacancies
from queries.window import latest_date, strong_mask, weight_array

ROLE_ORDER = [r.value for r in ResponsibilityKind]


class _Shown(BaseModel):
    """A post as an answer shows it: the fields of ``lookups.Post`` it keeps."""

    position_id: str
    title: str
    org_id: str
    org_name: str
    org_place: str = Field("", description="the name, after its parents' where another organization bears it")
    start: str

    @classmethod
    def of(cls, post: Post) -> Self:
        return cls(**{name: getattr(post, name) for name in cls.model_fields})


class PostThen(_Shown):
    end: str | None = None


class PostNow(_Shown):
    pass


class Evidence(BaseModel):
    tenures: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    sources: dict[str, list[str]] = Field(
        default_factory=dict, description="tenure id -> where its records come from (lookups.sources_of)"
    )


class Responsible(BaseModel):
    role: str
    person: PersonRef
    post_then: PostThen | None
    overlap_days: int
    posts_now: list[PostNow]
    movement: str  # same | transferred | promoted | demoted | left | not yet (as_of before the post then); unknown
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
    notices: list[Notice] = Field(
        default_factory=list, description="what the answer rests on that the data does not hold"
    )


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
    ``as_of`` defaults to the latest date in the data. About ten reads in all, whatever
    the case: each is one round trip on a server.

    Examples
    --------
    >>> result = accountability(store, "K000123", as_of="2025-06-30")  # doctest: +SKIP
    >>> [(r.role, r.person.name, r.movement) for r in result.responsible]  # doctest: +SKIP
    [('direct', '李强', 'left'), ('first', '王伟', 'promoted'), ...]
    """
    if isinstance(case, str):
        found = store.get_cases([case])
        if case not in found:
            raise NotFound(f"no case with id {case!r}")
        case = found[case]
    elif case.violator_ids:
        known = store.get_persons(case.violator_ids)
        if unknown := [v for v in case.violator_ids if v not in known]:
            raise NotFound(f"no person with id {', '.join(map(repr, unknown))}: a violator must be stored")
    if lookback_days < 0 or depth < 0:
        raise InvalidInput("lookback_days and depth must not be negative")
    at = to_ordinal(as_of) if as_of is not None else latest_date(store)
    # The chain, its commissions and the positions of the levels in play: one read. The
    # supervising commission is nearly always that of the organization or its parent.
    context = store.org_context(case.org_id, reach=depth + 1)
    chain = context.chain
    if not chain:
        raise NotFound(f"no organization with id {case.org_id!r}")
    org, above = chain[0], chain[1 : depth + 1]
    s = to_ordinal(case.start)
    e = max(to_ordinal(case.end or case.discovered or from_ordinal(at + 1)), s + 1)
    if at < s:  # nobody's movement since the misconduct can be seen before it began
        raise InvalidInput(
            f"as_of {from_ordinal(at)} is before the misconduct began ({case.start}): give a date on or after it"
        )
    window, wide = (s, e), (s - lookback_days, e)
    commission = supervising_commission(store, org, chain, context.commissions)
    org_ids = {org.id, *([commission.id] if commission else []), *(o.id for o in above)}
    positions = {i: p for i, p in context.positions.items() if p.org_id in org_ids}
    # What the organization continues (a prefecture that became this city): their leaders held
    # its seats before it was created, and answer for the part of the window they held them.
    lineage = [org, *predecessors(store, org)]
    extra = [o.id for o in lineage[1:]]
    if commission is not None and commission.id not in {p.org_id for p in context.positions.values()}:
        # supervised_by outside the chain, or a committee further up: its positions are not in hand
        extra.append(commission.id)
    if extra:
        positions |= store.get_positions(org_ids=extra)
    held = store.tenures(position_ids=list(positions), overlapping=wide)
    finder = _Finder(store, at, positions, held)
    # Everyone who can get a row below, read in one go (one round trip on a server).
    finder.read_careers(_candidates(case, org, positions, held, window, above))
    own = [p for p in positions.values() if p.org_id in {o.id for o in lineage}]
    category = Category(case.category)

    secretaries = [p for p in own if p.role is Role.secretary]
    members = [p for p in own if p.role is Role.member and category in p.portfolio]
    rows = finder.direct(case.violator_ids, window, {p.id for p in own})
    rows += finder.role("first", secretaries, window)
    rows += finder.role("portfolio", members, window)
    holds = f"member post whose portfolio holds {category}"
    notices = []
    for o in lineage:  # each for the part of the window it existed
        notices += vacancies(
            "first", o, [p for p in secretaries if p.org_id == o.id], finder.held, window, "secretary post"
        )
        mine = [p for p in members if p.org_id == o.id]
        notices += vacancies("portfolio", o, mine, finder.held, window, holds)
    if commission is not None:
        theirs = [p for p in positions.values() if p.org_id == commission.id]
        secretary = [p for p in theirs if p.role is Role.discipline_secretary]
        rows += finder.role("supervisory", secretary, window)
        # only while the case's organization existed was there anything to supervise
        alive = existence(org, window)
        notices += vacancies("supervisory", commission, secretary, finder.held, alive, "discipline secretary post")
    else:
        notices.append(
            Notice(
                code=NO_COMMISSION,
                role="supervisory",
                subject=org.id,
                message=f"no supervising commission recorded for {org.name} ({org.id})",
            )
        )
    rows += _upstream(store, finder, chain[: depth + 1], category, wide, weights)
    listed = {r.person.id for r in rows if r.role in ("direct", "first", "portfolio")}
    others = [p for p in own if p.role is not Role.staff]
    rows += [r for r in finder.role("collective", others, window) if r.person.id not in listed]
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
        notices=notices,
    )


def _candidates(
    case: Case,
    org: Organization,
    positions: dict[str, Position],
    held: list[Tenure],
    window: tuple[int, int],
    above: list[Organization],
) -> set[str]:
    """The violators, the case organization's leaders and the discipline secretary in the window,
    and the secretaries and portfolio members of the levels above (in the wider window of ``held``)."""
    upstream = {o.id for o in above}
    category = Category(case.category)
    out = set(case.violator_ids)
    for t in held:
        p = positions[t.position_id]
        if p.org_id in upstream:
            if p.role is Role.secretary or (p.role is Role.member and category in p.portfolio):
                out.add(t.person_id)
        elif p.role.one_holder and _overlap(t, window) > 0:
            out.add(t.person_id)
    return out


def nearest_committee(chain: list[Organization]) -> Organization | None:
    """The first committee in an ancestor-or-self chain (the organization itself first)."""
    return next((o for o in chain if o.kind is OrgKind.committee), None)


def supervising_commission(
    store: Store,
    org: Organization,
    chain: list[Organization] | None = None,
    commissions: Mapping[str, Sequence[Organization]] | None = None,
) -> Organization | None:
    """The commission that supervises ``org`` (``commission_of``), read from the store.
    ``chain`` and ``commissions`` (from ``Store.org_context``) save the reads when at hand."""
    if org.supervised_by:
        return store.get_organizations([org.supervised_by]).get(org.supervised_by)
    chain = chain if chain is not None else store.ancestors(org.id)
    if commissions is None:
        committee = nearest_committee(chain)
        commissions = commissions_among(store.get_children([committee.id])) if committee else {}
    return commission_of(org, chain, commissions, lambda _: None)


def commission_of(
    org: Organization,
    chain: list[Organization],
    commissions: Mapping[str, Sequence[Organization]],
    stored: Callable[[str], Organization | None],
) -> Organization | None:
    """The rule: ``org``'s ``supervised_by`` (``stored`` finds it), else the first commission of
    the nearest ancestor-or-self committee on ``chain`` (None when that committee has none)."""
    if org.supervised_by:
        return stored(org.supervised_by)
    committee = nearest_committee(chain)
    return next(iter(commissions.get(committee.id, [])), None) if committee is not None else None


def _upstream(
    store: Store,
    finder: _Finder,
    chain: list[Organization],
    category: Category,
    window: tuple[int, int],
    weights: dict[str, float] | None,
) -> list[Responsible]:
    """Superiors who sent no strong-form action of the category down the chain, level by level.

    ``chain`` is the case's organization and the ``depth`` levels above it. One read
    fetches every action of the category sent down the chain in the window.
    """
    if len(chain) < 2:
        return []
    strong = strong_mask(weight_array(weights))
    sent = store.actions(
        window[0],
        window[1],
        category=category.value,
        from_orgs=[o.id for o in chain[1:]],
        to_orgs=[o.id for o in chain[:-1]],
    )
    codes = sent.codes
    rows: list[Responsible] = []
    for level_up in range(1, len(chain)):
        child, parent = chain[level_up - 1], chain[level_up]
        pair = (sent.from_org == codes.get(parent.id, -1)) & (sent.to_org == codes.get(child.id, -1))
        if np.any(strong[sent.kind[pair]]):
            break  # the pressure was transmitted: the chain of failure stops here
        posts = [
            p
            for p in finder.positions.values()
            if p.org_id == parent.id
            and (p.role is Role.secretary or (p.role is Role.member and category in p.portfolio))
        ]
        for r in finder.role("upstream", posts, window):
            r.level_up = level_up
            r.evidence.actions = sent.id_list(np.flatnonzero(pair))  # what was sent instead: weak forms, or nothing
            rows.append(r)
    return rows


class _Finder:
    """Turns tenures into rows, then fills in names, posts then and now, and movement in four reads."""

    def __init__(self, store: Store, at: int, positions: dict[str, Position], held: list[Tenure]) -> None:
        self.store = store
        self.at = at
        self.positions = positions
        self.held: dict[str, list[Tenure]] = {}
        for t in held:
            self.held.setdefault(t.position_id, []).append(t)
        self.tenures: dict[str, Tenure] = {}
        self.careers: dict[str, list[Tenure]] = {}  # every tenure of a person, once read

    def role(self, role: str, positions: Iterable[Position], window: tuple[int, int]) -> list[Responsible]:
        tenures = [t for p in positions for t in self.held.get(p.id, ()) if _overlap(t, window) > 0]
        return self._rows(role, tenures, window)

    def direct(self, violators: Iterable[str], window: tuple[int, int], own: set[str]) -> list[Responsible]:
        violators = list(dict.fromkeys(violators))
        if not violators:
            return []
        self.read_careers(violators)
        tenures = [t for v in violators for t in self.careers.get(v, ()) if _overlap(t, window) > 0]
        rows = self._rows("direct", tenures, window, prefer=own)
        found = {r.person.id for r in rows}
        rows += [
            Responsible(
                role="direct",
                person=PersonRef(id=v, name=""),
                post_then=None,
                overlap_days=0,
                posts_now=[],
                movement="",
                evidence=Evidence(),
            )
            for v in violators
            if v not in found
        ]
        return rows

    def read_careers(self, people: Iterable[str]) -> None:
        """Read the whole careers of these people (those not read yet), in one read."""
        unread = sorted(set(people) - set(self.careers))
        for p in unread:
            self.careers[p] = []
        for t in self.store.tenures(person_ids=unread) if unread else ():
            self.careers[t.person_id].append(t)

    def _rows(
        self, role: str, tenures: list[Tenure], window: tuple[int, int], prefer: set[str] | None = None
    ) -> list[Responsible]:
        by_person: dict[str, list[Tenure]] = {}
        for t in tenures:
            by_person.setdefault(t.person_id, []).append(t)
            self.tenures[t.id] = t
        rows = []
        for person, theirs in by_person.items():
            best = max(theirs, key=lambda t: (prefer is not None and t.position_id in prefer, _overlap(t, window)))
            others = sorted(t.id for t in theirs if t is not best)
            rows.append(
                Responsible(
                    role=role,
                    person=PersonRef(id=person, name=""),
                    post_then=None,
                    overlap_days=_overlap(best, window),
                    posts_now=[],
                    movement="",
                    evidence=Evidence(tenures=[best.id, *others]),
                )
            )  # the post then comes first
        return rows

    def fill(self, rows: list[Responsible]) -> None:
        people = {r.person.id for r in rows}
        if not people:
            return
        names = self.store.get_persons(people)
        self.read_careers(people)  # normally read already
        at = self.at
        careers = {p: sorted(self.careers.get(p, []), key=lambda t: (t.start_ordinal, t.position_id)) for p in people}
        every = {t.id: t for ts in careers.values() for t in ts} | self.tenures
        # What a row shows of a career: the post then, those held at as_of, the path from one to
        # the other, the last post of one who holds none. Only these become posts: the rest of
        # a career (years before the case) is never named.
        shown = []
        for r in rows:
            career = careers[r.person.id]
            first = every[r.evidence.tenures[0]] if r.evidence.tenures else None
            held = [t for t in career if t.start_ordinal <= at < t.end_ordinal]
            path = [t for t in career if first.start_ordinal <= t.start_ordinal <= at] if first else []
            before = [t for t in career if t.start_ordinal <= at]
            shown.append((first, held, path, before[-1] if before and not held else None))
        needed = {t.id: t for first, held, path, last in shown for t in (first, last, *held, *path) if t is not None}
        posts = {p.tenure_id: p for p in posts_of(self.store, list(needed.values()))}
        sources = sources_of(self.store, [every[i] for r in rows for i in r.evidence.tenures if i in every])
        made: dict[str, PostThen] = {}  # one PostThen a tenure, however many rows and paths show it

        def then_of(tenure_id: str) -> PostThen:
            if tenure_id not in made:
                made[tenure_id] = PostThen.of(posts[tenure_id])
            return made[tenure_id]

        for r, (first, held, path, last) in zip(rows, shown, strict=True):
            r.person.name = names[r.person.id].name if r.person.id in names else ""
            now = [posts[t.id] for t in held]
            r.posts_now = [PostNow.of(p) for p in now]
            r.evidence.sources = {i: sources[i] for i in r.evidence.tenures if i in sources}
            then = posts[first.id] if first else None
            r.post_then = then_of(then.tenure_id) if then else None
            # as_of inside the window: a post then that begins later is not yet held, not left
            r.movement = "not yet" if then and to_ordinal(then.start) > at else movement(then, now)
            if then is not None:
                r.path = [then_of(t.id) for t in path]
            if last is not None:
                r.last_post = then_of(last.id)


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


def adhoc_case(org_id: str, start: str, end: str | None, category: str, violator_ids: Iterable[str] = ()) -> Case:
    """A case that is not stored, for "what if" questions."""
    if category not in CATEGORIES:
        raise InvalidInput(f"unknown category {category!r}; allowed: {', '.join(CATEGORIES)}")
    if end is not None and to_ordinal(end) <= to_ordinal(start):
        raise InvalidInput(f"end {end} must be after start {start}: a case's window is [start, end)")
    return Case(
        id="", org_id=org_id, category=Category(category), start=start, end=end, violator_ids=tuple(violator_ids)
    )
