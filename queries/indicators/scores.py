"""Scores of an indicator scheme: per organization and window, per indicator and group, with
the points lost and their share, the rank within the level, the change against the previous
window and the warning colour; and per leader, following the organizations they led
(docs/indicators.md). Every rule lives here once; views, routes and commands present it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from pydantic import BaseModel, Field

from graph.errors import InvalidInput, NotFound
from graph.model import Level, Role, Tenure
from graph.store import Store
from queries.indicators.measures import MEASURES, Figures
from queries.indicators.scheme import Direction, Indicator, Rule, Scheme
from queries.lookups import Post, posts_of
from queries.window import Window

COLOURS = ("red", "yellow", "green")  # worst first


class IndicatorScore(BaseModel):
    id: str
    name_zh: str
    name_en: str
    groups: list[str] = Field(description="the ids of the groups above it, outermost first")
    measure: str
    category: str | None
    value: float | None = Field(description="the measure's value; none: not scored (no value)")
    points: float = Field(description="the most it gives (after the scheme's scale)")
    score: float | None
    lost: float
    lost_share: float | None = Field(description="of all the points the organization lost")
    how: str = Field(description="the rule applied to the value, in words")
    warning: str | None = Field(description="the indicator's own colour, where the scheme sets one")
    ids: list[str] | None = Field(default=None, description="what stands behind the value (when explained)")


class GroupScore(BaseModel):
    id: str
    name_zh: str
    name_en: str
    score: float
    points: float


class OrgScore(BaseModel):
    org_id: str
    org_name: str
    level: str
    kind: str
    score: float
    points: float = Field(description="the points of the indicators scored for it")
    share: float | None = Field(description="score / points")
    rank: int | None = Field(description="within its level, by share, 1 the best")
    of: int = Field(description="organizations of its level ranked")
    warning: str | None = Field(description="red, yellow or green; none when nothing was scored")
    vetoed_by: list[str] = Field(default_factory=list, description="indicators whose red warning made it red")
    previous_share: float | None = None
    change: float | None = Field(default=None, description="share minus the previous window's share")
    lost_most: list[str] = Field(default_factory=list, description="the indicators that lost most, at most 3")
    groups: list[GroupScore] = Field(default_factory=list)
    indicators: list[IndicatorScore] = Field(default_factory=list)


class Scores(BaseModel):
    scheme: str
    scheme_name: str
    window: dict[str, str]
    previous_window: dict[str, str] | None
    organizations: list[OrgScore]


def rule_points(
    rule: Rule,
    direction: Direction,
    value: float,
    points: float,
    rank: tuple[float, int] | None = None,
    factor: float = 1.0,
) -> tuple[float, str]:
    """The points ``value`` earns of ``points`` under ``rule`` and how, in words. ``rank``: the
    value's place in its level (1 the best, ties sharing the mean place) and how many were ranked;
    ``factor``: the scheme's scale, which a deduction's points per occurrence follow too."""
    if rule.kind == "linear":
        assert rule.worst is not None and rule.best is not None
        t = min(max((value - rule.worst) / (rule.best - rule.worst), 0.0), 1.0)
        return (
            points * t,
            f"linear: {rule.worst:g} gives 0, {rule.best:g} gives {points:g}; {value:g} gives {points * t:.4g}",
        )
    if rule.kind == "rank":
        assert rank is not None
        place, n = rank
        t = 1.0 if n <= 1 else (n - place) / (n - 1)
        return points * t, f"rank {place:g} of {n} in its level ({value:g}): {points * t:.4g} of {points:g}"
    if rule.kind == "threshold":
        assert rule.at is not None
        meets = value >= rule.at if direction is Direction.higher_better else value <= rule.at
        sign = ">=" if direction is Direction.higher_better else "<="
        return (
            points if meets else 0.0
        ), f"threshold {sign} {rule.at:g}: {value:g} {'meets' if meets else 'misses'} it"
    assert rule.per is not None
    per = rule.per * factor
    got = max(0.0, points - per * value)
    return got, f"deduction: {value:g} x {per:.4g} off {points:.4g} gives {got:.4g}"


def indicator_warning(ind: Indicator, value: float) -> str | None:
    """The indicator's own colour for ``value``, where the scheme sets its thresholds."""
    w = ind.warning
    if w is None:
        return None
    if ind.direction is Direction.higher_worse:
        return "red" if value >= w.red else "yellow" if value >= w.yellow else "green"
    return "red" if value <= w.red else "yellow" if value <= w.yellow else "green"


