"""The interactive views of ``viz`` as standalone pages (or GraphML/GEXF), behind a reader key."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.deps import Reader, SettingsDep, StoreDep
from api.routers.common import AtQuery, CategoryQuery, FromQuery, ToQuery
from queries.window import default_window
from viz.duties import duties_view
from viz.people import case_view, person_view
from viz.pressure_map import DEFAULT_BUDGET, expand_aggregate, pressure_map
from viz.view import View, render

router = APIRouter(prefix="/views", tags=["views"])


class Format(str, Enum):
    html = "html"
    graphml = "graphml"
    gexf = "gexf"


MEDIA = {Format.html: "text/html; charset=utf-8", Format.graphml: "application/xml", Format.gexf: "application/xml"}
PAGE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}, "application/xml": {}}, "description": "the view"}
}
FormatQuery = Annotated[Format, Query(description="html (the page), graphml or gexf (for Gephi, yEd)")]


def _send(view: View, fmt: Format) -> Response:
    return Response(render(view, fmt.value, served=True), media_type=MEDIA[fmt])


@router.get("/pressure", response_class=Response, responses=PAGE)
def pressure_view(
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    root: str | None = None,
    depth: Annotated[int | None, Query(ge=0, le=6)] = None,
    start: FromQuery = None,
    end: ToQuery = None,
    category: CategoryQuery = None,
    as_of: AtQuery = None,
    budget: Annotated[int, Query(ge=2, le=20000)] = DEFAULT_BUDGET,
    embed: Annotated[
        int | None, Query(ge=0, le=20000, description="most nodes of aggregate contents in the page")
    ] = None,
    format: FormatQuery = Format.html,
) -> Response:
    """The pressure map of a subtree (the top by default)."""
    view = pressure_map(
        store,
        root=root,
        depth=depth,
        window=default_window(store, start, end),
        category=category.value if category else None,
        as_of=as_of,
        budget=budget,
        embed=embed,
        weights=settings.weights,
        min_pressure=settings.min_pressure,
        sink_ratio=settings.sink_ratio,
    )
    return _send(view, format)


@router.get("/pressure/expand")
def pressure_expand(
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    node: Annotated[str, Query(description="the aggregate to open: ORG::below", examples=["P00-00::below"])],
    top: Annotated[float, Query(ge=0, description="the map's colour scale: its hottest value")],
    root: str | None = None,
    depth: Annotated[int | None, Query(ge=0, le=6)] = None,
    start: FromQuery = None,
    end: ToQuery = None,
    category: CategoryQuery = None,
    as_of: AtQuery = None,
) -> dict[str, Any]:
    """What a pressure map page adds when it opens an aggregate its file does not hold: the
    nodes, edges, details and per-year figures (the page sends the map's own query)."""
    return expand_aggregate(
        store,
        node,
        root=root,
        depth=depth,
        window=default_window(store, start, end),
        category=category.value if category else None,
        as_of=as_of,
        top=top,
        weights=settings.weights,
        min_pressure=settings.min_pressure,
        sink_ratio=settings.sink_ratio,
    )


@router.get("/cases/{case_id:id}", response_class=Response, responses=PAGE)
def case_chain(
    case_id: str,
    store: StoreDep,
    settings: SettingsDep,
    _: Reader,
    as_of: AtQuery = None,
    lookback_days: Annotated[int, Query(ge=0, le=3650)] = 365,
    depth: Annotated[int, Query(ge=0, le=6)] = 1,
    format: FormatQuery = Format.html,
) -> Response:
    """The accountability chain of a case."""
    view = case_view(store, case_id, as_of=as_of, lookback_days=lookback_days, depth=depth, weights=settings.weights)
    return _send(view, format)


@router.get("/persons/{person_id:id}", response_class=Response, responses=PAGE)
def person_career(person_id: str, store: StoreDep, _: Reader, format: FormatQuery = Format.html) -> Response:
    """A person's career with the cases in each tenure."""
    view = person_view(store, person_id)
    return _send(view, format)


@router.get("/duties/{org_id:id}", response_class=Response, responses=PAGE)
def duty_decomposition(
    org_id: str,
    store: StoreDep,
    _: Reader,
    depth: Annotated[int, Query(ge=0, le=4)] = 1,
    category: CategoryQuery = None,
    at: AtQuery = None,
    format: FormatQuery = Format.html,
) -> Response:
    """Duty decomposition of an organization, gaps marked."""
    view = duties_view(store, org_id, depth=depth, category=category.value if category else None, at=at)
    return _send(view, format)
