"""Every Cypher statement the server backends send, in one place.

Statements are always parameterised: data travels in ``$parameters``. The only text
formatted into a statement is labels, relationship types and property names, and
those come from the model (``ENTITY_MODELS``) and the tables below, never from input.
Dialect differences between Neo4j and FalkorDB live in ``DIALECTS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.model import ENTITY_MODELS

# entity (the loader's name) -> node label; every node is identified by its ``id`` property
LABELS: dict[str, str] = {
    "organizations": "Organization",
    "positions": "Position",
    "persons": "Person",
    "duties": "Duty",
    "actions": "Action",
    "cases": "Case",
    "accountability": "Accountability",
    "standards": "Standard",
}
LISTS = ("portfolio", "violator_ids", "aliases", "not_same_as", "predecessor_ids")  # properties that hold a list

# The raw personnel records (tenure rows and changes, the input tenures are derived from) are
# properties of their Person node: ``tenure_rows`` and ``changes`` (JSON text) and their counts
# ``n_tenure_rows`` and ``n_changes``, not a node per record. They are read a person at a time
# (to derive tenures again when new records come) and never searched. A node per record was the
# largest part of a national graph (13 million nodes, 30% of the server's memory), and a node
# of its own per person costs an index entry (about 260 bytes on FalkorDB) for each of millions
# of persons. A change's id is looked up within its person.


def fields(entity: str) -> list[str]:
    """The stored properties of an entity: its model fields (``props`` as JSON text), plus derived ones."""
    extra = {"actions": ["date_ord"]}.get(entity, [])
    return [*ENTITY_MODELS[entity].model_fields, *extra]


# (entity, relationship type, property of the row naming the other end, its label, direction)
# direction "out": (this)-[:TYPE]->(other); "in": (other)-[:TYPE]->(this)
RELATIONSHIPS: list[tuple[str, str, str, str, str]] = [
    ("organizations", "LEADS", "parent_id", "Organization", "in"),
    ("organizations", "SUPERVISED_BY", "supervised_by", "Organization", "out"),
    ("positions", "HAS_POSITION", "org_id", "Organization", "in"),
    ("duties", "OF", "org_id", "Organization", "out"),
    ("duties", "DECOMPOSED_INTO", "parent_duty_id", "Duty", "in"),
    ("actions", "FROM", "from_org_id", "Organization", "out"),
    ("actions", "TO", "to_org_id", "Organization", "out"),
    ("actions", "BY", "by_org_id", "Organization", "out"),
    ("cases", "IN", "org_id", "Organization", "out"),
    ("cases", "VIOLATOR", "violator_ids", "Person", "out"),
    ("accountability", "FOR", "case_id", "Case", "out"),
    ("accountability", "OF", "person_id", "Person", "out"),
]

# Indexes the reads need, beyond the identifying property of each label. Actions are found by
# date, or from their recipients through TO: an index on their organization ids (there were two)
# served no read and cost memory and write time on every action.
INDEXES: list[tuple[str, str]] = [
    ("Position", "org_id"),
    ("Organization", "name"),  # whether a name alone says which organization (queries.lookups.places)
    ("Action", "date_ord"),
    ("Case", "org_id"),
    ("Accountability", "case_id"),
    ("Import", "seq"),
]


@dataclass(frozen=True)
class Dialect:
    name: str
    unique: str | None  # DDL for a uniqueness constraint, or None when the transport does it otherwise
    index: str
    already_exists: tuple[str, ...]  # error texts that mean "this index is already there"
    unindexed: tuple[str, ...] = ()  # labels without any index (nor, so, a uniqueness constraint)


DIALECTS: dict[str, Dialect] = {
    "neo4j": Dialect(
        name="neo4j",
        unique="CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE",
        index="CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})",
        already_exists=(),
    ),
    "falkordb": Dialect(
        name="falkordb",
        unique=None,  # FalkorDB takes constraints through the GRAPH.CONSTRAINT command, on an index
        index="CREATE INDEX FOR (n:{label}) ON (n.{prop})",
        already_exists=("already indexed", "already exists"),
        # FalkorDB's index costs about 260 bytes a node, whatever it holds: for the 15 million
        # actions of a nation, 3.8 GB, the largest item of its graph. Actions are read through
        # their recipient (TO, from the indexed organization), or a window of them by date with
        # a scan (one year is a tenth of them anyway); a stored action is found through its
        # recipient (see docs/loading-at-scale.md, "What a server keeps").
        unindexed=("Action",),
    ),
}


def schema(dialect: Dialect) -> list[str]:
    """Index (and, where the dialect has it, constraint) statements, idempotent to run again."""
    out = []
    for label in (*LABELS.values(), "Import"):
        prop = "seq" if label == "Import" else "id"
        if label in dialect.unindexed:
            continue
        if dialect.unique:
            out.append(dialect.unique.format(name=f"{label.lower()}_{prop}_unique", label=label, prop=prop))
        elif label != "Import":
            out.append(dialect.index.format(name=f"{label.lower()}_{prop}", label=label, prop=prop))
    for label, prop in INDEXES:
        if (label == "Import" and dialect.unique) or label in dialect.unindexed:
            continue
        out.append(dialect.index.format(name=f"{label.lower()}_{prop}", label=label, prop=prop))
    return out


# ---------------------------------------------------------------- writes


# Properties that every record has (required, or defaulted by the loader): their
# relationships are created in the same statement as the node.
MANDATORY = {"org_id", "from_org_id", "to_org_id", "by_org_id", "case_id", "person_id"}


def create_nodes(entity: str) -> str:
    """``UNWIND $rows`` and CREATE each node with its mandatory relationships, in one pass.

    The loader sends only records that are not stored yet, and uniqueness constraints
    refuse a duplicate, so CREATE is safe here and much faster than MERGE.
    """
    label = LABELS[entity]
    props = ", ".join(f"{f}: row.{f}" for f in fields(entity))
    query = f"UNWIND $rows AS row CREATE (n:{label} {{{props}}})"
    rels = [r for r in RELATIONSHIPS if r[0] == entity and r[2] in MANDATORY]
    if rels:
        matches = " ".join(f"MATCH (m{i}:{other} {{id: row.{prop}}})" for i, (_, _, prop, other, _) in enumerate(rels))
        creates = " ".join(
            f"CREATE (n)-[:{rel}]->(m{i})" if direction == "out" else f"CREATE (m{i})-[:{rel}]->(n)"
            for i, (_, rel, _, _, direction) in enumerate(rels)
        )
        query += f" WITH n, row {matches} {creates}"
    return query


def optional_relationships(entity: str) -> list[tuple[str, str, str, str, str]]:
    """The relationships of an entity whose property may be empty: written in a statement of their own."""
    return [r for r in RELATIONSHIPS if r[0] == entity and r[2] not in MANDATORY]


def update_nodes(entity: str) -> str:
    """``UNWIND $rows`` and SET every property of each stored node (a later load added fields:
    ``Batch.updates``; its references are linked as new ones are, by ``merge_relationships``)."""
    sets = ", ".join(f"n.{f} = row.{f}" for f in fields(entity) if f != "id")
    return f"UNWIND $rows AS row MATCH (n:{LABELS[entity]} {{id: row.id}}) SET {sets}"


def merge_relationships(entity: str, rel: str, prop: str, other: str, direction: str) -> str:
    """``UNWIND $rows`` of ``{id, other}`` pairs and MERGE one relationship each (MERGE: an
    optional reference may be added to a node that is already stored)."""
    label = LABELS[entity]
    pattern = "(n)-[:{rel}]->(m)" if direction == "out" else "(m)-[:{rel}]->(n)"
    return (
        f"UNWIND $rows AS row MATCH (n:{label} {{id: row.id}}) MATCH (m:{other} {{id: row.other}}) "
        f"MERGE {pattern.format(rel=rel)}"
    )


def relink(entity: str, rel: str, prop: str, other: str, direction: str) -> str:
    """MERGE an optional relationship for every stored node naming the other end. An import
    that failed after writing nodes and before their optional relationships left nodes a rerun
    does not send again (they are stored): the next import to finish links them from here."""
    label = LABELS[entity]
    pattern = "(n)-[:{rel}]->(m)" if direction == "out" else "(m)-[:{rel}]->(n)"
    if prop in LISTS:
        match = f"MATCH (n:{label}) WHERE n.{prop} IS NOT NULL UNWIND n.{prop} AS o MATCH (m:{other} {{id: o}})"
    else:
        match = f"MATCH (n:{label}) WHERE n.{prop} IS NOT NULL MATCH (m:{other} {{id: n.{prop}}})"
    return f"{match} MERGE {pattern.format(rel=rel)}"


UNFINISHED_IMPORTS = "MATCH (i:Import) WHERE i.status = 'started' AND i.seq < $seq RETURN count(i)"
MARK_FAILED = "MATCH (i:Import) WHERE i.status = 'started' AND i.seq < $seq SET i.status = 'failed'"

# The properties of a HELD relationship (a derived tenure), in the order REPLACE_TENURES sets them.
HELD_FIELDS = ["id", "start", "end", "start_ord", "end_ord", "opened_by", "open_kind", "closed_by", "close_kind"]

# Tenures of a group of persons are replaced in one statement, so a retry cannot duplicate them.
REPLACE_TENURES = (
    "UNWIND $persons AS person "
    "MATCH (p:Person {id: person.id}) "
    "OPTIONAL MATCH (p)-[old:HELD]->(:Position) "
    "DELETE old "
    "WITH DISTINCT p, person "
    "UNWIND person.tenures AS t "
    "MATCH (q:Position {id: t.position_id}) "
    f"CREATE (p)-[:HELD {{{', '.join(f'{f}: t.{f}' for f in HELD_FIELDS)}}}]->(q)"
)
# FalkorDB only, for GRAPH.BULK (not sent to Neo4j, so not linted): the graph's node count and
# highest internal id (equal but one when no node was ever deleted: new ids then follow on).
BULK_STATE = "MATCH (n) RETURN count(n), coalesce(max(ID(n)), -1)"
NODE_COUNT = "MATCH (n) RETURN count(n)"
# A person's raw records replace what was stored (the store merges them first, see CypherStore).
RAW_PROPERTIES = ("tenure_rows", "changes", "n_tenure_rows", "n_changes")
WRITE_PERSONNEL = (
    "UNWIND $rows AS row MATCH (n:Person {id: row.id}) SET n.tenure_rows = row.tenure_rows, "
    "n.changes = row.changes, n.n_tenure_rows = row.n_tenure_rows, n.n_changes = row.n_changes"
)
PERSONNEL_OF = "MATCH (n:Person) WHERE n.id IN $ids AND n.n_changes IS NOT NULL RETURN n.id, n.tenure_rows, n.changes"
ALL_PERSONNEL = "MATCH (n:Person) WHERE n.n_changes IS NOT NULL RETURN n.id, n.tenure_rows, n.changes ORDER BY n.id"
COUNT_PERSONNEL = "MATCH (n:Person) RETURN sum(n.n_tenure_rows), sum(n.n_changes)"
HELD_OF_PERSONS = "MATCH (p:Person)-[h:HELD]->(:Position) WHERE p.id IN $ids RETURN count(h)"


def internal_ids(entity: str) -> str:
    """The internal ids of stored nodes, by id (FalkorDB only, for GRAPH.BULK)."""
    return f"MATCH (n:{LABELS[entity]}) WHERE n.id IN $ids RETURN n.id, ID(n)"


# What changes when an import starts or finishes: the client's caches are kept while it does not.
# (A graph emptied and loaded again has imports of the same numbers: each has a random token.)
GENERATION = (
    "MATCH (i:Import) WITH count(i) AS n, max(i.seq) AS top, "
    "sum(CASE WHEN i.status = 'done' THEN 1 ELSE 0 END) AS done "
    "MATCH (j:Import {seq: top}) RETURN n, top, done, j.token"
)
LOG_IMPORT = "CREATE (:Import {seq: $seq, at: $at, log: $log, status: $status, token: $token})"
FINISH_IMPORT = "MATCH (i:Import {seq: $seq}) SET i.status = $status, i.log = $log"
NEXT_IMPORT_SEQ = "OPTIONAL MATCH (i:Import) RETURN coalesce(max(i.seq), 0) + 1"
IMPORT_LOG = "MATCH (i:Import) WHERE i.status = 'done' RETURN i.seq, i.at, i.log ORDER BY i.seq DESC LIMIT $limit"

# ---------------------------------------------------------------- reads


def by_keys(entity: str) -> str:
    return f"MATCH (n:{LABELS[entity]}) WHERE n.id IN $ids RETURN properties(n)"


def all_nodes(entity: str) -> str:
    return f"MATCH (n:{LABELS[entity]}) RETURN properties(n)"


def existing_keys(entity: str) -> str:
    return f"MATCH (n:{LABELS[entity]}) WHERE n.id IN $ids RETURN n.id"


# Every alias other sources gave a person, and whose (loaders.identity): few, and one scan of
# persons however many ids a load asks about (an id list sent in would be the whole load's).
ALIAS_OWNERS = "MATCH (n:Person) WHERE n.aliases IS NOT NULL UNWIND n.aliases AS a RETURN a, n.id"

# Organizations that continue these (a scan of organizations: few, and read rarely).
SUCCESSORS = (
    "MATCH (n:Organization) WHERE n.predecessor_ids IS NOT NULL UNWIND n.predecessor_ids AS p "
    "WITH n, p WHERE p IN $ids RETURN p, properties(n)"
)

# Stored actions among ids, found through their recipients (FalkorDB keeps no index on actions).
ACTIONS_BY_RECIPIENT = (
    "MATCH (t:Organization) WHERE t.id IN $orgs WITH t MATCH (t)<-[:TO]-(a:Action) WHERE a.id IN $ids "
    "RETURN properties(a)"
)


def by_property(entity: str, prop: str) -> str:
    return f"MATCH (n:{LABELS[entity]}) WHERE n.{prop} IN $ids RETURN properties(n)"


def count(label: str) -> str:
    return f"MATCH (n:{label}) RETURN count(n)"


FIND_PERSONS = (
    "MATCH (n:Person) WHERE n.name CONTAINS $q OR n.id = $q "
    "RETURN properties(n) ORDER BY n.id SKIP $offset LIMIT $limit"
)
COUNT_PERSONS = "MATCH (n:Person) WHERE n.name CONTAINS $q OR n.id = $q RETURN count(n)"
COUNT_TENURES = "MATCH (:Person)-[h:HELD]->(:Position) RETURN count(h)"
ANCESTORS = (
    "MATCH path = (o:Organization {id: $id})<-[:LEADS*0..]-(a:Organization) "
    "RETURN length(path), properties(a) ORDER BY length(path)"
)
NAMED_UNDER = (
    "UNWIND $pairs AS pair MATCH (p:Organization)-[:LEADS]->(o:Organization) "
    "WHERE o.name = pair[0] AND p.name = pair[1] RETURN pair[0], pair[1], properties(o)"
)
COUNT_NAMED = "MATCH (n:Organization) WHERE n.name IN $names RETURN n.name, count(n)"
CHILDREN = "MATCH (p:Organization)-[:LEADS]->(c:Organization) WHERE p.id IN $ids RETURN p.id, properties(c)"
# Store.org_context in one statement: the chain, the commissions under it, and the positions of
# both for the first $reach levels above the organization (FalkorDB's replies cost ~50 us a row).
_CHAIN = "path = (:Organization {id: $id})<-[:LEADS*0..]-(a:Organization)"
ORG_CONTEXT = " UNION ALL ".join(
    [
        f"MATCH {_CHAIN} RETURN 'chain' AS part, length(path) AS depth, a.id AS owner, properties(a) AS node",
        f"MATCH {_CHAIN}-[:LEADS]->(c:Organization) WHERE c.kind = 'commission' "
        "RETURN 'commission' AS part, 0 AS depth, a.id AS owner, properties(c) AS node",
        f"MATCH {_CHAIN} WITH a, length(path) AS d WHERE d <= $reach "
        "MATCH (a)-[:HAS_POSITION]->(q:Position) "
        "RETURN 'position' AS part, 0 AS depth, a.id AS owner, properties(q) AS node",
        f"MATCH {_CHAIN} WITH a, length(path) AS d WHERE d <= $reach "
        "MATCH (a)-[:LEADS]->(c:Organization)-[:HAS_POSITION]->(q:Position) WHERE c.kind = 'commission' "
        "RETURN 'position' AS part, 0 AS depth, c.id AS owner, properties(q) AS node",
    ]
)

# The as-of predicate, written once: tenures are half-open [start, end); an open end is stored as OPEN_END.
OVERLAPS = "h.start_ord < $hi AND h.end_ord > $lo"
TENURE_FIELDS = "h.id, p.id, q.id, h.start, h.end, h.opened_by, h.open_kind, h.closed_by, h.close_kind"
TENURES_OF_POSITIONS = (
    f"MATCH (p:Person)-[h:HELD]->(q:Position) WHERE q.id IN $ids AND {OVERLAPS} RETURN {TENURE_FIELDS}"
)
TENURES_OF_PERSONS = f"MATCH (p:Person)-[h:HELD]->(q:Position) WHERE p.id IN $ids AND {OVERLAPS} RETURN {TENURE_FIELDS}"
HOLDERS = (
    "MATCH (p:Person)-[h:HELD]->(q:Position {id: $position}) WHERE h.start_ord <= $at AND $at < h.end_ord "
    f"RETURN {TENURE_FIELDS}"
)
DATE_RANGE = (
    "MATCH (:Person)-[h:HELD]->(:Position) WITH min(h.start_ord) AS lo, max(h.start_ord) AS hi, "
    "max(CASE WHEN h.end_ord < $open THEN h.end_ord END) AS ended "
    "OPTIONAL MATCH (a:Action) RETURN lo, hi, ended, min(a.date_ord), max(a.date_ord)"
)
# ISO dates of any precision sort as their first day does ("2020" < "2020-01-05" < "2020-12"), so the
# server can take the extremes of the case dates: none of the cases travels to the client.
CASE_DATES = "MATCH (c:Case) RETURN min(c.start), max(c.start), max(c.end), max(c.discovered)"
# The data's date range, computed once per import (an aggregate over every tenure) and kept here.
SET_DATE_RANGE = "MERGE (m:Meta {key: 'date_range'}) SET m.lo = $lo, m.hi = $hi"
# The import lock of a server without one of its own (Neo4j): a lease on one node. ``claimed``
# is written first so that the transaction holds the node's write lock before it reads the token.
ACQUIRE_LOCK = (
    "MERGE (m:Meta {key: 'import_lock'}) SET m.claimed = $now WITH m "
    "WHERE m.token IS NULL OR m.expires < $now SET m.token = $token, m.expires = $expires RETURN m.token"
)
RENEW_LOCK = "MATCH (m:Meta {key: 'import_lock'}) WHERE m.token = $token SET m.expires = $expires RETURN m.token"
RELEASE_LOCK = "MATCH (m:Meta {key: 'import_lock'}) WHERE m.token = $token SET m.token = null, m.expires = null"
GET_DATE_RANGE = "MATCH (m:Meta {key: 'date_range'}) RETURN m.lo, m.hi"


def actions(category: bool, from_orgs: bool, to_orgs: bool) -> str:
    """Actions in ``[$start, $end)``, filtered by the parameters that are given (fixed fragments only).

    With recipients given, the match starts from them and follows their ``TO`` edges (a few
    hundred actions), instead of scanning every action of the window by date. The ``WITH``
    makes it so: in one pattern, FalkorDB's planner starts from the actions when they have no
    index (a scan of every action: 14.8 million on a nation).
    """
    where = ["a.date_ord >= $start", "a.date_ord < $end"]
    if category:
        where.append("a.category = $category")
    if from_orgs:
        where.append("a.from_org_id IN $from_orgs")
    match = "MATCH (a:Action)"
    if to_orgs:
        match = "MATCH (t:Organization) WHERE t.id IN $to_orgs WITH t MATCH (t)<-[:TO]-(a:Action)"
    return (
        f"{match} WHERE {' AND '.join(where)} "
        "RETURN a.id, a.date_ord, a.kind, a.category, a.from_org_id, a.to_org_id, a.by_org_id"
    )


def received(category: bool) -> str:
    """Each recipient's action kinds in ``[$start, $end)``: one row per organization, not per action
    (the server's reply, not its scan, is what a year of a nation's actions costs)."""
    where = "a.date_ord >= $start AND a.date_ord < $end" + (" AND a.category = $category" if category else "")
    return f"MATCH (a:Action) WHERE {where} RETURN a.to_org_id, collect(a.kind)"


def every_statement(dialect: Dialect) -> list[str]:
    """All statements a backend of this dialect can send: what the Neo4j front-end check lints."""
    out = [*schema(dialect)]
    for entity in LABELS:
        out += [create_nodes(entity), update_nodes(entity), by_keys(entity), all_nodes(entity), existing_keys(entity)]
    out += [merge_relationships(*r) for r in RELATIONSHIPS]
    out += [relink(*r) for r in RELATIONSHIPS if r[2] not in MANDATORY]
    out += [UNFINISHED_IMPORTS, MARK_FAILED, GENERATION]
    out += [
        by_property("positions", "org_id"),
        by_property("cases", "org_id"),
        by_property("accountability", "case_id"),
        by_property("persons", "name"),
        by_property("organizations", "name"),
        ALIAS_OWNERS,
        SUCCESSORS,
    ]
    out += [count(label) for label in LABELS.values()]
    out += [
        FIND_PERSONS,
        COUNT_PERSONS,
        COUNT_TENURES,
        COUNT_NAMED,
        NAMED_UNDER,
        CHILDREN,
        ORG_CONTEXT,
        TENURES_OF_POSITIONS,
        TENURES_OF_PERSONS,
        HOLDERS,
        DATE_RANGE,
        CASE_DATES,
        SET_DATE_RANGE,
        GET_DATE_RANGE,
        ACQUIRE_LOCK,
        RENEW_LOCK,
        RELEASE_LOCK,
        REPLACE_TENURES,
        WRITE_PERSONNEL,
        ACTIONS_BY_RECIPIENT,
        PERSONNEL_OF,
        ALL_PERSONNEL,
        COUNT_PERSONNEL,
        LOG_IMPORT,
        FINISH_IMPORT,
        NEXT_IMPORT_SEQ,
        IMPORT_LOG,
    ]
    out += [actions(c, f, t) for c in (False, True) for f in (False, True) for t in (False, True)]
    out += [received(False), received(True)]
    return out