def _places(values: dict[str, float], direction: Direction) -> dict[str, float]:
    """Each organization's place (1 the best; ties share the mean of their places)."""
    ordered = sorted(values, key=lambda o: -values[o] if direction is Direction.higher_better else values[o])
    out: dict[str, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and values[ordered[j + 1]] == values[ordered[i]]:
            j += 1
        for o in ordered[i : j + 1]:
            out[o] = (i + j) / 2 + 1
        i = j + 1
    return out


def score_window(figures: Figures, scheme: Scheme) -> dict[str, OrgScore]:
    """Every organization of the window the scheme applies to, scored (no rank, colour or change yet)."""
    factor = scheme.factor
    orgs = figures.orgs
    per_org: dict[str, list[IndicatorScore]] = defaultdict(list)
    vetoes: dict[str, list[str]] = defaultdict(list)
    for ind, path, applies in scheme.leaves():
        assert ind.measure is not None and ind.rule is not None and ind.direction is not None
        category = ind.category.value if ind.category else None
        values = figures.values(ind.measure, category)
        eligible = [o for o, org in orgs.items() if applies.covers(org.level, org.kind)]
        support = figures.support(ind.measure, category) if ind.min_support else {}
        scorable = {
            o: v
            for o in eligible
            if (v := values.get(o)) is not None and (not ind.min_support or support.get(o, 0) >= ind.min_support)
        }
        places: dict[str, tuple[float, int]] = {}
        if ind.rule.kind == "rank":
            by_level: dict[str, dict[str, float]] = defaultdict(dict)
            for o, v in scorable.items():
                by_level[orgs[o].level.value][o] = v
            for members in by_level.values():
                places.update((o, (place, len(members))) for o, place in _places(members, ind.direction).items())
        points = (ind.points or 0.0) * factor
        for o in eligible:
            v = values.get(o)
            if v is None:
                got, how, colour = None, f"not scored: no {MEASURES[ind.measure].en} in the window", None
            elif o not in scorable:
                what = MEASURES[ind.measure].support
                got, how, colour = None, f"not scored: {support.get(o, 0)} {what}, fewer than {ind.min_support}", None
            else:
                got, how = rule_points(ind.rule, ind.direction, v, points, places.get(o), factor)
                colour = indicator_warning(ind, v)
                if ind.veto and colour == "red":
                    vetoes[o].append(ind.id)
            per_org[o].append(
                IndicatorScore.model_construct(  # built from checked values, 200,000 of them on a province
                    id=ind.id,
                    name_zh=ind.name_zh,
                    name_en=ind.name_en,
                    groups=path,
                    measure=ind.measure,
                    category=category,
                    value=v,
                    points=round(points, 4),
                    score=None if got is None else round(got, 4),
                    lost=0.0 if got is None else round(points - got, 4),
                    lost_share=None,
                    how=how,
                    warning=colour,
                )
            )
    out = {}
    for o, rows in per_org.items():
        scored = [r for r in rows if r.score is not None]
        total = sum(r.score or 0.0 for r in scored)
        most = sum(r.points for r in scored)
        lost = sum(r.lost for r in scored)
        for r in scored:
            r.lost_share = round(r.lost / lost, 4) if lost else 0.0
        org = orgs[o]
        out[o] = OrgScore(
            org_id=o,
            org_name=org.name,
            level=org.level.value,
            kind=org.kind.value,
            score=round(total, 4),
            points=round(most, 4),
            share=round(total / most, 4) if most else None,
            rank=None,
            of=0,
            warning=None,
            vetoed_by=vetoes.get(o, []),
            lost_most=[r.id for r in sorted(scored, key=lambda r: (-r.lost, r.id)) if r.lost > 0][:3],
            groups=_groups(scheme, rows, factor),
            indicators=rows,
        )
    _rank_and_colour(out, scheme)
    return out


def _groups(scheme: Scheme, rows: list[IndicatorScore], factor: float) -> list[GroupScore]:
    """Each group's score and points: the sums of its scored leaves below it."""
    out = []
    for g in scheme.walk():
        if not g.children:
            continue
        below = [r for r in rows if g.id in r.groups and r.score is not None]
        out.append(
            GroupScore(
                id=g.id,
                name_zh=g.name_zh,
                name_en=g.name_en,
                score=round(sum(r.score or 0.0 for r in below), 4),
                points=round(sum(r.points for r in below), 4),
            )
        )
    return out


def _rank_and_colour(scores: dict[str, OrgScore], scheme: Scheme) -> None:
    by_level: dict[str, list[OrgScore]] = defaultdict(list)
    for s in scores.values():
        if s.share is not None:
            by_level[s.level].append(s)
    w = scheme.warning
    for members in by_level.values():
        places = _places({s.org_id: s.share or 0.0 for s in members}, Direction.higher_better)
        for s in members:
            s.rank, s.of = int(places[s.org_id]), len(members)
            if w.by == "share":
                colour = "red" if (s.share or 0.0) < w.red else "yellow" if (s.share or 0.0) < w.yellow else "green"
            else:  # the bottom shares of the level
                below = (len(members) - places[s.org_id] + 1) / len(members)  # 1/n for the worst
                colour = "red" if below <= w.red else "yellow" if below <= w.yellow else "green"
            s.warning = "red" if s.vetoed_by else colour


def previous(window: Window) -> Window:
    """The window just before ``window`` that a change is measured against: as many calendar
    years before, for a window of whole years (a leap year is not a day longer); else as many days."""
    start, end = dt.date.fromordinal(window.start), dt.date.fromordinal(window.end)
    if (start.month, start.day, end.month, end.day) == (1, 1, 1, 1):
        years = end.year - start.year
        return Window(dt.date(start.year - years, 1, 1).toordinal(), window.start)
    return Window(window.start - (window.end - window.start), window.start)


def scores(
    store: Store,
    scheme: Scheme,
    window: Window,
    *,
    org_ids: list[str] | None = None,
    level: str | None = None,
    explain: bool = False,
    compare: bool = True,
    weights: dict[str, float] | None = None,
    min_pressure: float = 1.0,
    sink_ratio: float = 0.5,
    figures: Figures | None = None,
) -> Scores:
    """Score every organization of the window (ranks are within the whole level), and give
    those asked for (``org_ids``, a ``level``, or all), the worst first in each level.

    ``explain`` adds the ids behind each indicator's value; ``compare`` scores the previous
    window of the same length too, for the change; ``figures``: the window's, when the caller
    reads them too (built with the same weights and rule), so they are computed once.

    Raises
    ------
    NotFound
        An organization of ``org_ids`` that the window does not score.
    """
    if level is not None and level not in {lv.value for lv in Level}:
        raise InvalidInput(f"unknown level {level!r}: {', '.join(lv.value for lv in Level)}")
    rule = {"weights": weights, "min_pressure": min_pressure, "sink_ratio": sink_ratio}
    figures = figures or Figures(store, window, **rule)  # type: ignore[arg-type]
    now = score_window(figures, scheme)
    for o in org_ids or []:
        if o not in now:
            raise NotFound(f"no organization {o!r} scored in the window (commissions and absent ones are not)")
    before = previous(window) if compare else None
    if before is not None:
        earlier = score_window(Figures(store, before, **rule), scheme)  # type: ignore[arg-type]
        for o, s in now.items():
            if o in earlier and earlier[o].share is not None and s.share is not None:
                s.previous_share = earlier[o].share
                s.change = round(s.share - (earlier[o].share or 0.0), 4)
    wanted = [
        s for s in now.values() if (org_ids is None or s.org_id in org_ids) and (level is None or s.level == level)
    ]
    wanted.sort(key=lambda s: (Level(s.level).depth, s.rank is None, -(s.rank or 0), s.org_id))
    if explain:
        for s in wanted:
            for r in s.indicators:
                r.ids = figures.ids(r.measure, r.category, s.org_id)
    return Scores(
        scheme=scheme.id,
        scheme_name=f"{scheme.name_zh} / {scheme.name_en}",
        window=window.as_dict(),
        previous_window=before.as_dict() if before else None,
        organizations=wanted,
    )


# ---------------------------------------------------------------- leaders


class LedOrg(BaseModel):
    org_id: str
    org_name: str
    position_id: str
    title: str
    days: int = Field(description="days of the tenure inside the window")
    share: float | None
    warning: str | None


class LeaderScore(BaseModel):
    person_id: str
    name: str
    scheme: str
    window: dict[str, str]
    share: float | None = Field(description="the led organizations' shares, weighted by the days led")
    warning: str | None = Field(description="the worst colour of an organization led in the window")
    organizations: list[LedOrg]


def leadership(
    store: Store, person_ids: list[str], overlapping: tuple[int, int] | None = None
) -> list[tuple[Tenure, Post]]:
    """The tenures of these persons in leadership posts (every role but staff): what a leader
    led, for their score and for the alerts on their moves."""
    tenures = store.tenures(person_ids=person_ids, overlapping=overlapping)
    posts = {p.tenure_id: p for p in posts_of(store, tenures)}
    return [(t, posts[t.id]) for t in tenures if t.id in posts and posts[t.id].role != Role.staff.value]


def leader_score(
    store: Store,
    scheme: Scheme,
    person_id: str,
    window: Window,
    *,
    weights: dict[str, float] | None = None,
    min_pressure: float = 1.0,
    sink_ratio: float = 0.5,
) -> LeaderScore:
    """A person's score in the window: the scores of the organizations whose leadership posts
    (every role but staff) they held, weighted by the days of each tenure inside the window.
    It follows them: a secretary promoted mid-year carries the half-year of the post left.

    Raises
    ------
    NotFound
        ``person_id`` is not in the store.
    """
    people = store.get_persons([person_id])
    if person_id not in people:
        raise NotFound(f"no person with id {person_id!r}")
    led = leadership(store, [person_id], (window.start, window.end))
    orgs = sorted({p.org_id for _, p in led})
    rule = {"weights": weights, "min_pressure": min_pressure, "sink_ratio": sink_ratio}
    scored = {s.org_id: s for s in score_window(Figures(store, window, **rule), scheme).values() if s.org_id in orgs}  # type: ignore[arg-type]
    rows = []
    for t, post in sorted(led, key=lambda tp: (tp[0].start, tp[0].position_id)):
        days = min(t.end_ordinal, window.end) - max(t.start_ordinal, window.start)
        s = scored.get(post.org_id)
        rows.append(
            LedOrg(
                org_id=post.org_id,
                org_name=post.org_name,
                position_id=post.position_id,
                title=post.title,
                days=days,
                share=s.share if s else None,
                warning=s.warning if s else None,
            )
        )
    weighted = [(r.days, r.share) for r in rows if r.share is not None and r.days > 0]
    total = sum(d for d, _ in weighted)
    colours = [r.warning for r in rows if r.warning is not None and r.days > 0]
    return LeaderScore(
        person_id=person_id,
        name=people[person_id].name or person_id,
        scheme=scheme.id,
        window=window.as_dict(),
        share=round(sum(d * (s or 0.0) for d, s in weighted) / total, 4) if total else None,
        warning=min(colours, key=COLOURS.index) if colours else None,
        organizations=rows,
    )
