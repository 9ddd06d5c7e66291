"""Indicator schemes and scores: ``rtc scheme`` (check, show, the measures) and ``rtc score``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.config import get_settings
from queries.window import default_window
from rtc.common import App, FromOpt, JsonOpt, StoreOpt, ToOpt, _emit, _store, _table, a_date, app, console, human

scheme_app = App(help="Indicator schemes: check a file, show one, list the measures.", no_args_is_help=True)
app.add_typer(scheme_app, name="scheme")

SchemeOpt = Annotated[
    str | None,
    typer.Option("--scheme", help="A shipped scheme (default, six-plus-x) or a YAML file (setting RTC_SCHEME)"),
]


@scheme_app.command("check")
def check_cmd(path: Annotated[str, typer.Argument(metavar="FILE", help="Scheme file (YAML)")]) -> None:
    """Validate a scheme file: every error with its line, or a summary of the tree."""
    from queries.indicators.scheme import load_scheme

    scheme = load_scheme(path)
    leaves = scheme.leaves()
    total = sum((ind.points or 0.0) for ind, _, _ in leaves) * scheme.factor
    console.print(f"{path}: scheme {scheme.id} ({scheme.name_zh} / {scheme.name_en}) is valid")
    console.print(f"{len(scheme.walk()) - len(leaves)} groups, {len(leaves)} indicators, {human(total)} points")


@scheme_app.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(metavar="SCHEME", help="A shipped name or a file")] = "default",
) -> None:
    """A scheme's indicators: measure, rule, points (after its scale), warnings."""
    from queries.indicators.scheme import load_scheme

    scheme = load_scheme(name)
    rows = []
    for ind, path, applies in scheme.leaves():
        rule = ind.rule.model_dump(exclude_none=True) if ind.rule else {}
        where = ", ".join([*(lv.value for lv in applies.levels), *(k.value for k in applies.kinds)]) or "all"
        warn = "" if ind.warning is None else f"red {human(ind.warning.red)}, yellow {human(ind.warning.yellow)}"
        rows.append(
            [
                "/".join([*path, ind.id]),
                f"{ind.name_zh} {ind.name_en}",
                ind.measure,
                ind.category.value if ind.category else "",
                " ".join(f"{k}={v}" for k, v in rule.items()),
                human((ind.points or 0.0) * scheme.factor),
                where,
                warn + (" veto" if ind.veto else ""),
            ]
        )
    console.print(
        _table(
            f"{scheme.id}: {scheme.name_zh} / {scheme.name_en}",
            ["indicator", "name", "measure", "category", "rule", "points", "applies to", "warning"],
            rows,
        )
    )


@scheme_app.command("measures")
def measures_cmd(as_json: JsonOpt = False) -> None:
    """The measure vocabulary an indicator may score."""
    from queries.indicators.measures import MEASURES

    if as_json:
        _emit([m.__dict__ for m in MEASURES.values()])
        return
    rows = [
        [m.name, m.zh, m.en, m.unit, "yes" if m.by_category else "", "yes" if m.counts else "", m.ids]
        for m in MEASURES.values()
    ]
    console.print(_table("measures", ["measure", "中文", "meaning", "unit", "category", "counts", "ids behind"], rows))


