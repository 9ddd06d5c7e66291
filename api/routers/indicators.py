"""Indicator schemes and scores (docs/indicators.md): per organization, per leader, and a
check of a scheme file before it is deployed."""

from __future__ import annotations

from enum import Enum
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, Field

from api.deps import Reader, SettingsDep, StoreDep
from api.routers.common import DATE, Day, FromQuery, ToQuery
from core.config import Settings
from graph.errors import InvalidInput
from queries.indicators.alerts import Alert, alerts, stored_moves
from queries.indicators.assessment import assessment
from queries.indicators.scheme import SHIPPED, Scheme, load_scheme, parse_scheme
from queries.indicators.scores import LeaderScore, OrgScore, Scores, leader_score, scores
from queries.window import default_window
from viz.report import MEDIA, render_report

router = APIRouter(tags=["indicators"])

SchemeQuery = Annotated[
    str | None,
    Query(description=f"a shipped scheme ({', '.join(SHIPPED)}); none: the configured one (RTC_SCHEME)"),
]


def _scheme(settings: Settings, name: str | None) -> Scheme:
    # a client names a shipped scheme; a file on the server only through the setting
    if name is not None and name not in SHIPPED:
        raise InvalidInput(f"scheme: unknown scheme {name!r}: {', '.join(SHIPPED)}")
    return load_scheme(name or settings.scheme)


def _rule(settings: Settings) -> dict[str, object]:
    return {"weights": settings.weights, "min_pressure": settings.min_pressure, "sink_ratio": settings.sink_ratio}


class ScoresPage(Scores):
    count: int
    total: int
    limit: int
    offset: int


@router.get("/scores", response_model=ScoresPage)
def list_scores(
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    scheme: SchemeQuery = None,
    level: Annotated[str | None, Query(description="only this level")] = None,
    start: FromQuery = None,
    end: ToQuery = None,
    compare: Annotated[bool, Query(description="score the previous window too, for the change")] = True,
    limit: Annotated[int, Query(ge=1, le=20000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> ScoresPage:
    """Every organization's score for the window, each level the worst first."""
    got = scores(
        store,
        _scheme(settings, scheme),
        default_window(store, start, end),
        level=level,
        compare=compare,
        **_rule(settings),  # type: ignore[arg-type]
    )
    page = got.organizations[offset : offset + limit]
    return ScoresPage(
        **got.model_dump(exclude={"organizations"}),
        organizations=page,
        count=len(page),
        total=len(got.organizations),
        limit=limit,
        offset=offset,
    )


class OrgScorePublic(BaseModel):
    scheme: str
    scheme_name: str
    window: dict[str, str]
    previous_window: dict[str, str] | None
    organization: OrgScore


@router.get("/scores/{org_id:id}", response_model=OrgScorePublic)
def org_score(
    org_id: str,
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    scheme: SchemeQuery = None,
    start: FromQuery = None,
    end: ToQuery = None,
    explain: Annotated[bool, Query(description="the ids behind each value")] = True,
) -> OrgScorePublic:
    """One organization's score, every indicator with the rule applied and the ids behind it."""
    got = scores(
        store,
        _scheme(settings, scheme),
        default_window(store, start, end),
        org_ids=[org_id],
        explain=explain,
        **_rule(settings),  # type: ignore[arg-type]
    )
    return OrgScorePublic(**got.model_dump(exclude={"organizations"}), organization=got.organizations[0])


@router.get("/persons/{person_id:id}/score", response_model=LeaderScore)
def person_score(
    person_id: str,
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    scheme: SchemeQuery = None,
    start: FromQuery = None,
    end: ToQuery = None,
) -> LeaderScore:
    """A leader's score: the organizations they led in the window, weighted by the days."""
    return leader_score(
        store,
        _scheme(settings, scheme),
        person_id,
        default_window(store, start, end),
        **_rule(settings),  # type: ignore[arg-type]
    )


class SchemeCheck(BaseModel):
    id: str
    name_zh: str
    name_en: str
    groups: int
    indicators: int
    points: float = Field(description="after the scheme's scale")


@router.post("/schemes/check", response_model=SchemeCheck)
def check_scheme(
    _: Reader,
    text: Annotated[str, Body(media_type="text/plain", description="the scheme file (YAML)", max_length=1_000_000)],
) -> SchemeCheck:
    """Validate a scheme file: 422 with every error and its line, or a summary of the tree."""
    scheme = parse_scheme(text, "scheme")
    leaves = scheme.leaves()
    return SchemeCheck(
        id=scheme.id,
        name_zh=scheme.name_zh,
        name_en=scheme.name_en,
        groups=len(scheme.walk()) - len(leaves),
        indicators=len(leaves),
        points=round(sum((ind.points or 0.0) for ind, _, _ in leaves) * scheme.factor, 4),
    )


class AlertsPublic(BaseModel):
    since: str
    alerts: list[Alert]
    count: int


@router.get("/alerts", response_model=AlertsPublic)
def list_alerts(
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    since: Annotated[
        str | None,
        Query(pattern=DATE, description="moves on or after this date (default: the window's start)"),
        Day,
    ] = None,
    lookback_years: Annotated[int, Query(ge=1, le=20)] = 3,
    scheme: SchemeQuery = None,
) -> AlertsPublic:
    """Promotions and transfers of people responsible for a case whose leader accountability is
    not done, or who led an organization rated red in the years before the move."""
    day = since or default_window(store).as_dict()["from"]
    found = alerts(
        store,
        _scheme(settings, scheme),
        stored_moves(store, day),
        lookback_years=lookback_years,
        **_rule(settings),  # type: ignore[arg-type]
    )
    return AlertsPublic(since=day, alerts=found, count=len(found))


class ReportFormat(str, Enum):
    html = "html"
    xlsx = "xlsx"
    docx = "docx"


@router.get(
    "/reports",
    response_class=Response,
    responses={200: {"content": {m: {} for m in MEDIA.values()}, "description": "the report"}},
)
def report(
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    org: Annotated[str | None, Query(description="the organization (or level)")] = None,
    level: Annotated[str | None, Query(description="every organization of this level")] = None,
    scheme: SchemeQuery = None,
    start: FromQuery = None,
    end: ToQuery = None,
    format: Annotated[ReportFormat, Query(description="html (prints), xlsx or docx")] = ReportFormat.html,
) -> Response:
    """The assessment report (研判报告) of an organization or a level for a window."""
    found = assessment(
        store,
        _scheme(settings, scheme),
        default_window(store, start, end),
        org_id=org,
        level=level,
        **_rule(settings),  # type: ignore[arg-type]
    )
    name = f"report-{org or level}-{found.window['from']}.{format.value}"
    headers = {} if format is ReportFormat.html else {"Content-Disposition": f'attachment; filename="{quote(name)}"'}
    return Response(render_report(found, format.value), media_type=MEDIA[format.value], headers=headers)
