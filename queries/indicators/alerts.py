"""Alerts on personnel changes (docs/indicators.md): a promotion or a transfer of a person who
was ``first`` or ``portfolio`` responsible for a case whose leader accountability is not done,
or who led an organization rated red in a year they led it. The alert names the case or the
scores behind it, so the office can look before the move takes effect."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from pydantic import BaseModel, Field

from graph.model import OPEN_END, Case, Change, ChangeKind, to_ordinal
from graph.store import Store
from queries.accountability import accountability
from queries.findings import only_violators_held
from queries.indicators.measures import Figures
from queries.indicators.scheme import Scheme
from queries.indicators.scores import OrgScore, leadership, score_window
from queries.window import Window

MOVES = (ChangeKind.promote, ChangeKind.transfer)
RESPONSIBLE = ("first", "portfolio")


class Alert(BaseModel):
    kind: str = Field(description="open-case (leader accountability not done) or red-organization")
    person_id: str
    person_name: str
    change_id: str
    change_kind: str
    date: str
    from_position_id: str | None
    to_position_id: str | None
    org_id: str = Field(description="the case's organization, or the organization rated red")
    org_name: str
    case_id: str | None = None
    role: str | None = Field(None, description="for open-case: first or portfolio")
    year: str | None = Field(None, description="for red-organization: the year it was red")
    share: float | None = Field(None, description="for red-organization: its score share that year")
    detail: str
    evidence: list[str] = Field(default_factory=list, description="tenure ids; the indicators that vetoed")


def moves_of(changes: Iterable[dict[str, object] | Change]) -> list[Change]:
    """The promotions and transfers among ``changes`` (records or stored rows; a key starting
    with ``_`` is a load's note on a record, such as its place in the file, not a field)."""
    out = []
    for c in changes:
        change = (
            c
            if isinstance(c, Change)
            else Change.model_validate({k: v for k, v in c.items() if v not in ("", None) and not k.startswith("_")})
        )
        if change.kind in MOVES:
            out.append(change)
    return sorted(out, key=lambda c: (c.date, c.id))


def stored_moves(store: Store, since: str | dt.date | None = None) -> list[Change]:
    """Every stored promotion and transfer (from ``since`` on), read back from the tenures they
    opened and closed: what a store limited to a jurisdiction can show of them too."""
    day = to_ordinal(since) if since is not None else -1
    positions = list(store.get_positions())
    tenures = store.tenures(position_ids=positions, overlapping=(day - 1, OPEN_END + 1))
    kinds = {k.value for k in MOVES}
    left = {t.closed_by: t for t in tenures if t.closed_by and t.close_kind in kinds}
    came = {t.opened_by for t in tenures if t.open_kind in kinds}
    moves = [
        Change(
            id=t.opened_by,
            date=t.start,
            kind=ChangeKind(t.open_kind),
            person_id=t.person_id,
            from_position_id=left[t.opened_by].position_id if t.opened_by in left else None,
            to_position_id=t.position_id,
        )
        for t in tenures
        if t.open_kind in kinds and t.start_ordinal >= day
    ]
    # a move to a post the store does not show (outside a jurisdiction): where from, not where to
    moves += [
        Change(
            id=c,
            date=t.end or "",
            kind=ChangeKind(t.close_kind or ""),
            person_id=t.person_id,
            from_position_id=t.position_id,
        )
        for c, t in left.items()
        if c not in came and t.end_ordinal >= day
    ]
    return sorted(moves, key=lambda c: (c.date, c.id))


def open_cases(store: Store) -> dict[str, Case]:
    """The cases whose leader accountability is not done: nobody held, or only the violators."""
    cases = store.get_cases()
    held: dict[str, set[str]] = defaultdict(set)
    for a in store.get_accountability(cases):
        held[a.case_id].add(a.person_id)
    return {i: c for i, c in cases.items() if not held.get(i) or only_violators_held(c, held[i])}


def alerts(
    store: Store,
    scheme: Scheme,
    moves: list[Change],
    *,
    lookback_years: int = 3,
    weights: dict[str, float] | None = None,
    min_pressure: float = 1.0,
    sink_ratio: float = 0.5,
) -> list[Alert]:
    """The alerts ``moves`` raise. A case alert: the person is ``first`` or ``portfolio``
    responsible for it (``queries.accountability``), its leader accountability is not done,
    and the move comes after the misconduct began. A red alert: in one of the
    ``lookback_years`` calendar years before the move, the person held a leadership post of an
    organization whose warning that year was red under ``scheme``."""
    if not moves:
        return []
    people = store.get_persons({m.person_id for m in moves})
    led: dict[str, list[tuple[int, int, str, str]]] = defaultdict(list)  # person -> (start, end, org, tenure)
    for t, post in leadership(store, list(people)):
        led[t.person_id].append((t.start_ordinal, t.end_ordinal, post.org_id, t.id))
    orgs = store.get_organizations()
    out: list[Alert] = []
    still_open = open_cases(store)
    by_org: dict[str, list[str]] = defaultdict(list)
    for cid, case in still_open.items():
        by_org[case.org_id].append(cid)
    checked: dict[str, list[tuple[str, str, list[str]]]] = {}  # case -> (person, role, tenures)
    scored: dict[int, dict[str, OrgScore]] = {}
    rule = {"weights": weights, "min_pressure": min_pressure, "sink_ratio": sink_ratio}
    for move in moves:
        name = people[move.person_id].name if move.person_id in people else move.person_id
        day = to_ordinal(move.date)
        base = {
            "person_id": move.person_id,
            "person_name": name or move.person_id,
            "change_id": move.id,
            "change_kind": move.kind.value,
            "date": move.date,
            "from_position_id": move.from_position_id,
            "to_position_id": move.to_position_id,
        }
        # the open cases of the organizations they led, where they are first or portfolio responsible
        candidates = sorted({c for _, _, org, _ in led[move.person_id] for c in by_org.get(org, [])})
        for cid in candidates:
            case = still_open[cid]
            if to_ordinal(case.start) > day:
                continue
            if cid not in checked:
                rows = accountability(store, cid, weights=weights).responsible
                checked[cid] = [(r.person.id, r.role, r.evidence.tenures) for r in rows if r.role in RESPONSIBLE]
            for person, role, evidence in checked[cid]:
                if person == move.person_id:
                    org = orgs[case.org_id]
                    out.append(
                        Alert(
                            kind="open-case",
                            **base,
                            org_id=org.id,
                            org_name=org.name,
                            case_id=cid,
                            role=role,
                            detail=f"{role} responsible for case {cid} at {org.name}: leader accountability not done",
                            evidence=evidence,
                        )
                    )
        # the organizations they led in the years before the move, red that year
        year = dt.date.fromordinal(day).year
        for y in range(year - lookback_years, year):
            window = Window(dt.date(y, 1, 1).toordinal(), dt.date(y + 1, 1, 1).toordinal())
            spans = [(o, t) for a, b, o, t in led[move.person_id] if a < window.end and b > window.start]
            if not spans:
                continue
            if y not in scored:
                scored[y] = score_window(Figures(store, window, **rule), scheme)  # type: ignore[arg-type]
            for org_id, tenure in spans:
                s = scored[y].get(org_id)
                if s is None or s.warning != "red":
                    continue
                why = f"vetoed by {', '.join(s.vetoed_by)}" if s.vetoed_by else f"share {s.share}"
                out.append(
                    Alert(
                        kind="red-organization",
                        **base,
                        org_id=org_id,
                        org_name=s.org_name,
                        year=str(y),
                        share=s.share,
                        detail=f"led {s.org_name} in {y}, rated red ({why}) under scheme {scheme.id}",
                        evidence=[tenure, *s.vetoed_by],
                    )
                )
    return out


def import_alerts(
    store: Store,
    scheme: Scheme,
    changes: list[dict[str, object]],
    *,
    weights: dict[str, float] | None = None,
    min_pressure: float = 1.0,
    sink_ratio: float = 0.5,
) -> list[dict[str, object]]:
    """The alerts the changes of an import raise, as its report lists them (a dry run too: the
    person's past posts and cases are in the store already)."""
    found = alerts(store, scheme, moves_of(changes), weights=weights, min_pressure=min_pressure, sink_ratio=sink_ratio)
    return [a.model_dump() for a in found]
