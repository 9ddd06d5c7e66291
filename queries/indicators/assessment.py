"""The assessment report (研判报告) of an organization or a level for a window: what
``rtc report`` renders as a printable page, a workbook and a Word file. Every table here is
a query's answer (scores, level profile, received pressure by year, open cases with the
leaders accountable for them, gaps), put side by side; nothing is computed twice."""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import median

from pydantic import BaseModel, Field

from graph.errors import InvalidInput, NotFound
from graph.model import Level, from_ordinal, to_ordinal
from graph.store import Store
from queries.accountability import accountability
from queries.findings import Gap, gaps
from queries.indicators.alerts import open_cases
from queries.indicators.measures import Figures
from queries.indicators.scheme import Scheme
from queries.indicators.scores import OrgScore, scores
from queries.pressure import LevelProfile, Pressure, level_profile, received_by_year
from queries.window import Window


class LostRow(BaseModel):
    indicator: str
    name_zh: str
    name_en: str
    lost: float = Field(description="points lost, summed over the organizations of the report")
    share: float = Field(description="of all the points they lost")
    organizations: int = Field(description="organizations that lost points on it")


class YearRow(BaseModel):
    year: int
    received: float | None = Field(description="the organization's received pressure (a level: its median)")
    level_median: float | None = Field(description="the median of its level that year")


class Leader(BaseModel):
    role: str
    person_id: str
    name: str
    post_then: str
    now: str = Field(description="the posts held at the report's date, or the movement")


class OpenCase(BaseModel):
    case_id: str
    org_id: str
    org_name: str
    category: str
    start: str
    end: str | None
    leaders: list[Leader]


class Assessment(BaseModel):
    title: str
    org_id: str | None
    level: str | None
    scheme: str
    scheme_name: str
    window: dict[str, str]
    previous_window: dict[str, str] | None
    at: str = Field(description="the last day of the window: gaps and posts are as of it")
    scores: list[OrgScore]
    warnings: dict[str, int] = Field(description="organizations per colour")
    lost: list[LostRow] = Field(description="the indicators that lost most, first")
    profile: LevelProfile
    trend: list[YearRow]
    open_cases: list[OpenCase]
    gaps: list[Gap]


def assessment(
    store: Store,
    scheme: Scheme,
    window: Window,
    *,
    org_id: str | None = None,
    level: str | None = None,
    weights: dict[str, float] | None = None,
    min_pressure: float = 1.0,
    sink_ratio: float = 0.5,
) -> Assessment:
    """The report of one organization (with its subtree's level profile) or of every
    organization of a level, for ``window``.

    Raises
    ------
    InvalidInput
        Neither or both of ``org_id`` and ``level``.
    NotFound
        ``org_id`` is not scored in the window.
    """
    if (org_id is None) == (level is None):
        raise InvalidInput("a report is of one organization or of one level: give one of them")
    if org_id is not None and not org_id.strip():
        raise InvalidInput("org: an organization id cannot be empty")
    rule = {"weights": weights, "min_pressure": min_pressure, "sink_ratio": sink_ratio}
    figures = Figures(store, window, **rule)  # type: ignore[arg-type]
    wanted = None if org_id is None else [org_id]
    got = scores(store, scheme, window, org_ids=wanted, level=level, figures=figures, **rule)  # type: ignore[arg-type]
    if not got.organizations:
        raise NotFound(f"no organization of level {level!r} scored in the window")
    ids = [s.org_id for s in got.organizations]
    p = figures.pressure(None)  # the one the scores read
    subtree = None if org_id is None else _subtree(p.children, org_id)
    at = from_ordinal(window.end - 1)
    orgs = store.get_organizations()
    if org_id is not None:
        org = orgs[org_id]
        title = f"研判报告 Assessment: {org.name} ({org_id}), {window.as_dict()['from']} – {at}"
    else:
        assert level is not None
        title = f"研判报告 Assessment: {Level(level).zh} {level} level, {window.as_dict()['from']} – {at}"
    return Assessment(
        title=title,
        org_id=org_id,
        level=level,
        scheme=got.scheme,
        scheme_name=got.scheme_name,
        window=got.window,
        previous_window=got.previous_window,
        at=at,
        scores=got.organizations,
        warnings=dict(sorted(Counter(s.warning or "not scored" for s in got.organizations).items())),
        lost=_lost(got.organizations),
        profile=level_profile(p, subtree),
        trend=_trend(p, ids, org_id),
        open_cases=_open(store, set(ids), window),
        gaps=gaps(store, at, ids),
    )


def _subtree(children: dict[str, list[str]], root: str) -> list[str]:
    out = [root]
    for o in out:
        out.extend(children.get(o, []))
    return out


def _lost(rows: list[OrgScore]) -> list[LostRow]:
    """Points lost per indicator over ``rows``, the most first."""
    lost: dict[str, float] = defaultdict(float)
    hit: dict[str, int] = defaultdict(int)
    names: dict[str, tuple[str, str]] = {}
    for s in rows:
        for i in s.indicators:
            names[i.id] = (i.name_zh, i.name_en)
            if i.lost > 0:
                lost[i.id] += i.lost
                hit[i.id] += 1
    total = sum(lost.values())
    return [
        LostRow(
            indicator=k,
            name_zh=names[k][0],
            name_en=names[k][1],
            lost=round(v, 4),
            share=round(v / total, 4) if total else 0.0,
            organizations=hit[k],
        )
        for k, v in sorted(lost.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _trend(p: Pressure, ids: list[str], org_id: str | None) -> list[YearRow]:
    """Received pressure per calendar year: the organization's (a level: its median), beside its level's median."""
    level_ids = [o for o in p.received if p.orgs[o].level is p.orgs[ids[0]].level]
    by_year = received_by_year(p, set(level_ids) | set(ids))
    out = []
    for y, year in enumerate(by_year.years):
        if not by_year.actions[y]:  # no action recorded that year: no data, not zeros
            out.append(YearRow(year=year, received=None, level_median=None))
            continue
        level_values = [v for o in level_ids if (v := by_year.received[o][y]) is not None]
        mine = [v for o in ids if (v := by_year.received[o][y]) is not None]
        out.append(
            YearRow(
                year=year,
                received=round(mine[0] if org_id else median(mine), 4) if mine else None,
                level_median=round(median(level_values), 4) if level_values else None,
            )
        )
    return out


def _open(store: Store, ids: set[str], window: Window) -> list[OpenCase]:
    """The cases of these organizations begun before the window's end whose leader
    accountability is not done, with the leaders ``first`` or ``portfolio`` responsible."""
    out = []
    orgs = store.get_organizations()
    at = from_ordinal(window.end - 1)
    for cid, case in sorted(open_cases(store).items()):
        if case.org_id not in ids or to_ordinal(case.start) >= window.end:
            continue
        rows = accountability(store, cid, as_of=at).responsible
        leaders = [
            Leader(
                role=r.role,
                person_id=r.person.id,
                name=r.person.name,
                post_then=r.post_then.title if r.post_then else "",
                now="; ".join(f"{n.org_name} {n.title}" for n in r.posts_now) or r.movement,
            )
            for r in rows
            if r.role in ("first", "portfolio")
        ]
        out.append(
            OpenCase(
                case_id=cid,
                org_id=case.org_id,
                org_name=orgs[case.org_id].name,
                category=case.category.value,
                start=case.start,
                end=case.end,
                leaders=leaders,
            )
        )
    return out
