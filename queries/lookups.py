"""As-of lookups (docs/domain.md): who held a post on a date, what a person
held, an organization's leaders, and a person's career with the kind of each move."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, Field

from graph.errors import NotFound
from graph.model import Organization, PDate, Person, Role, Tenure, to_ordinal
from graph.store import Store
from queries.lineage import OrgRef, successors


class PersonRef(BaseModel):
    id: str
    name: str


class Post(BaseModel):
    """A tenure seen from the post: the shape used in every JSON answer."""

    position_id: str
    title: str
    org_id: str
    org_name: str
    org_place: str = Field(
        "", description="the organization's name, after its parents' where another organization bears it"
    )
    role: str
    rank: int
    start: str
    end: str | None = None
    tenure_id: str


class Holding(BaseModel):
    person: PersonRef
    post: Post


class CareerStep(BaseModel):
    post: Post
    movement: str  # first | appoint | concurrent | transfer | promote | demote
    evidence: list[str]
    left_by: str | None = None  # the change kind that ended it
    sources: list[str] = Field(default_factory=list, description="where the tenure's records come from (sources_of)")
    org_became: list[OrgRef] = Field(
        default_factory=list, description="what the post's organization became since (queries.lineage), nearest first"
    )


def as_ordinal(at: str | dt.date | PDate) -> int:
    """The ordinal day of an ``at`` argument: an ISO date, year or month."""
    return to_ordinal(at)


PLACE = " > "  # between an organization and its parent in a place: 青溪县委 > 城关镇党委


PLACES_KEPT = 100_000  # organizations whose place a store keeps worked out (a nation has 458,678)


def places(store: Store, orgs: Mapping[str, Organization]) -> dict[str, str]:
    """How to name each organization so that a reader knows which one is meant: its name, or,
    where another organization bears the same name (城关镇党委 in a hundred counties), its
    parents' names in front, as few as tell it from every namesake (all of them if none do).

    An organization's place depends on the data alone: worked out once, then kept by the store
    until the data changes (a server names the same committees lookup after lookup: working
    them out each time was about an eighth of a warm province lookup)."""
    known: dict[str, str] = store.memo("places", dict)
    # read with get: a request in another thread may empty it meanwhile
    have = {i: place for i in orgs if (place := known.get(i)) is not None}
    if todo := {i: o for i, o in orgs.items() if i not in have}:
        found = _places(store, todo)
        if len(known) + len(found) > PLACES_KEPT:
            known.clear()
        known.update(found)
        have |= found
    return {i: have[i] for i in orgs}


def _places(store: Store, orgs: Mapping[str, Organization]) -> dict[str, str]:
    """``places`` worked out: reads how many bear each name, the ancestors of each ambiguous
    one, and in one read the namesakes under a parent of the same name with the organizations
    that bear the parent's name under the grandparent's; their children are the namesakes
    alike three levels up. Then one read a level for the few still alike."""
    counts = store.count_named({o.name for o in orgs.values()})
    out = {i: o.name for i, o in orgs.items() if counts.get(o.name, 0) < 2}
    chains = {i: store.ancestors(i) or [o] for i, o in orgs.items() if i not in out}
    out.update({i: chain[0].name for i, chain in chains.items() if len(chain) < 2})
    chains = {i: chain for i, chain in chains.items() if i not in out}
    pair = {i: (chain[0].name, chain[1].name) for i, chain in chains.items()}
    above = {i: (chain[1].name, chain[2].name) for i, chain in chains.items() if len(chain) > 2}
    alike = store.organizations_named_under({*pair.values(), *above.values()})
    depth = {i: 2 for i in chains}
    # Found from above, not by walking each namesake up: a nation's town committees have some
    # sixty namesakes under a parent of the same name, and a parent of that name under the same
    # grandparent is nearly always one (the walk was about a third of a nation's lookup).
    up = {i: names for i, names in above.items() if any(o.id != i for o in alike.get(pair[i], []))}
    kids = store.get_children({p.id for names in up.values() for p in alike.get(names, [])})
    # each namesake still alike -> its ancestor at ``depth - 1``, kept while the names above agree
    found = {
        i: {k.id: p for p in alike.get(names, []) for k in kids.get(p.id, []) if k.name == pair[i][0] and k.id != i}
        for i, names in up.items()
    }
    depth.update({i: 2 if found[i] else 3 for i in up})
    walking = list(found)
    # one level up for every organization still alike: one read
    while walking := [i for i in walking if found[i] and depth[i] < len(chains[i])]:
        ups = store.get_organizations({o.parent_id for i in walking for o in found[i].values() if o.parent_id})
        for i in walking:
            name = chains[i][depth[i]].name
            found[i] = {
                n: ups[o.parent_id] for n, o in found[i].items() if o.parent_id in ups and ups[o.parent_id].name == name
            }
            depth[i] += 1
    out.update({i: PLACE.join(o.name for o in reversed(chain[: depth[i]])) for i, chain in chains.items()})
    return out


def place_from(store: Store, org_id: str, origin_id: str) -> str:
    """Where ``org_id`` sits as seen from ``origin_id``: the names from just below the two
    organizations' lowest common ancestor down to it (山平市委 > 溪源县委 > 溪溪镇党委 for a
    move from another city of the province; 溪溪镇党委 alone for a move within one county). Its own name when the two
    share no ancestor, or are one organization."""
    chain = store.ancestors(org_id)
    if not chain:
        return org_id
    mine = {o.id for o in store.ancestors(origin_id)}
    path = []
    for org in chain:  # itself first, the root last
        if org.id in mine:
            break
        path.append(org.name)
    return PLACE.join(reversed(path)) if path else chain[0].name


def posts_of(store: Store, tenures: list[Tenure]) -> list[Post]:
    """Turn tenures into posts with titles and organization names (three reads: an ambiguous
    organization name costs its ancestors')."""
    positions = store.get_positions({t.position_id for t in tenures})
    orgs = store.get_organizations({p.org_id for p in positions.values()})
    place = places(store, orgs)
    out = []
    for t in tenures:
        pos = positions[t.position_id]
        org = orgs.get(pos.org_id)
        out.append(
            Post(
                position_id=pos.id,
                title=pos.title,
                org_id=pos.org_id,
                org_name=org.name if org else "",
                org_place=place.get(pos.org_id, org.name if org else ""),
                role=pos.role.value,
                rank=pos.rank,
                start=t.start,
                end=t.end,
                tenure_id=t.id,
            )
        )
    return out


def _holdings(store: Store, tenures: list[Tenure]) -> list[Holding]:
    people = store.get_persons({t.person_id for t in tenures})
    return [
        Holding(
            person=PersonRef(id=t.person_id, name=people[t.person_id].name if t.person_id in people else ""), post=post
        )
        for t, post in zip(tenures, posts_of(store, tenures), strict=True)
    ]


def holders(store: Store, position_id: str, at: str | dt.date) -> list[Holding]:
    """Who held ``position_id`` on ``at`` (half-open tenures: the day a tenure ends, it no longer holds).

    Examples
    --------
    >>> [h.person.name for h in holders(store, "P00/sec0", "2020-06-01")]  # doctest: +SKIP
    ['王伟']
    """
    return _holdings(store, store.holders(position_id, as_ordinal(at)))


def posts(store: Store, person_id: str, at: str | dt.date) -> list[Post]:
    """The posts ``person_id`` held on ``at``."""
    day = as_ordinal(at)
    return posts_of(store, store.tenures(person_ids=[person_id], overlapping=(day, day + 1)))


def leaders(store: Store, org_id: str, at: str | dt.date) -> list[Holding]:
    """Holders on ``at`` of the organization's leadership positions (every role but staff)."""
    return leaders_of(store, [org_id], at).get(org_id, [])


def leaders_of(store: Store, org_ids: Iterable[str], at: str | dt.date) -> dict[str, list[Holding]]:
    """``leaders`` of several organizations at once (the organizations with none left out),
    in four reads whatever their number."""
    day = as_ordinal(at)
    positions = [p.id for p in store.get_positions(org_ids=list(org_ids)).values() if p.role is not Role.staff]
    out: dict[str, list[Holding]] = {}
    for holding in _holdings(store, store.tenures(position_ids=positions, overlapping=(day, day + 1))):
        out.setdefault(holding.post.org_id, []).append(holding)
    return out


def person(store: Store, person_id: str) -> Person:
    """The person ``person_id`` names: its id, or an alias another source gave it (a person
    of source B is found under B's id). Raises NotFound."""
    found = store.get_persons([person_id])
    if person_id in found:
        return found[person_id]
    owner = store.alias_owners([person_id]).get(person_id)
    if owner is None or owner not in (found := store.get_persons([owner])):
        raise NotFound(f"no person with id {person_id!r}")
    return found[owner]


def sources_of(store: Store, tenures: Iterable[Tenure]) -> dict[str, list[str]]:
    """Where each tenure comes from: the ``source`` of the tenure row that gave its start (the
    file and row, or the document's id or URL, that a Popolo or FtM load or a ``source`` column
    recorded), and the ``source`` of the changes that opened and ended it (the appointment
    document). One read; tenures with no source recorded are left out."""
    tenures = list(tenures)
    if not tenures:
        return {}
    rows, changes = store.personnel_records({t.person_id for t in tenures})
    by_row = {(r["person_id"], r["position_id"], r["start"]): (r.get("props") or {}).get("source") for r in rows}
    by_change = {c["id"]: c.get("source") or (c.get("props") or {}).get("source") for c in changes}
    out = {}
    for t in tenures:
        found = [
            by_row.get((t.person_id, t.position_id, t.start)),
            by_change.get(t.opened_by or ""),
            by_change.get(t.closed_by or ""),
        ]
        if listed := list(dict.fromkeys(str(f) for f in found if f)):
            out[t.id] = listed
    return out


def career(store: Store, person_id: str) -> list[CareerStep]:
    """Every tenure of a person in date order, with the movement that began it.

    A step opened by a change carries that change's kind; a step from a tenure row
    is compared by rank with the post held just before (``first`` when none).
    """
    tenures = sorted(store.tenures(person_ids=[person_id]), key=lambda t: (t.start_ordinal, t.position_id))
    steps: list[CareerStep] = []
    previous: Post | None = None
    for t, post in zip(tenures, posts_of(store, tenures), strict=True):
        movement = t.open_kind if t.open_kind != "tenure" else _by_rank(previous, post)
        evidence = [t.id, *(e for e in (t.opened_by, t.closed_by) if e and e != "tenure-row")]
        steps.append(CareerStep(post=post, movement=movement, evidence=evidence, left_by=t.close_kind))
        previous = post
    became = successors(store, {s.post.org_id for s in steps})
    sources = sources_of(store, tenures)
    for step in steps:
        step.org_became = became.get(step.post.org_id, [])
        step.sources = sources.get(step.post.tenure_id, [])
    return steps


def _by_rank(before: Post | None, now: Post) -> str:
    if before is None:
        return "first"
    if now.rank > before.rank:
        return "promote"
    return "transfer" if now.rank == before.rank else "demote"
