"""Who a person row is (docs/input-format.md, "People"). Sources name people, and give them
ids of their own: a person of source B is found as the stored person of source A

1. by an id the store knows as the person's id or as one of its ``aliases``;
2. by ``same_as``, the stored id (or alias) the row declares it is;
3. with ``match_persons``, by name and birth date (and native place, where both give one):
   one stored person fitting is that person; two or more is an ``ambiguous-person`` error,
   never a guess. A name alone never matches (two different 李强 share it).

A row found as a stored person is loaded as an update of it, its own id kept as an alias,
and every reference to that id (tenure rows, changes, cases, accountability) follows it.
``not_same_as`` lists persons a row must never be matched with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from graph.model import dates_agree

Source = tuple[str, int | None]  # (file name, row number), as in loaders.load


class Reads(Protocol):
    """What resolving persons reads of the store (``loaders.load.PrepareReads`` has it)."""

    def existing_ids(self, entity: str, ids: Iterable[str]) -> set[str]: ...

    def persons_named(self, names: Iterable[str]) -> list[dict[str, Any]]: ...

    def alias_owners(self, ids: Iterable[str] | None = None) -> dict[str, str]: ...


class Findings(Protocol):
    """Where errors and warnings go (``loaders.load.Report``, which imports this module)."""

    source: str

    def error(self, src: Source, column: str | None, value: Any, rule: str, message: str) -> None: ...

    def warn(self, src: Source, column: str | None, value: Any, rule: str, message: str) -> None: ...


# Where other files name a person: (entity, column).
PERSON_REFERENCES = (
    ("tenures", "person_id"),
    ("changes", "person_id"),
    ("cases", "violator_ids"),
    ("accountability", "person_id"),
    ("persons", "not_same_as"),
)


def fits(row: dict[str, Any], stored: dict[str, Any]) -> bool:
    """Whether a person row and a stored person of the same name are one person: their births
    agree, and their native places do where both give one."""
    if not dates_agree(row.get("birth"), stored.get("birth")):
        return False
    a, b = row.get("native_place"), stored.get("native_place")
    return not (a and b and a != b)


def _never(row: dict[str, Any], stored: dict[str, Any]) -> bool:
    theirs = {stored["id"], *(stored.get("aliases") or ())}
    return bool(theirs & set(row.get("not_same_as") or ())) or row["id"] in (stored.get("not_same_as") or ())


def _label(p: dict[str, Any]) -> str:
    extra = ", ".join(v for v in (p.get("birth"), p.get("native_place")) if v)
    return f"{p['id']} {p['name']}" + (f" ({extra})" if extra else "")


def resolve(
    store: Reads,
    records: dict[str, dict[str, dict[str, Any]]],
    tenure_rows: Iterable[dict[str, Any]],
    report: Findings,
    *,
    match: bool,
    in_chunks: bool = False,
) -> dict[str, str]:
    """Which stored person each person id of this load is, where it is one under another id:
    ``{id given: stored id}``. Reports ambiguous matches, ``same_as`` naming nobody, and an
    alias that is already someone else's."""
    persons = records.get("persons", {})
    declared = {pid: rec.pop("same_as", None) for pid, rec in persons.items()}
    declared = {k: v for k, v in declared.items() if v}
    if in_chunks and (declared or match):
        src = persons[next(iter(declared))]["_src"] if declared else (report.source, None)
        report.error(
            src,
            "same_as" if declared else None,
            None,
            "needs-memory",
            "matching persons (same_as, --match-persons) is done in memory: load with --no-stream",
        )
        return {}
    named = {
        v
        for entity, column in PERSON_REFERENCES
        for r in (tenure_rows if entity == "tenures" else records.get(entity, {}).values())
        for v in _ids(r.get(column))
    }
    given_aliases = {a for r in persons.values() for a in r.get("aliases") or ()}
    wanted = set(persons) | named | set(declared.values()) | given_aliases
    stored = store.existing_ids("persons", wanted)
    owners = store.alias_owners(wanted - stored)
    mapping = {i: owner for i, owner in owners.items() if i not in stored}
    for pid, target in declared.items():
        found = target if target in stored else owners.get(target)
        if found is None:
            report.error(
                persons[pid]["_src"], "same_as", target, "unknown-reference", f"no stored person with id {target!r}"
            )
        elif mapping.get(pid, found) != found:
            report.error(
                persons[pid]["_src"],
                "same_as",
                target,
                "ambiguous-person",
                f"{pid} is already an alias of stored person {mapping[pid]}, not of {found}",
            )
        else:
            mapping[pid] = found
    if match:
        _match(store, persons, stored, mapping, report)
    for pid, rec in persons.items():
        me = mapping.get(pid, pid)
        for alias in rec.get("aliases") or ():
            other = alias if alias in stored else owners.get(alias)
            if other is not None and other != me:
                report.error(
                    rec["_src"],
                    "aliases",
                    alias,
                    "duplicate-id",
                    f"{alias} already names stored person {other}: an id names one person",
                )
    return mapping


def _match(
    store: Reads,
    persons: dict[str, dict[str, Any]],
    stored: set[str],
    mapping: dict[str, str],
    report: Findings,
) -> None:
    """Match the rows of new persons to stored ones by name and birth (``fits``)."""
    new = [r for pid, r in persons.items() if pid not in stored and pid not in mapping]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for p in store.persons_named({r["name"] for r in new}):
        by_name.setdefault(p["name"], []).append(p)
    for row in new:
        same_name = [p for p in by_name.get(row["name"], ()) if not _never(row, p)]
        found = [p for p in same_name if fits(row, p)]
        if len(found) == 1:
            mapping[row["id"]] = found[0]["id"]
            report.warn(
                row["_src"],
                "name",
                row["name"],
                "person-matched",
                f"{_label(row)} is stored person {_label(found[0])} by name and birth: loaded as "
                f"{found[0]['id']}, with {row['id']} kept as its alias",
            )
        elif found:
            report.error(
                row["_src"],
                "name",
                row["name"],
                "ambiguous-person",
                f"{_label(row)} fits stored persons {', '.join(_label(p) for p in found)}: give same_as "
                "(which one it is) or not_same_as (which it is not)",
            )
        elif undecided := [p for p in same_name if not (row.get("birth") and p.get("birth"))]:
            report.warn(
                row["_src"],
                "birth",
                row.get("birth"),
                "same-name",
                f"{_label(row)} has the name of stored {', '.join(_label(p) for p in undecided)}, without both "
                "birth dates to tell: loaded as a new person (same_as links it)",
            )


def _ids(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(value) if isinstance(value, tuple | list) else (value,)
