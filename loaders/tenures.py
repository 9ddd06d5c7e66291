"""Derive tenures from tenure rows and personnel changes (docs/input-format.md).

Everything a person has on record (stored and new) is replayed in date order, so
a back-dated change lands where it belongs. On one date, closes come before
opens: a transfer on day d ends the old post at d and starts the new one at d. A close
whose post opens only later that same day (appointed and removed on one date) is
applied after the opens: a zero-length tenure, which never holds the seat.

Dates are the only order the input has. So a person who leaves a seat and takes the
same seat again on the same day cannot be told apart from one tenure given twice; it
is read as the latter. Give such a re-appointment the next day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Any, NamedTuple

from graph.model import OPEN_END, ChangeKind, Tenure, tenure_from_values, to_ordinal

TENURE_ROW = "tenure-row"


@dataclass
class Problem:
    """A personnel record that cannot be applied; ``source`` is the record's ``_src``."""

    rule: str
    message: str
    source: Any
    column: str | None = None
    value: str | None = None


@dataclass
class _Open:
    position_id: str
    start: str
    start_ord: int  # the dates as days, known from the events: not parsed again
    opened_by: str
    open_kind: str
    end: str | None = None
    end_ord: int = OPEN_END
    closed_by: str | None = None
    close_kind: str | None = None


class _Event(NamedTuple):
    """Sorted by (date, phase, seq): on one date closes (phase 0) come before opens (1)."""

    date: int
    phase: int
    seq: int
    kind: str
    position_id: str | None
    date_text: str
    evidence: str
    source: Any


def tenure_id(person_id: str, position_id: str, start: str) -> str:
    return f"{person_id}|{position_id}|{start}"


def _events(tenure_rows: Iterable[dict[str, Any]], changes: Iterable[dict[str, Any]]) -> list[_Event]:
    events: list[_Event] = []
    for row in tenure_rows:
        src = row.get("_src")
        events.append(
            _Event(
                to_ordinal(row["start"]), 1, len(events), "tenure", row["position_id"], row["start"], TENURE_ROW, src
            )
        )
        if row.get("end"):
            events.append(
                _Event(
                    to_ordinal(row["end"]), 0, len(events), "tenure", row["position_id"], row["end"], TENURE_ROW, src
                )
            )
    for ch in changes:
        kind = ChangeKind(ch["kind"])
        day = to_ordinal(ch["date"])
        if kind.closes:
            events.append(
                _Event(
                    day, 0, len(events), kind.value, ch.get("from_position_id"), ch["date"], ch["id"], ch.get("_src")
                )
            )
        if kind.opens:
            events.append(
                _Event(day, 1, len(events), kind.value, ch.get("to_position_id"), ch["date"], ch["id"], ch.get("_src"))
            )
    events.sort()
    return events


def derive_person(
    person_id: str, tenure_rows: Iterable[dict[str, Any]], changes: Iterable[dict[str, Any]]
) -> tuple[list[Tenure], list[Problem]]:
    """Replay one person's records; return their tenures and what could not be applied."""
    open_: dict[str, _Open] = {}
    closed: list[_Open] = []
    problems: list[Problem] = []
    events = _events(tenure_rows, changes)
    for _, same_day in groupby(events, key=lambda ev: ev.date):
        deferred = []
        for ev in same_day:
            if ev.phase == 1:
                _open(ev, person_id, open_, closed, problems)
            elif _closable(ev, open_, closed):
                _close(ev, person_id, open_, closed, problems)
            else:  # opened later the same day (appointed and removed on one date): close after the opens
                deferred.append(ev)
        for ev in deferred:
            _close(ev, person_id, open_, closed, problems)
    # made from values checked when read, with the days the events carry (derive_person runs
    # for every person of a load: 287,000 tenures on a province)
    tenures = [
        tenure_from_values(
            (
                tenure_id(person_id, t.position_id, t.start),
                person_id,
                t.position_id,
                t.start,
                t.end,
                t.opened_by,
                t.open_kind,
                t.closed_by,
                t.close_kind,
            ),
            (t.start_ord, t.end_ord),
        )
        for t in (*closed, *open_.values())
    ]
    tenures.sort(key=lambda t: (t.start_ordinal, t.position_id))
    return tenures, problems


