"""Every view built on the tiny dataset, by name: what the browser and export tests draw."""

from __future__ import annotations

from collections.abc import Callable

from graph.store import Store
from viz.duties import duties_view
from viz.people import case_view, person_view
from viz.pressure_map import pressure_map
from viz.view import View


def _county(s: Store) -> str:
    return next(
        o.id for o in s.get_organizations().values() if o.level.value == "county" and o.kind.value == "committee"
    )


def _case(s: Store) -> str:
    return sorted(s.get_cases())[0]


def _person(s: Store) -> str:
    return sorted(s.get_cases().values(), key=lambda c: c.id)[0].violator_ids[0]


VIEWS: dict[str, Callable[[Store], View]] = {
    "pressure": lambda s: pressure_map(s),
    "pressure-collapsed": lambda s: pressure_map(s, budget=30),
    "case": lambda s: case_view(s, _case(s)),
    "person": lambda s: person_view(s, _person(s)),
    "duties": lambda s: duties_view(s, _county(s)),
}
