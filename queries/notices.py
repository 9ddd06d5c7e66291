"""What an answer rests on that the data does not hold (docs/domain.md, "Missing data").

An empty row list and a list with a gap in it look alike; a notice tells them apart. Every
answer that can rest on missing data carries a ``notices`` list; the CLI prints it under the
table, the JSON and the API return it as is.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from graph.model import Organization, Position, Tenure, from_ordinal, to_ordinal

# Codes, each with one meaning:
NO_POST = "no-post-recorded"  # the organization has no post for the role
NO_HOLDER = "no-holder-recorded"  # the post exists, nobody held it at any time of the window
HOLDER_GAP = "holder-gap"  # the post was held for part of the window only
NO_COMMISSION = "no-commission-recorded"  # no supervising commission for the organization
NO_ACTIONS = "no-actions-in-window"  # not one supervision action in the window


class Notice(BaseModel):
    code: str
    message: str
    role: str | None = Field(None, description="the accountability role the notice is about")
    subject: str | None = Field(None, description="the id it is about: a position or an organization")
    days: int | None = Field(None, description="for holder-gap: days of the window with no holder recorded")


def existence(org: Organization, window: tuple[int, int]) -> tuple[int, int]:
    """The part of ``window`` in which ``org`` exists (``valid_from``/``valid_to``): no post
    can be vacant before its organization is created or after it is dissolved."""
    lo = max(window[0], to_ordinal(org.valid_from)) if org.valid_from else window[0]
    hi = min(window[1], to_ordinal(org.valid_to)) if org.valid_to else window[1]
    return lo, max(lo, hi)


def uncovered_days(tenures: Iterable[Tenure], window: tuple[int, int]) -> int:
    """Days of ``window`` held by none of ``tenures``."""
    covered, reach = 0, window[0]
    for t in sorted(tenures, key=lambda t: t.start_ordinal):
        lo, hi = max(t.start_ordinal, reach), min(t.end_ordinal, window[1])
        if hi > lo:
            covered += hi - lo
            reach = hi
    return (window[1] - window[0]) - covered


def vacancies(
    role: str,
    org: Organization,
    posts: list[Position],
    held: dict[str, list[Tenure]],
    window: tuple[int, int],
    what: str,
) -> list[Notice]:
    """Notices for a role whose rows come from ``posts`` of ``org``: no such post, a post
    nobody held in the window, or a post held for part of it. ``what`` names the post
    in the message ("secretary post")."""
    span = existence(org, window)
    if span[1] <= span[0]:
        return []  # the organization did not exist in the window: nothing could be held
    if not posts:
        return [Notice(code=NO_POST, role=role, subject=org.id, message=f"no {what} recorded in {org.name} ({org.id})")]
    out = []
    length = span[1] - span[0]
    when = f"[{from_ordinal(span[0])}, {from_ordinal(span[1])})"
    for p in posts:
        gap = uncovered_days(held.get(p.id, ()), span)
        if not gap:
            continue
        where = f"{p.title} ({p.id}) of {org.name}"
        code, message = (
            (NO_HOLDER, f"no holder recorded for {where} in {when}")
            if gap == length
            else (HOLDER_GAP, f"{where} has no holder recorded for {gap} of {length} days in {when}")
        )
        out.append(Notice(code=code, role=role, subject=p.id, days=gap, message=message))
    return out
