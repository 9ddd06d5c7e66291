"""Other findings (docs/domain.md): gaps at a date, soft accountability,
coverage of each action kind, compliance with the office's standards, and the
per-organization scorecard (indicators, not a single score)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import numpy as np
from pydantic import BaseModel, Field

from graph.errors import NotFound
from graph.model import (
    OPEN_END,
    Case,
    Category,
    Duty,
    Level,
    Organization,
    OrgKind,
    Outcome,
    Period,
    Position,
    Role,
    add_months,
    ancestor_chain,
    double_post_pairs,
    from_ordinal,
    to_ordinal,
)
from graph.store import ACTION_KINDS, CATEGORIES, ActionTable, Store
from queries.accountability import commission_of
from queries.lookups import PersonRef, Post, posts_of
from queries.pressure import Pressure, commission_shares, exists_in, org_pressures
from queries.window import Window

# ---------------------------------------------------------------- gaps


class Gap(BaseModel):
    kind: str  # vacant | no-portfolio-holder | shared-portfolio | undecomposed-duty | no-commission
    org_id: str
    org_name: str
    detail: str
    ids: list[str] = Field(default_factory=list, description="positions, categories or duties concerned")


def gaps(store: Store, at: str | dt.date, org_ids: list[str] | None = None) -> list[Gap]:
    """Gaps in the responsibility system on date ``at``; only those of ``org_ids`` when given
    (the positions and tenures of the other organizations are then not read)."""
    day = to_ordinal(at)
    orgs = store.get_organizations()
    live = {i: o for i, o in orgs.items() if exists_in(o, Window(day, day + 1))}
    wanted = live if org_ids is None else {i: live[i] for i in org_ids if i in live}
    positions = [p for p in store.get_positions(org_ids=wanted).values() if p.org_id in live]
    held = {t.position_id for t in store.tenures(position_ids=[p.id for p in positions], overlapping=(day, day + 1))}
    out: list[Gap] = []
    for p in positions:
        if p.role.one_holder and p.id not in held:
            org = live[p.org_id]
            out.append(Gap(kind="vacant", org_id=org.id, org_name=org.name, detail=f"{p.title} is vacant", ids=[p.id]))
    members: dict[str, list] = defaultdict(list)
    for p in positions:
        if p.role is Role.member:
            members[p.org_id].append(p)
    for org_id, mine in members.items():
        org = live[org_id]
        counts = Counter(c.value for p in mine for c in p.portfolio)
        held_counts = Counter(c.value for p in mine if p.id in held for c in p.portfolio)
        missing = [c.value for c in Category if held_counts[c.value] == 0]
        unassigned, shared = portfolio_design(mine)
        if missing:
            detail = f"no member's portfolio holds {', '.join(unassigned)}" if unassigned else ""
            vacant = [c for c in missing if counts[c] > 0]
            if vacant:
                detail += ("; " if detail else "") + f"the member holding {', '.join(vacant)} is vacant"
            out.append(Gap(kind="no-portfolio-holder", org_id=org_id, org_name=org.name, detail=detail, ids=missing))
        if shared:
            out.append(
                Gap(
                    kind="shared-portfolio",
                    org_id=org_id,
                    org_name=org.name,
                    detail=f"{', '.join(shared)} in more than one member's portfolio",
                    ids=shared,
                )
            )
    out += [g for g in _undecomposed(store, live) if g.org_id in wanted]  # decomposition needs every duty
    for org in _unsupervised(orgs, wanted):
        out.append(
            Gap(
                kind="no-commission",
                org_id=org.id,
                org_name=org.name,
                detail="no commission supervises this organization",
            )
        )
    return out


def portfolio_design(members: list[Position]) -> tuple[list[str], list[str]]:
    """What the member positions of one leading group leave undivided, held or vacant: the
    categories no member's portfolio holds, and those in more than one member's portfolio
    (a boundary the source asks to divide "scientifically")."""
    counts = Counter(c.value for p in members for c in p.portfolio)
    return [c.value for c in Category if counts[c.value] == 0], [c for c, n in counts.items() if n > 1]


def _unsupervised(orgs: dict[str, Organization], live: dict[str, Organization]) -> list[Organization]:
    """Live organizations (commissions excepted) with no supervising commission: ``commission_of``
    on the organizations in hand (two reads each through the store would be slow)."""
    commissions: dict[str, list[Organization]] = {}
    for o in sorted(orgs.values(), key=lambda o: o.id):  # by id, as get_children orders them
        if o.kind is OrgKind.commission and o.parent_id:
            commissions.setdefault(o.parent_id, []).append(o)
    return [
        org
        for org in live.values()
        if org.kind is not OrgKind.commission
        and commission_of(org, ancestor_chain(org.id, orgs.get), commissions, orgs.get) is None
    ]


def undecomposed_duties(store: Store, live: dict[str, Organization]) -> list[Duty]:
    """Duties not decomposed to any child organization: no duty of a child names them as its
    parent, while a live child of their organization holds duties (where no child holds any,
    the level keeps no duties and nothing is missing). The ``undecomposed-duty`` gap, and the
    red border of the duties view: one rule for both."""
    duties = store.get_duties()
    decomposed = {d.parent_duty_id for d in duties.values() if d.parent_duty_id}
    has_duty_child: set[str] = set()
    for d in duties.values():
        org = live.get(d.org_id)
        if org is not None and org.parent_id:
            has_duty_child.add(org.parent_id)
    return [d for d in duties.values() if d.org_id in live and d.id not in decomposed and d.org_id in has_duty_child]


def _undecomposed(store: Store, live: dict[str, Organization]) -> list[Gap]:
    return [
        Gap(
            kind="undecomposed-duty",
            org_id=d.org_id,
            org_name=live[d.org_id].name,
            detail=f"duty {d.id} ({d.category.value}) is not decomposed to any child organization",
            ids=[d.id],
        )
        for d in undecomposed_duties(store, live)
    ]


class Slogan(BaseModel):
    org_id: str
    org_name: str
    commission_share: float


class Slogans(BaseModel):
    window: dict[str, str]
    threshold: float
    committees: list[Slogan]


def slogans(p: Pressure, *, threshold: float = 0.7) -> Slogans:
    """Committees whose commission does the supervision work ("slogan to the committee, work by
    the commission"): commission share above ``threshold``, highest first (case_support excepted)."""
    flagged = sorted(((o, v) for o, v in commission_shares(p).items() if v > threshold), key=lambda x: (-x[1], x[0]))
    return Slogans(
        window=p.window.as_dict(),
        threshold=threshold,
        committees=[Slogan(org_id=o, org_name=p.orgs[o].name, commission_share=v) for o, v in flagged],
    )


# ---------------------------------------------------------------- double posts


class DoublePost(BaseModel):
    person: PersonRef
    posts: list[Post] = Field(description="the two posts, the earlier first")
    start: str = Field(description="the overlap [start, end); end null while both are held")
    end: str | None
    days: int | None = Field(description="length of the overlap; null while both are held")


def double_posts(store: Store, window: Window | None = None) -> list[DoublePost]:
    """People holding two incompatible leadership posts at once (``incompatible_posts``: the
    same role of secretary, deputy or discipline secretary at the same rank), overlapping
    beyond what imprecise dates explain; only overlaps meeting ``window`` when given."""
    positions = {i: p for i, p in store.get_positions().items() if p.role is not Role.staff}
    held = store.tenures(position_ids=list(positions), overlapping=(window.start, window.end) if window else None)
    pairs = double_post_pairs(held, lambda i: (positions[i].role.value, positions[i].rank))
    if window is not None:
        pairs = [
            (a, b)
            for a, b in pairs
            if window.start < min(a.end_ordinal, b.end_ordinal) and b.start_ordinal < window.end
        ]
    posts = {p.tenure_id: p for p in posts_of(store, [t for pair in pairs for t in pair])}
    names = store.get_persons({a.person_id for a, _ in pairs})
    out = []
    for a, b in pairs:
        end = min(a.end_ordinal, b.end_ordinal)
        out.append(
            DoublePost(
                person=PersonRef(id=a.person_id, name=names[a.person_id].name if a.person_id in names else ""),
                posts=[posts[a.id], posts[b.id]],
                start=b.start,
                end=None if end == OPEN_END else from_ordinal(end),
                days=None if end == OPEN_END else end - b.start_ordinal,
            )
        )
    return sorted(out, key=lambda d: (d.start, d.person.id))


# ---------------------------------------------------------------- soft accountability


class SoftRow(BaseModel):
    org_id: str
    org_name: str
    level: str
    outcomes: dict[str, int]
    total: int
    soft_share: float


class SoftReport(BaseModel):
    window: dict[str, str] | None
    overall_soft_share: float | None
    by_level: list[SoftRow]
    by_org: list[SoftRow]
    only_violator_held: list[str] = Field(description="cases with direct accountability but none for leaders")


def soft_accountability(store: Store, window: Window | None = None, *, min_outcomes: int = 1) -> SoftReport:
    """Outcome counts and soft share (criticism, admonishment) per organization and level.

    Cases are placed by their start date when a window is given. ``only_violator_held``
    lists cases where only violators were held to account: the double investigation not done.
    """
    cases = store.get_cases()
    if window is not None:
        cases = {i: c for i, c in cases.items() if window.contains(to_ordinal(c.start))}
    orgs = store.get_organizations({c.org_id for c in cases.values()})
    per_org: dict[str, Counter[str]] = defaultdict(Counter)
    held: dict[str, set[str]] = defaultdict(set)
    for a in store.get_accountability(cases):
        per_org[cases[a.case_id].org_id][a.outcome.value] += 1
        held[a.case_id].add(a.person_id)
    by_level: dict[str, Counter[str]] = defaultdict(Counter)
    rows = []
    for org_id, counts in per_org.items():
        org = orgs[org_id]
        by_level[org.level.value].update(counts)
        if sum(counts.values()) >= min_outcomes:
            rows.append(_soft_row(org_id, org.name, org.level.value, counts))
    rows.sort(key=lambda r: (-r.soft_share, -r.total, r.org_id))
    levels = [_soft_row(lv.value, lv.zh, lv.value, by_level[lv.value]) for lv in Level if by_level.get(lv.value)]
    total = Counter[str]()
    for c in per_org.values():
        total.update(c)
    only = sorted(cid for cid, case in cases.items() if only_violators_held(case, held.get(cid, set())))
    return SoftReport(
        window=window.as_dict() if window else None,
        overall_soft_share=_soft_share(total) if total else None,
        by_level=levels,
        by_org=rows,
        only_violator_held=only,
    )


def only_violators_held(case: Case, held: set[str]) -> bool:
    """The double investigation not done: someone was held to account for ``case`` (``held``,
    the persons), and only its violators. With nobody held, leader accountability is not done
    either (``queries.indicators.alerts.open_cases``), but it is not this finding."""
    return bool(held) and bool(case.violator_ids) and held <= set(case.violator_ids)


def _soft_share(counts: Counter[str]) -> float:
    soft = sum(n for k, n in counts.items() if Outcome(k).soft)
    return round(soft / max(1, sum(counts.values())), 4)


def _soft_row(key: str, name: str, level: str, counts: Counter[str]) -> SoftRow:
    return SoftRow(
        org_id=key,
        org_name=name,
        level=level,
        outcomes=dict(counts),
        total=sum(counts.values()),
        soft_share=_soft_share(counts),
    )


# ---------------------------------------------------------------- coverage and standards


class Coverage(BaseModel):
    level: str
    action_kind: str
    orgs: int
    covered: int
    share: float
    missed: list[str]


def coverage(p: Pressure) -> list[Coverage]:
    """Per level and action kind: the share of organizations (commissions excepted) that received one."""
    table = p.actions
    got: dict[str, set[str]] = defaultdict(set)
    for kind_code, to_code in set(zip(table.kind.tolist(), table.to_org.tolist(), strict=True)):
        got[ACTION_KINDS[kind_code]].add(table.orgs[to_code])
    by_level: dict[str, list[str]] = defaultdict(list)
    for oid in p.received:
        by_level[p.orgs[oid].level.value].append(oid)
    out = []
    for level in Level:
        members = by_level.get(level.value)
        if not members:
            continue
        for kind in ACTION_KINDS:
            missed = sorted(o for o in members if o not in got[kind])
            out.append(
                Coverage(
                    level=level.value,
                    action_kind=kind,
                    orgs=len(members),
                    covered=len(members) - len(missed),
                    share=round(1 - len(missed) / len(members), 4),
                    missed=missed,
                )
            )
    return out


class Compliance(BaseModel):
    standard_id: str
    description: str | None
    period: dict[str, str]
    met: dict[str, int] = Field(description="organization id -> count of qualifying actions")
    missed: dict[str, int]


def periods(window: Window, period: Period) -> list[Window]:
    """The whole calendar years or quarters inside the window."""
    out = []
    d = dt.date.fromordinal(window.start)
    step = 12 if period is Period.year else 3
    month = 1 if period is Period.year else (d.month - 1) // 3 * 3 + 1
    cur = dt.date(d.year, month, 1)
    if cur.toordinal() < window.start:
        cur = add_months(cur, step)
    while add_months(cur, step).toordinal() <= window.end:
        nxt = add_months(cur, step)
        out.append(Window(cur.toordinal(), nxt.toordinal()))
        cur = nxt
    return out


def standards_compliance(store: Store, window: Window, actions: ActionTable | None = None) -> list[Compliance]:
    """For each standard and each whole period in the window: who met it and who missed it, with counts.

    ``actions``: the window's actions, when the caller has read them already (all categories).
    """
    orgs = store.get_organizations()
    table = actions if actions is not None else store.actions(window.start, window.end)
    out = []
    for std in sorted(store.get_standards().values(), key=lambda s: s.id):
        targets = [
            o
            for o in orgs.values()
            if o.level is std.level
            and (std.org_kind is None or o.kind is std.org_kind)
            and o.kind is not OrgKind.commission
        ]
        mask = table.kind == ACTION_KINDS.index(std.action_kind.value)
        if std.category is not None:
            mask &= table.category == CATEGORIES.index(std.category.value)
        for w in periods(window, std.period):
            sel = mask & (table.date >= w.start) & (table.date < w.end)
            counts = Counter(table.orgs[c] for c in table.to_org[sel].tolist())
            live = [o for o in targets if exists_in(o, Window(w.start, w.start + 1))]
            met = {o.id: counts[o.id] for o in live if counts[o.id] >= std.min_count}
            missed = {o.id: counts[o.id] for o in live if counts[o.id] < std.min_count}
            out.append(
                Compliance(standard_id=std.id, description=std.description, period=w.as_dict(), met=met, missed=missed)
            )
    return out


# ---------------------------------------------------------------- scorecard


class Scorecard(BaseModel):
    org_id: str
    org_name: str
    level: str
    kind: str
    window: dict[str, str]
    received_pressure: float | None
    pass_on_ratio: float | None
    sink: bool
    cold: bool
    weak_share: float | None
    commission_share: float | None
    categories_received: list[str]
    category_coverage: float
    standards_met: list[str]
    standards_missed: list[str]
    gaps: list[Gap]
    cases: list[str]
    soft_share: float | None
    evidence_hint: str = "rtc pressure --org ORG --explain received|sent|weak|commission lists the action ids"


def scorecard(
    store: Store, org_id: str, p: Pressure, *, min_pressure: float = 1.0, sink_ratio: float = 0.5
) -> Scorecard:
    """The indicators of one organization for the window of ``p``: each one explainable."""
    orgs = store.get_organizations([org_id])
    if org_id not in orgs:
        raise NotFound(f"no organization with id {org_id!r}")
    org = orgs[org_id]
    figures = org_pressures(p, min_pressure=min_pressure, sink_ratio=sink_ratio).get(org_id)
    table = p.actions
    codes = {o: i for i, o in enumerate(table.orgs)}
    got = table.to_org == codes.get(org_id, -1)
    cats = sorted({CATEGORIES[c] for c in np.unique(table.category[got]).tolist()})
    every = p.actions if p.category is None else None  # a category-filtered read cannot count for standards
    compliance = [c for c in standards_compliance(store, p.window, every) if org_id in c.met or org_id in c.missed]
    cases = store.get_cases(org_ids=[org_id])
    in_window = sorted(i for i, c in cases.items() if p.window.contains(to_ordinal(c.start)))
    soft = soft_accountability(store, p.window)
    soft_row = next((r for r in soft.by_org if r.org_id == org_id), None)
    at = from_ordinal(p.window.end - 1)
    return Scorecard(
        org_id=org_id,
        org_name=org.name,
        level=org.level.value,
        kind=org.kind.value,
        window=p.window.as_dict(),
        received_pressure=figures.received if figures else None,
        pass_on_ratio=figures.pass_on_ratio if figures else None,
        sink=bool(figures and figures.sink),
        cold=bool(figures and figures.cold),
        weak_share=figures.weak_share if figures else None,
        commission_share=commission_shares(p).get(org_id),
        categories_received=cats,
        category_coverage=round(len(cats) / len(CATEGORIES), 4),
        standards_met=[f"{c.standard_id} {c.period['from']}" for c in compliance if org_id in c.met],
        standards_missed=[f"{c.standard_id} {c.period['from']}" for c in compliance if org_id in c.missed],
        gaps=gaps(store, at, [org_id]),
        cases=in_window,
        soft_share=soft_row.soft_share if soft_row else None,
    )
