"""Findings and the scorecard."""

from __future__ import annotations

from typing import Annotated

import typer

from core.config import get_settings
from graph.model import from_ordinal
from queries import findings
from queries.window import default_window, latest_date
from rtc.common import (
    App,
    FromOpt,
    JsonOpt,
    StoreOpt,
    ToOpt,
    _emit,
    _pressure,
    _store,
    _table,
    a_date,
    app,
    console,
    human,
)

findings_app = App(
    help="Gaps, soft accountability, slogans, coverage, standards and double posts.", no_args_is_help=True
)
app.add_typer(findings_app, name="findings")


@findings_app.command("gaps")
def gaps_cmd(
    at: Annotated[
        str | None, typer.Option("--at", help="Date (default: the latest date in the data)", callback=a_date)
    ] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Vacant seats, portfolio gaps and overlaps, undecomposed duties, unsupervised organizations."""
    with _store(store) as s:
        day = at or from_ordinal(latest_date(s))
        found = findings.gaps(s, day)
    if as_json:
        _emit({"at": day, "gaps": found, "count": len(found)})
        return
    console.print(
        _table(
            f"gaps on {day}: {len(found)}",
            ["kind", "org", "name", "detail"],
            [[g.kind, g.org_id, g.org_name, g.detail] for g in found],
        )
    )


@findings_app.command("soft")
def soft_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    min_outcomes: Annotated[int, typer.Option(help="Organizations with at least this many outcomes")] = 3,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Soft accountability per level and organization; cases where only the violator was held to account."""
    with _store(store) as s:
        window = default_window(s, start, end) if start or end else None  # a lone --from counts too
        report = findings.soft_accountability(s, window, min_outcomes=min_outcomes)
    if as_json:
        _emit(report)
        return
    span = f"cases starting in [{window.as_dict()['from']}, {window.as_dict()['to']})" if window else "every case"
    console.print(f"{span}: overall soft share {human(report.overall_soft_share)}")
    console.print(
        _table(
            "by level",
            ["level", "outcomes", "total", "soft share"],
            [[r.level, r.outcomes, r.total, r.soft_share] for r in report.by_level],
        )
    )
    console.print(
        _table(
            "softest organizations",
            ["org", "name", "level", "outcomes", "soft share"],
            [[r.org_id, r.org_name, r.level, r.outcomes, r.soft_share] for r in report.by_org[:20]],
        )
    )
    console.print(
        f"{len(report.only_violator_held)} cases where only the violator was held to account "
        f"(double investigation not done): {', '.join(report.only_violator_held[:10])}"
    )


@findings_app.command("double-posts")
def double_posts_cmd(
    start: FromOpt = None, end: ToOpt = None, store: StoreOpt = None, as_json: JsonOpt = False
) -> None:
    """People holding two incompatible leadership posts at once (the same role at the same rank),
    over all the data, or only overlaps meeting the window given."""
    with _store(store) as s:
        window = default_window(s, start, end) if start or end else None
        found = findings.double_posts(s, window)
    if as_json:
        _emit({"window": window.as_dict() if window else None, "double_posts": found, "count": len(found)})
        return
    console.print(
        _table(
            f"people holding two incompatible posts at once: {len(found)}"
            + (f", overlaps meeting [{window.as_dict()['from']}, {window.as_dict()['to']})" if window else ""),
            ["person", "post", "other post", "overlap", "days"],
            [
                [
                    f"{d.person.name} ({d.person.id})",
                    f"{d.posts[0].title}, {d.posts[0].org_place}",
                    f"{d.posts[1].title}, {d.posts[1].org_place}",
                    f"[{d.start}, {d.end or 'open'})",
                    d.days,
                ]
                for d in found
            ],
        )
    )


@findings_app.command("slogans")
def slogans_cmd(start: FromOpt = None, end: ToOpt = None, store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Committees whose supervision work is done by their commission ("slogan to the committee, work by the
    commission"), case_support excepted."""
    with _store(store) as s:
        found = findings.slogans(_pressure(s, start, end, None), threshold=get_settings().commission_share_flag)
    if as_json:
        _emit(found)
        return
    console.print(
        _table(
            f"commission share above {found.threshold}, [{found.window['from']}, {found.window['to']})",
            ["committee", "name", "commission share"],
            [[c.org_id, c.org_name, c.commission_share] for c in found.committees],
        )
    )


@findings_app.command("coverage")
def coverage_cmd(start: FromOpt = None, end: ToOpt = None, store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Per level and action kind: the share of organizations reached, and those missed."""
    with _store(store) as s:
        p = _pressure(s, start, end, None)
        rows = findings.coverage(p)
    if as_json:
        _emit({"window": p.window.as_dict(), "coverage": rows})
        return
    console.print(
        _table(
            f"coverage, [{p.window.as_dict()['from']}, {p.window.as_dict()['to']})",
            ["level", "action kind", "orgs", "covered", "share", "missed (first 5)"],
            [[c.level, c.action_kind, c.orgs, c.covered, c.share, ", ".join(c.missed[:5])] for c in rows],
        )
    )


@findings_app.command("standards")
def standards_cmd(start: FromOpt = None, end: ToOpt = None, store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Compliance with the office's standards, per period: who met them and who missed them."""
    with _store(store) as s:
        p = _pressure(s, start, end, None)
        rows = findings.standards_compliance(s, p.window)
    if as_json:
        _emit({"window": p.window.as_dict(), "compliance": rows})
        return
    console.print(
        _table(
            f"standards, periods in [{p.window.as_dict()['from']}, {p.window.as_dict()['to']})",
            ["standard", "period from", "met", "missed", "missed (first 5)"],
            [[c.standard_id, c.period["from"], len(c.met), len(c.missed), ", ".join(list(c.missed)[:5])] for c in rows],
        )
    )


@app.command("scorecard")
def scorecard_cmd(
    org: Annotated[str, typer.Argument(metavar="ORG", help="Organization id")],
    start: FromOpt = None,
    end: ToOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One organization's indicators for a window, each explainable."""
    settings = get_settings()
    with _store(store) as s:
        p = _pressure(s, start, end, None)
        card = findings.scorecard(s, org, p, min_pressure=settings.min_pressure, sink_ratio=settings.sink_ratio)
    if as_json:
        _emit(card)
        return
    data = card.model_dump(mode="json")
    data["gaps"] = [g["detail"] for g in data["gaps"]]
    console.print(
        _table(
            f"scorecard of {card.org_name} ({org})",
            ["indicator", "value"],
            [[k, v] for k, v in data.items() if k not in ("org_id", "org_name")],
        )
    )