def _closable(ev: _Event, open_: dict[str, _Open], closed: list[_Open]) -> bool:
    if ev.position_id is None:
        return bool(open_)
    return ev.position_id in open_ or any(
        t.position_id == ev.position_id and t.end is not None and t.end_ord == ev.date for t in closed
    )


def _close(ev: _Event, person: str, open_: dict[str, _Open], closed: list[_Open], problems: list[Problem]) -> None:
    if ev.position_id is None:
        # remove/retire without from_position_id: ends every open post (retire), or the only one (remove)
        if not open_ or (ev.kind == ChangeKind.remove.value and len(open_) > 1):
            held = ", ".join(sorted(open_)) or "none"
            problems.append(
                Problem(
                    "close-not-open",
                    f"{ev.kind} on {ev.date_text} names no from_position_id and {person} holds "
                    f"{'several posts' if open_ else 'no post'} then (open: {held})",
                    ev.source,
                    "from_position_id",
                    "",
                )
            )
            return
        targets = list(open_)
    else:
        targets = [ev.position_id]
    for pos in targets:
        current = open_.pop(pos, None)
        if current is not None:
            current.end, current.closed_by, current.close_kind = ev.date_text, ev.evidence, ev.kind
            current.end_ord = ev.date
            closed.append(current)
            continue
        same_day = [t for t in closed if t.position_id == pos and t.end is not None and t.end_ord == ev.date]
        if same_day:  # the same end given twice (a tenure row's end and the change): one fact
            if same_day[-1].closed_by == TENURE_ROW:
                same_day[-1].closed_by, same_day[-1].close_kind = ev.evidence, ev.kind
            continue
        problems.append(
            Problem(
                "close-not-open",
                f"closing a tenure that is not open: {person} holds no open tenure at position {pos} on {ev.date_text}",
                ev.source,
                "from_position_id" if ev.evidence != TENURE_ROW else "end",
                pos if ev.evidence != TENURE_ROW else ev.date_text,
            )
        )


def _open(ev: _Event, person: str, open_: dict[str, _Open], closed: list[_Open], problems: list[Problem]) -> None:
    pos = ev.position_id
    if pos is None:  # a change that opens a tenure names where: it cannot be applied without
        problems.append(
            Problem("missing-field", f"a {ev.kind} change needs to_position_id", ev.source, "to_position_id", "")
        )
        return
    current = open_.get(pos)
    if current is not None:
        if current.start_ord == ev.date:  # the same start given twice: one fact
            if current.opened_by == TENURE_ROW:
                current.opened_by, current.open_kind = ev.evidence, ev.kind
            return
        problems.append(
            Problem(
                "already-open",
                f"{person} already holds position {pos} since {current.start}; cannot open it again on {ev.date_text}",
                ev.source,
                "to_position_id" if ev.evidence != TENURE_ROW else "start",
                pos if ev.evidence != TENURE_ROW else ev.date_text,
            )
        )
        return
    for t in closed:  # a tenure row with an end, and a change opening the same post on its start
        if t.position_id == pos and t.start_ord == ev.date:
            if t.opened_by == TENURE_ROW:
                t.opened_by, t.open_kind = ev.evidence, ev.kind
            return
    open_[pos] = _Open(pos, ev.date_text, ev.date, ev.evidence, ev.kind)


def overlaps(tenures: Iterable[Tenure], one_holder: Callable[[str], bool]) -> list[tuple[Tenure, Tenure]]:
    """Pairs of tenures that overlap on a one-holder position (half-open intervals)."""
    by_position: dict[str, list[Tenure]] = {}
    for t in tenures:
        if one_holder(t.position_id):
            by_position.setdefault(t.position_id, []).append(t)
    clashes: list[tuple[Tenure, Tenure]] = []
    for items in by_position.values():
        items.sort(key=lambda t: (t.start_ordinal, t.end_ordinal))
        latest = items[0] if items else None
        for t in items[1:]:
            assert latest is not None
            if t.start_ordinal < latest.end_ordinal and t.start_ordinal < t.end_ordinal:
                clashes.append((latest, t))
            if t.end_ordinal > latest.end_ordinal:
                latest = t
    return clashes


__all__ = ["OPEN_END", "Problem", "derive_person", "overlaps", "tenure_id"]
