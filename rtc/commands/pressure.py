"""Where pressure fades: the level profile and each organization's figures."""

from __future__ import annotations

from typing import Annotated

import typer

from core.config import get_settings
from graph.errors import InvalidInput
from queries import pressure
from rtc.common import (
    CategoryOpt,
    FromOpt,
    JsonOpt,
    StoreOpt,
    ToOpt,
    _emit,
    _pressure,
    _store,
    _table,
    app,
    console,
    print_notices,
)


@app.command("fades")
def fades_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    category: CategoryOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pressure felt at each level, and the level boundary where it fades most."""
    with _store(store) as s:
        profile = pressure.level_profile(_pressure(s, start, end, category))
    if as_json:
        _emit(profile)
        return
    print_profile(profile)


def print_profile(profile: pressure.LevelProfile) -> None:
    w = profile.window
    console.print(
        _table(
            f"received pressure per level, [{w['from']}, {w['to']})"
            + (f", {profile.category}" if profile.category else ""),
            ["level", "organizations", "median", "mean", "fade ratio from above"],
            [[r.level, r.orgs, r.median, r.mean, r.fade_ratio_from_above] for r in profile.levels],
        )
    )
    f = profile.steepest_fade
    if f:
        console.print(f"steepest fade: [bold]{f.from_level} -> {f.to_level}[/], ratio {f.ratio}")
    print_notices(profile.notices)


@app.command("pressure")
def pressure_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    category: CategoryOpt = None,
    level: Annotated[str | None, typer.Option(help="Only organizations of this level")] = None,
    org: Annotated[str | None, typer.Option(help="Only this organization")] = None,
    explain: Annotated[
        str | None,
        typer.Option(help="With --org: list the action ids behind a figure (received, sent, weak, commission)"),
    ] = None,
    sinks: Annotated[bool, typer.Option("--sinks", help="Only pressure sinks")] = False,
    top: Annotated[int, typer.Option(help="Rows to show in the table")] = 30,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Received pressure, pass-on ratio, sinks, cold organizations, weak-form and commission share."""
    settings = get_settings()
    with _store(store) as s:
        p = _pressure(s, start, end, category)
        if explain:
            if not org:
                raise InvalidInput("--explain needs --org")
            ids = pressure.evidence(p, org, explain)
            _emit(
                {"org_id": org, "figure": explain, "window": p.window.as_dict(), "actions": ids}
            ) if as_json else console.print(f"{len(ids)} actions: " + ", ".join(ids))
            return
        rows = pressure.organizations(
            p,
            level=level,
            org_id=org,
            sinks_only=sinks,
            min_pressure=settings.min_pressure,
            sink_ratio=settings.sink_ratio,
        )
    if as_json:
        _emit(
            {
                "window": p.window.as_dict(),
                "category": category,
                "organizations": rows,
                "count": len(rows),
                "notices": pressure.notices(p),
            }
        )
        return
    console.print(
        _table(
            f"pressure [{p.window.as_dict()['from']}, {p.window.as_dict()['to']}), {len(rows)} orgs",
            ["org", "name", "level", "received", "pass-on", "sink", "cold", "sent", "weak share", "commission share"],
            [
                [
                    f.org_id,
                    f.name,
                    f.level,
                    f.received,
                    f.pass_on_ratio,
                    "yes" if f.sink else "",
                    "yes" if f.cold else "",
                    f.sent,
                    f.weak_share,
                    f.commission_share,
                ]
                for f in rows[:top]
            ],
        )
    )
    print_notices(pressure.notices(p))
