"""Property-based tests of tenure logic: random personnel histories, loaded through the
real loader, agree with an independent model of who sat where on every day."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.factory import open_store
from graph.model import OPEN_END, Tenure, to_ordinal
from loaders.load import load_dataset
from loaders.tenures import derive_person, overlaps
from tests.helpers import organization, write_dataset

POSITIONS = ["A", "B", "C"]  # one-holder seats
PERSONS = [f"p{i}" for i in range(5)]
DAY0 = dt.date(2020, 1, 1).toordinal()


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[dict], list[tuple[str, str, int, int | None]]]:
    """A valid random history: change rows, and the intervals they should produce."""
    seat: dict[str, str | None] = dict.fromkeys(POSITIONS)
    post: dict[str, str | None] = dict.fromkeys(PERSONS)
    opened: dict[tuple[str, str], int] = {}
    intervals: list[tuple[str, str, int, int | None]] = []
    changes: list[dict] = []
    day = DAY0
    left_today: set[tuple[str, str]] = set()
    for n in range(draw(st.integers(1, 25))):
        gap = draw(st.integers(0, 40))
        day += gap
        if gap:
            left_today.clear()
        # Leaving a seat and taking it again on one day is ambiguous with dates alone (see loaders/tenures.py)
        free_seats = [p for p in POSITIONS if seat[p] is None]
        idle = [p for p in PERSONS if post[p] is None]
        busy = [p for p in PERSONS if post[p] is not None]
        options = []
        if free_seats and idle:
            options.append("appoint")
        if free_seats and busy:
            options.append("transfer")
        if busy:
            options += ["remove", "retire"]
        kind = draw(st.sampled_from(options))
        date = dt.date.fromordinal(day).isoformat()
        if kind == "appoint":
            person = draw(st.sampled_from(idle))
            seats = [q for q in free_seats if (person, q) not in left_today]
            if not seats:
                continue
            to = draw(st.sampled_from(seats))
            changes.append({"id": f"c{n}", "date": date, "kind": "appoint", "person_id": person, "to_position_id": to})
        elif kind == "transfer":
            person = draw(st.sampled_from(busy))
            seats = [q for q in free_seats if (person, q) not in left_today]
            if not seats:
                continue
            to = draw(st.sampled_from(seats))
        else:
            person, to = draw(st.sampled_from(busy)), None
        if kind != "appoint":
            frm = post[person]
            assert frm is not None
            changes.append(
                {
                    "id": f"c{n}",
                    "date": date,
                    "kind": kind,
                    "person_id": person,
                    "from_position_id": frm,
                    "to_position_id": to or "",
                }
            )
            intervals.append((person, frm, opened.pop((person, frm)), day))
            seat[frm], post[person] = None, None
            left_today.add((person, frm))
        if to is not None:
            seat[to], post[person] = person, to
            opened[(person, to)] = day
    intervals += [(person, pos, start, None) for (person, pos), start in opened.items()]
    return changes, intervals


def _model_holders(intervals: list[tuple[str, str, int, int | None]], pos: str, day: int) -> set[str]:
    return {p for p, q, s, e in intervals if q == pos and s <= day and (e is None or day < e) and s != e}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False))
def test_holders_agree_with_a_brute_force_scan(history: tuple[list[dict], list], rnd: random.Random) -> None:
    changes, intervals = history
    rnd.shuffle(changes)  # file order must not matter: tenures are derived in date order
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_dataset(
            Path(tmp) / "ds",
            organizations=[organization("O", "镇党委", "committee", "township")],
            positions=[{"id": p, "org_id": "O", "title": p, "role": "member"} for p in POSITIONS],
            persons=[{"id": p, "name": p} for p in PERSONS],
            changes=changes,
        )
        store = open_store(f"embedded://{tmp}/store")
        report = load_dataset(store, folder)
        assert report.ok, [str(e) for e in report.errors]
        days = sorted(
            {DAY0 - 1}
            | {s + d for _, _, s, e in intervals for d in (-1, 0, 1)}
            | {e + d for _, _, _, e in intervals if e is not None for d in (-1, 0, 1)}
        )
        for day in days:
            for pos in POSITIONS:
                got = [t.person_id for t in store.holders(pos, day)]
                assert len(got) <= 1, "a one-holder position returned two holders"
                assert set(got) == _model_holders(intervals, pos, day), (pos, dt.date.fromordinal(day))
        store.close()


@settings(max_examples=60, deadline=None)
@given(histories())
def test_a_derived_tenure_is_what_validation_would_make_with_its_own_days(
    history: tuple[list[dict], list],
) -> None:
    # derive_person builds tenures without validating again, with the days its events carry
    changes, _ = history
    for person in PERSONS:
        tenures, problems = derive_person(person, [], [c for c in changes if c["person_id"] == person])
        assert problems == []
        for t in tenures:
            assert Tenure.model_validate(t.model_dump()) == t
            assert (t.start_ordinal, t.end_ordinal) == (
                to_ordinal(t.start),
                OPEN_END if t.end is None else to_ordinal(t.end),
            )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 30)), min_size=2, max_size=8))
def test_overlap_detection_matches_pairwise_check(spans: list[tuple[int, int]]) -> None:
    """``overlaps`` finds a clash exactly when some pair of tenures on the seat overlaps."""
    from graph.model import Tenure

    tenures = [
        Tenure(
            id=str(i),
            person_id=f"p{i}",
            position_id="A",
            opened_by="x",
            open_kind="appoint",
            start=dt.date.fromordinal(DAY0 + s).isoformat(),
            end=dt.date.fromordinal(DAY0 + s + n).isoformat(),
        )
        for i, (s, n) in enumerate(spans)
    ]
    pairwise = any(
        a.start_ordinal < b.end_ordinal and b.start_ordinal < a.end_ordinal
        for i, a in enumerate(tenures)
        for b in tenures[i + 1 :]
    )
    assert bool(overlaps(tenures, lambda _: True)) == pairwise


def test_same_fact_twice_is_one_tenure() -> None:
    """A tenure row with an end and the change that ends it on the same day are one fact."""
    rows = [{"person_id": "p", "position_id": "A", "start": "2019-01-01", "end": "2020-01-01"}]
    changes = [
        {
            "id": "c1",
            "date": "2020-01-01",
            "kind": "transfer",
            "person_id": "p",
            "from_position_id": "A",
            "to_position_id": "B",
        }
    ]
    tenures, problems = derive_person("p", rows, changes)
    assert problems == []
    assert [(t.position_id, t.start, t.end, t.closed_by) for t in tenures] == [
        ("A", "2019-01-01", "2020-01-01", "c1"),
        ("B", "2020-01-01", None, None),
    ]