@app.command("score")
def score_cmd(
    org: Annotated[str | None, typer.Argument(metavar="[ORG]", help="One organization, every indicator")] = None,
    level: Annotated[str | None, typer.Option(help="Only this level")] = None,
    person: Annotated[str | None, typer.Option("--person", help="A leader's score instead")] = None,
    scheme: SchemeOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    explain: Annotated[bool, typer.Option("--explain", help="The ids behind each value")] = False,
    compare: Annotated[bool, typer.Option(help="Score the previous window too, for the change")] = True,
    limit: Annotated[int, typer.Option(help="Rows shown (0: all); the worst first in each level")] = 30,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Scores of an indicator scheme per organization (or a leader) for a window, with warnings."""
    from queries.indicators.scheme import load_scheme
    from queries.indicators.scores import COLOURS, leader_score, scores

    settings = get_settings()
    rule = {"weights": settings.weights, "min_pressure": settings.min_pressure, "sink_ratio": settings.sink_ratio}
    chosen = load_scheme(scheme or settings.scheme)
    with _store(store) as s:
        window = default_window(s, start, end)
        if person is not None:
            led = leader_score(s, chosen, person, window, **rule)  # type: ignore[arg-type]
            if as_json:
                _emit(led)
                return
            console.print(f"{led.name} ({led.person_id}): {human(led.share)}, {led.warning or 'not scored'}")
            console.print(
                _table(
                    f"organizations led in [{led.window['from']}, {led.window['to']}), scheme {led.scheme}",
                    ["org", "name", "post", "days", "share", "warning"],
                    [[r.org_id, r.org_name, r.title, r.days, r.share, r.warning] for r in led.organizations],
                )
            )
            return
        got = scores(
            s,
            chosen,
            window,
            org_ids=[org] if org else None,
            level=level,
            explain=explain,
            compare=compare,
            **rule,  # type: ignore[arg-type]
        )
    if as_json:
        _emit(got)
        return
    head = f"scheme {got.scheme} ({got.scheme_name}), window [{got.window['from']}, {got.window['to']})"
    if org:
        o = got.organizations[0]
        console.print(
            f"{o.org_name} ({o.org_id}), {o.level}: {human(o.score)} of {human(o.points)} = {human(o.share)}, "
            f"rank {o.rank} of {o.of}, {o.warning}" + (f" (veto: {', '.join(o.vetoed_by)})" if o.vetoed_by else "")
        )
        rows = [
            [
                i.id,
                f"{i.name_zh} {i.name_en}",
                human(i.value),
                human(i.score),
                human(i.points),
                human(i.lost_share),
                i.warning or "",
                i.how,
            ]
            + ([", ".join(i.ids or [])] if explain else [])
            for i in o.indicators
        ]
        columns = ["indicator", "name", "value", "score", "of", "share of lost", "warning", "how"]
        console.print(_table(head, columns + (["ids"] if explain else []), rows))
        return
    # the reds first, then the yellows, each the lowest share first
    ordered = sorted(got.organizations, key=lambda o: (COLOURS.index(o.warning or "green"), o.share or 0.0, o.org_id))
    shown = ordered if limit == 0 else ordered[:limit]
    rows = [
        [
            o.org_id,
            o.org_name,
            o.level,
            human(o.share),
            f"{o.rank}/{o.of}",
            o.warning or "",
            human(o.change),
            ", ".join(o.lost_most),
        ]
        for o in shown
    ]
    console.print(_table(head, ["org", "name", "level", "share", "rank", "warning", "change", "lost most"], rows))
    if len(shown) < len(got.organizations):
        console.print(f"{len(got.organizations) - len(shown)} more: --limit 0 shows all, --level one level")


@app.command("alerts")
def alerts_cmd(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Moves on or after this date (default: the window's start)", callback=a_date),
    ] = None,
    lookback_years: Annotated[
        int, typer.Option(min=1, max=20, help="Years before a move to look for a red rating")
    ] = 3,
    scheme: SchemeOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Promotions and transfers of people responsible for an open case, or who led an organization rated red."""
    from queries.indicators.alerts import alerts, stored_moves
    from queries.indicators.scheme import load_scheme

    settings = get_settings()
    with _store(store) as s:
        day = since or default_window(s).as_dict()["from"]
        found = alerts(
            s,
            load_scheme(scheme or settings.scheme),
            stored_moves(s, day),
            lookback_years=lookback_years,
            weights=settings.weights,
            min_pressure=settings.min_pressure,
            sink_ratio=settings.sink_ratio,
        )
    if as_json:
        _emit({"since": day, "alerts": found, "count": len(found)})
        return
    rows = [
        [
            a.kind,
            f"{a.person_name} ({a.person_id})",
            f"{a.change_kind} {a.change_id}",
            a.date,
            a.case_id or a.year,
            a.detail,
        ]
        for a in found
    ]
    console.print(
        _table(
            f"alerts on moves since {day}: {len(found)}",
            ["alert", "person", "move", "date", "case / year", "why"],
            rows,
        )
    )


@app.command("report")
def report_cmd(
    org: Annotated[str | None, typer.Argument(metavar="[ORG]", help="The organization (or --level)")] = None,
    level: Annotated[str | None, typer.Option(help="Every organization of this level instead")] = None,
    out: Annotated[Path, typer.Option("--out", help="File to write: .html (prints), .xlsx or .docx")] = Path(
        "report.html"
    ),
    scheme: SchemeOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    store: StoreOpt = None,
) -> None:
    """The assessment report (研判报告) of an organization or a level: scores, warnings, what
    lost most, the level profile and the trend, open cases with their leaders, gaps."""
    from queries.indicators.assessment import assessment  # only a report reads these
    from queries.indicators.scheme import load_scheme
    from viz.report import report_format, write_report

    report_format(out)
    settings = get_settings()
    with _store(store) as s:
        found = assessment(
            s,
            load_scheme(scheme or settings.scheme),
            default_window(s, start, end),
            org_id=org,
            level=level,
            weights=settings.weights,
            min_pressure=settings.min_pressure,
            sink_ratio=settings.sink_ratio,
        )
    written = write_report(found, out)
    console.print(
        f"wrote {written} ({len(found.scores)} organizations, {len(found.open_cases)} open cases, "
        f"{written.stat().st_size / 1e6:.2f} MB)"
    )
