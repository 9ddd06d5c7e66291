"""The interactive views, written to files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.config import get_settings
from queries.window import default_window
from rtc.common import (
    App,
    CategoryOpt,
    FromOpt,
    StoreOpt,
    ToOpt,
    _store,
    a_date,
    app,
    console,
)
from viz import DEFAULT_BUDGET, DEFAULT_EMBED

if TYPE_CHECKING:
    from viz.view import View

# ---------------------------------------------------------------- views

view_app = App(
    help="Interactive views as standalone HTML (offline), or GraphML/GEXF by the --out suffix.",
    no_args_is_help=True,
)
app.add_typer(view_app, name="view")
OutOpt = Annotated[Path, typer.Option("--out", help="File to write: .html (the page), .graphml or .gexf")]


def _write(view: View, out: Path) -> None:
    from viz.view import write_view  # the views import networkx and pyvis: only the view commands

    written = write_view(view, out)
    console.print(f"wrote {written} ({len(view.nodes)} nodes, {written.stat().st_size / 1e6:.2f} MB)")


@view_app.command("pressure")
def view_pressure_cmd(
    root: Annotated[str | None, typer.Option(help="Organization at the centre (default: the top)")] = None,
    depth: Annotated[int | None, typer.Option(help="Levels below the root (default: all)")] = None,
    start: FromOpt = None,
    end: ToOpt = None,
    category: CategoryOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date of the leaders shown (default: latest)", callback=a_date)
    ] = None,
    budget: Annotated[int, typer.Option(help="Most nodes before the deepest levels collapse")] = DEFAULT_BUDGET,
    embed: Annotated[
        int | None,
        typer.Option(min=0, help=f"Most nodes of aggregate contents the page holds (default {DEFAULT_EMBED})"),
    ] = None,
    out: OutOpt = Path("pressure-map.html"),
    store: StoreOpt = None,
) -> None:
    """The pressure map of a subtree: coloured by received pressure, sinks and fades marked."""
    from viz.pressure_map import pressure_map

    settings = get_settings()
    with _store(store) as s:
        view = pressure_map(
            s,
            root=root,
            depth=depth,
            window=default_window(s, start, end),
            category=category,
            as_of=as_of,
            budget=budget,
            embed=embed,
            weights=settings.weights,
            min_pressure=settings.min_pressure,
            sink_ratio=settings.sink_ratio,
        )
    _write(view, out)


@view_app.command("case")
def view_case_cmd(
    case: Annotated[str, typer.Argument(metavar="CASE", help="Case id")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Where people are on this date (default: latest)", callback=a_date)
    ] = None,
    lookback_days: Annotated[int, typer.Option(help="Look-back for upstream pressure")] = 365,
    depth: Annotated[int, typer.Option(help="Levels above for upstream responsibility")] = 1,
    out: OutOpt = Path("case.html"),
    store: StoreOpt = None,
) -> None:
    """The accountability chain of a case: posts then, people, posts now."""
    with _store(store) as s:
        from viz.people import case_view

        view = case_view(
            s,
            case,
            as_of=as_of,
            lookback_days=lookback_days,
            depth=depth,
            weights=get_settings().weights,
        )
    _write(view, out)


@view_app.command("person")
def view_person_cmd(
    person: Annotated[str, typer.Argument(metavar="PERSON", help="Person id")],
    out: OutOpt = Path("person.html"),
    store: StoreOpt = None,
) -> None:
    """A person's career: posts in order, with the cases that fell in each tenure."""
    with _store(store) as s:
        from viz.people import person_view

        view = person_view(s, person)
    _write(view, out)


@view_app.command("duties")
def view_duties_cmd(
    org: Annotated[str, typer.Argument(metavar="ORG", help="Organization id")],
    depth: Annotated[int, typer.Option(help="Levels below the organization")] = 1,
    category: CategoryOpt = None,
    at: Annotated[
        str | None, typer.Option(help="Organizations that exist on this date (default: latest)", callback=a_date)
    ] = None,
    out: OutOpt = Path("duties.html"),
    store: StoreOpt = None,
) -> None:
    """Duty decomposition down the hierarchy, with the gaps marked."""
    with _store(store) as s:
        from viz.duties import duties_view

        view = duties_view(s, org, depth=depth, category=category, at=at)
    _write(view, out)
