"""Who held what, careers, and who is accountable for a case."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from core.config import get_settings
from graph.errors import InvalidInput
from queries import accountability, lookups, notices
from rtc.common import (
    CategoryOpt,
    JsonOpt,
    StoreOpt,
    _emit,
    _store,
    _table,
    a_date,
    app,
    console,
    err,
    print_notices,
)


@app.command("holders")
def holders_cmd(
    position: Annotated[str, typer.Argument(metavar="POSITION", help="Position id")],
    at: Annotated[str, typer.Option("--at", help="Date (YYYY-MM-DD, YYYY-MM or YYYY)", callback=a_date)],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who held a position on a date."""
    with _store(store) as s:
        if not s.get_positions([position]):
            err.print(f"[red]error:[/] no position with id {position!r}")
            raise typer.Exit(1)
        rows = lookups.holders(s, position, at)
    if as_json:
        _emit({"position_id": position, "at": at, "holders": rows})
        return
    console.print(
        _table(
            f"holders of {position} on {at}",
            ["person", "name", "title", "start", "end"],
            [[h.person.id, h.person.name, h.post.title, h.post.start, h.post.end] for h in rows],
        )
    )
    if not rows:
        console.print("vacant on that date")


@app.command("career")
def career_cmd(
    person: Annotated[str, typer.Argument(metavar="PERSON", help="Person id")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A person's posts in date order, with the movement that began each."""
    with _store(store) as s:
        found = lookups.person(s, person)  # by an alias too
        steps = lookups.career(s, found.id)
    if as_json:
        _emit({"person": found, "career": steps})
        return
    console.print(
        _table(
            f"career of {found.name} ({found.id})",
            ["start", "end", "movement", "title", "organization", "rank", "left by"],
            [
                [
                    st.post.start,
                    st.post.end,
                    st.movement,
                    st.post.title,
                    " → ".join([st.post.org_place, *(o.name for o in st.org_became)]),  # what it became since
                    st.post.rank,
                    st.left_by,
                ]
                for st in steps
            ],
        )
    )


# ---------------------------------------------------------------- accountability and pressure


@app.command("accountability")
def accountability_cmd(
    case: Annotated[
        str | None, typer.Argument(metavar="CASE", help="Case id (omit with --org for an ad-hoc case)")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Find people where they are on this date (default: the latest date in the data)",
            callback=a_date,
        ),
    ] = None,
    lookback_days: Annotated[int, typer.Option(help="Upstream window starts this many days before the case")] = 365,
    depth: Annotated[int, typer.Option(help="Levels of upstream failure to follow")] = 1,
    org: Annotated[str | None, typer.Option(help="Ad-hoc case: organization id")] = None,
    start: Annotated[str | None, typer.Option(help="Ad-hoc case: misconduct start", callback=a_date)] = None,
    end: Annotated[str | None, typer.Option(help="Ad-hoc case: misconduct end", callback=a_date)] = None,
    category: CategoryOpt = None,
    violators: Annotated[str, typer.Option(help="Ad-hoc case: violator ids separated by ;")] = "",
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who must be held accountable for a case, found in their posts today ("double investigation")."""
    with _store(store) as s:
        if case is None:
            if not (org and start and category):
                raise InvalidInput("give a CASE id, or --org, --start and --category for an ad-hoc case")
            target: Any = accountability.adhoc_case(org, start, end, category, [v for v in violators.split(";") if v])
        else:
            target = case
        result = accountability.accountability(
            s, target, as_of=as_of, lookback_days=lookback_days, depth=depth, weights=get_settings().weights
        )
    if as_json:
        _emit(result)
        return
    print_accountability(result)


def print_accountability(result: accountability.AccountabilityResult) -> None:
    c = result.case
    console.print(
        f"[bold]case {c.id or '(ad hoc)'}[/] in {c.org_name} ({c.org_id}), {c.category}, "
        f"[{c.start}, {c.window_end}); people found as of {result.as_of}"
    )
    rows = []
    for r in result.responsible:
        then = r.post_then
        # a title alone ("市委常委、秘书长") does not say where: every post names its organization
        now = "; ".join(f"{p.title}, {p.org_place} (since {p.start})" for p in r.posts_now) or (
            f"left; last post {r.last_post.title}, {r.last_post.org_place}" if r.last_post else "no post"
        )
        role = r.role + (f" +{r.level_up}" if r.level_up else "")
        # one cell of lines, not seven columns: at 80 columns every column was cut ("portfol…")
        lines = [
            f"{r.person.name} ({r.person.id}), {r.movement}, {r.overlap_days} days in the window",
            f"then: {then.title}, {then.org_place} [{then.start}, {then.end or 'open'})" if then else "then: -",
            f"now: {now}",
            f"evidence: {', '.join(r.evidence.tenures[:2] + r.evidence.actions[:3])}",
        ]
        rows.append([role, "\n".join(lines)])
    for n in result.notices:
        if n.code in (notices.NO_HOLDER, notices.NO_POST):  # the row that cannot be filled, marked where it belongs
            rows.append([n.role or "", f"(no holder recorded): {n.subject}"])
    rows.sort(key=lambda row: accountability.ROLE_ORDER.index(str(row[0]).split(" ")[0]))
    console.print(_table("", ["role", "person, movement, posts then and now, evidence"], rows))
    if not result.responsible:
        console.print("nobody held a responsible post during the window")
    print_notices(result.notices)
