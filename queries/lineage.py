"""Organizations that change (docs/domain.md, "Organizations that change"): a prefecture that
becomes a city, counties merged, a unit recoded. An organization names what it continues in
``predecessor_ids``; its lineage is what it continues, transitively, and accountability and
careers follow it through the restructuring.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from graph.model import Organization
from graph.store import Store


class OrgRef(BaseModel):
    id: str
    name: str


def predecessors(store: Store, org: Organization) -> list[Organization]:
    """What ``org`` continues, nearest first, transitively (a read a generation; a cycle in
    the links is read once round)."""
    seen = {org.id}
    out: list[Organization] = []
    frontier = [p for p in org.predecessor_ids if p not in seen]
    while frontier:
        seen.update(frontier)
        found = store.get_organizations(frontier)
        generation = [found[p] for p in frontier if p in found]
        out += generation
        frontier = list(dict.fromkeys(p for o in generation for p in o.predecessor_ids if p not in seen))
    return out


def successors(store: Store, org_ids: Iterable[str]) -> dict[str, list[OrgRef]]:
    """What continues each of ``org_ids``, nearest first, transitively (the organizations it
    became); organizations that did not change are left out."""
    out: dict[str, list[OrgRef]] = {}
    for start in dict.fromkeys(org_ids):
        seen, frontier, chain = {start}, [start], []
        while frontier:
            found = store.successors(frontier)
            generation = [o for p in frontier for o in found.get(p, ()) if o.id not in seen]
            seen.update(o.id for o in generation)
            chain += [OrgRef(id=o.id, name=o.name) for o in generation]
            frontier = [o.id for o in generation]
        if chain:
            out[start] = chain
    return out
