"""A jurisdiction: the store as seen by a reader limited to some organization subtrees.

``ScopedStore`` wraps a store and answers every read with what lies inside the subtrees
(the roots and everything they lead, commissions included): queries, views and routes
run on it unchanged, so nothing outside can reach an answer by any of them. What is
outside does not exist for it: an id outside is unknown, a person's posts outside are not
there (a leader promoted out of the jurisdiction has *left* it), the roots have no parent
(no upstream above them), and a reference to an organization outside reads as none.
Writes are refused: an import may touch any organization.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from graph.model import Accountability, Case, Duty, Organization, OrgFacts, Person, Position, Standard, Tenure
from graph.store import ActionTable, Batch, Capabilities, OrgContext, Store, StoreError, org_context_from

_T = TypeVar("_T")


class ScopedStore:
    """``store`` limited to the subtrees under ``roots`` (organization ids)."""

    def __init__(self, store: Store, roots: Iterable[str]) -> None:
        self.inner = store
        self.roots = tuple(sorted(set(roots)))
        self.url = store.url
        self.created = False
        self.capabilities = Capabilities(in_process=store.capabilities.in_process, staged_first_load=False)

    # ------------------------------------------------------------ the jurisdiction
    @cached_property
    def org_ids(self) -> frozenset[str]:
        """Every organization inside: the roots that exist and all they lead."""
        inside = set(self.inner.get_organizations(self.roots))
        frontier = list(inside)
        while frontier:
            children = self.inner.get_children(frontier)
            frontier = [c.id for kids in children.values() for c in kids if c.id not in inside]
            inside.update(frontier)
        return frozenset(inside)

    def _org(self, org: Organization) -> Organization:
        """The organization as seen from inside: no reference to one outside."""
        outside: dict[str, Any] = {
            f: None for f in ("parent_id", "supervised_by") if getattr(org, f) and getattr(org, f) not in self.org_ids
        }
        if any(p not in self.org_ids for p in org.predecessor_ids):
            outside["predecessor_ids"] = tuple(p for p in org.predecessor_ids if p in self.org_ids)
        return org.model_copy(update=outside) if outside else org

    def _position_inside(self, position_ids: Iterable[str]) -> set[str]:
        return set(self.get_positions(list(position_ids)))

    def _persons_inside(self, ids: list[str]) -> set[str]:
        """Persons who held a post inside, or who are named by a case inside."""
        held = {t.person_id for t in self.tenures(person_ids=ids)}
        rest = set(ids) - held
        if rest:
            cases = self.get_cases(org_ids=sorted(self.org_ids))
            named = {v for c in cases.values() for v in c.violator_ids}
            named |= {a.person_id for a in self.get_accountability(list(cases))}
            held |= rest & named
        return held

    # ------------------------------------------------------------ the contract
    def close(self) -> None:
        self.inner.close()

    def warm(self) -> None:
        self.inner.warm()

    def release(self) -> None:
        self.inner.release()

    def reconnect(self) -> None:
        self.inner.reconnect()

    def ping(self) -> None:
        self.inner.ping()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise StoreError("a reader limited to a jurisdiction cannot import: an import may touch any organization")

    existing_ids = stored_records = position_roles = tenures_overlapping = _refuse
    persons_named = _refuse
    adopt = drop_staging = _refuse

    def load_advice(self) -> list[str]:
        return []

    def staging(self) -> tuple[str, str | None] | None:
        return None

    def take_scratch(self, folder: Path, log: dict[str, Any]) -> bool:
        raise StoreError("a load limited to a jurisdiction is written part by part")

    def write(self, batch: Batch, *, log: dict[str, Any]) -> None:
        self._refuse()

    def import_lock(self) -> contextlib.AbstractContextManager[None]:
        return self._refuse()

    def atomic(self) -> contextlib.AbstractContextManager[None]:
        return self._refuse()

    def unfinished(self) -> bool:
        return False

    def counts(self) -> dict[str, int]:
        return {
            "organizations": len(self.org_ids),
            "positions": len(self.get_positions(org_ids=sorted(self.org_ids))),
            "cases": len(self.get_cases(org_ids=sorted(self.org_ids))),
            "duties": len(self.get_duties(sorted(self.org_ids))),
        }

    def date_range(self) -> tuple[int, int] | None:
        return self.inner.date_range()

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        # kept apart from the whole store's: the same key means other data inside a jurisdiction
        return self.inner.memo(("scoped", tuple(sorted(self.org_ids)), key), compute)

    def get_organizations(self, ids: Iterable[str] | None = None) -> dict[str, Organization]:
        wanted = sorted(self.org_ids) if ids is None else [i for i in ids if i in self.org_ids]
        return {i: self._org(o) for i, o in self.inner.get_organizations(wanted).items()}

    def organization_facts(self) -> dict[str, OrgFacts]:
        return {i: OrgFacts.of(o) for i, o in self.get_organizations().items()}

    def organizations_named(self, names: Iterable[str]) -> dict[str, list[Organization]]:
        found = self.inner.organizations_named(names)  # ambiguous within the jurisdiction, not beyond it
        inside = {n: [self._org(o) for o in orgs if o.id in self.org_ids] for n, orgs in found.items()}
        return {n: orgs for n, orgs in inside.items() if orgs}

    def organizations_named_under(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Organization]]:
        found = self.inner.organizations_named_under(pairs)  # inside, under a parent inside
        inside = {
            p: [self._org(o) for o in orgs if o.id in self.org_ids and o.parent_id in self.org_ids]
            for p, orgs in found.items()
        }
        return {p: orgs for p, orgs in inside.items() if orgs}

    def count_named(self, names: Iterable[str]) -> dict[str, int]:
        return {n: len(orgs) for n, orgs in self.organizations_named(names).items()}

    def ancestors(self, org_id: str) -> list[Organization]:
        if org_id not in self.org_ids:
            return []
        return [self._org(o) for o in self.inner.ancestors(org_id) if o.id in self.org_ids]

    def org_context(self, org_id: str, reach: int | None = None) -> OrgContext:
        return org_context_from(self, org_id, reach)

    def successors(self, org_ids: Iterable[str]) -> dict[str, list[Organization]]:
        found = self.inner.successors([i for i in org_ids if i in self.org_ids])
        return {o: [self._org(s) for s in after if s.id in self.org_ids] for o, after in found.items()}

    def get_children(self, org_ids: Iterable[str]) -> dict[str, list[Organization]]:
        found = self.inner.get_children([i for i in org_ids if i in self.org_ids])
        return {o: [self._org(c) for c in kids] for o, kids in found.items()}

    def _within(self, ids: Iterable[str] | None, org_ids: Iterable[str] | None) -> list[str] | None:
        """The ``org_ids`` filter of a read by ids or organizations, narrowed to the inside (all of
        the inside when neither is given)."""
        if ids is None and org_ids is None:
            return sorted(self.org_ids)
        return None if org_ids is None else [o for o in org_ids if o in self.org_ids]

    def get_positions(
        self, ids: Iterable[str] | None = None, *, org_ids: Iterable[str] | None = None
    ) -> dict[str, Position]:
        found = self.inner.get_positions(ids, org_ids=self._within(ids, org_ids))
        return {i: p for i, p in found.items() if p.org_id in self.org_ids}

    def get_persons(self, ids: Iterable[str]) -> dict[str, Person]:
        wanted = list(dict.fromkeys(ids))
        inside = self._persons_inside(wanted)
        return self.inner.get_persons([i for i in wanted if i in inside])

    def alias_owners(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        found = self.inner.alias_owners(ids)
        inside = self._persons_inside(sorted(set(found.values())))
        return {a: p for a, p in found.items() if p in inside}

    def find_persons(self, q: str, *, limit: int, offset: int) -> tuple[list[Person], int]:
        found, _ = self.inner.find_persons(q, limit=10**9, offset=0)
        inside = self._persons_inside([p.id for p in found])
        kept = [p for p in found if p.id in inside]
        return kept[offset : offset + limit], len(kept)

    def holders(self, position_id: str, at: int) -> list[Tenure]:
        return self.inner.holders(position_id, at) if self._position_inside([position_id]) else []

    def tenures(
        self,
        *,
        person_ids: Iterable[str] | None = None,
        position_ids: Iterable[str] | None = None,
        overlapping: tuple[int, int] | None = None,
    ) -> list[Tenure]:
        if person_ids is None and position_ids is None:
            position_ids = list(self.get_positions())
        found = self.inner.tenures(person_ids=person_ids, position_ids=position_ids, overlapping=overlapping)
        inside = self._position_inside({t.position_id for t in found})
        return [t for t in found if t.position_id in inside]

    def personnel_records(self, person_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The tenure rows and changes of posts inside (what a tenure inside comes from)."""
        rows, changes = self.inner.personnel_records(person_ids)
        named = {r["position_id"] for r in rows} | {
            c[k] for c in changes for k in ("from_position_id", "to_position_id") if c.get(k)
        }
        inside = self._position_inside(named)
        return (
            [r for r in rows if r["position_id"] in inside],
            [c for c in changes if c.get("from_position_id") in inside or c.get("to_position_id") in inside],
        )

    def actions(
        self,
        start: int,
        end: int,
        *,
        category: str | None = None,
        from_orgs: Iterable[str] | None = None,
        to_orgs: Iterable[str] | None = None,
    ) -> ActionTable:
        """Actions sent or received by an organization inside."""
        table = self.inner.actions(start, end, category=category, from_orgs=from_orgs, to_orgs=to_orgs)
        inside = np.array([o in self.org_ids for o in table.orgs], dtype=bool)
        if not len(table) or inside.all():
            return table
        return table.rows(np.flatnonzero(inside[table.from_org] | inside[table.to_org]))

    def received_counts(self, start: int, end: int, *, category: str | None = None) -> tuple[list[str], np.ndarray]:
        recipients, counts = self.inner.received_counts(start, end, category=category)
        rows = [i for i, o in enumerate(recipients) if o in self.org_ids]
        return [recipients[i] for i in rows], counts[rows]

    def get_cases(self, ids: Iterable[str] | None = None, *, org_ids: Iterable[str] | None = None) -> dict[str, Case]:
        found = self.inner.get_cases(ids, org_ids=self._within(ids, org_ids))
        return {i: c for i, c in found.items() if c.org_id in self.org_ids}

    def get_accountability(self, case_ids: Iterable[str] | None = None) -> list[Accountability]:
        cases = self.get_cases(None if case_ids is None else list(case_ids))
        return self.inner.get_accountability(list(cases)) if cases else []

    @cached_property
    def _duty_ids(self) -> frozenset[str]:
        return frozenset(self.inner.get_duties(sorted(self.org_ids)))

    def get_duties(self, org_ids: Iterable[str] | None = None) -> dict[str, Duty]:
        wanted = sorted(self.org_ids) if org_ids is None else [o for o in org_ids if o in self.org_ids]
        return {
            i: d
            if d.parent_duty_id is None or d.parent_duty_id in self._duty_ids
            else d.model_copy(
                update={"parent_duty_id": None}  # decomposed from a duty outside
            )
            for i, d in self.inner.get_duties(wanted).items()
            if d.org_id in self.org_ids
        }

    def get_standards(self) -> dict[str, Standard]:
        return self.inner.get_standards()  # the office's own rules, not data about anyone

    def import_log(self, limit: int = 20) -> list[dict[str, Any]]:
        return []  # sources and counts of whole imports: not the jurisdiction's to see

    def export(self, entity: str) -> Iterator[dict[str, Any]]:
        return self._refuse()
