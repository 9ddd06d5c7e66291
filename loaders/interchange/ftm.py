"""FollowTheMoney (OpenSanctions' entity model): ``Organization``/``PublicBody``, ``Position``,
``Person`` and ``Occupancy`` entities, one JSON object a line, in both directions
(docs/interchange.md has the property-by-property mapping).

Every FtM property is a list of strings; rtc reads the first value of a property it has a
column for and keeps the others (and every property it has no column for) as a property of
the record. An ``rtc`` object beside ``properties`` (what ``rtc export`` writes) gives back the
canonical fields FtM has no place for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graph.model import Tenure
from graph.store import Store
from loaders.interchange.common import (
    DERIVED,
    Source,
    classify,
    flat,
    membership_extra,
    rtc_extra,
    stored_rows,
    tenure_props,
)
from loaders.interchange.mapping import Mapping

ORGANIZATIONS = ("Organization", "PublicBody", "LegalEntity", "Company")
READ = (*ORGANIZATIONS, "Position", "Person", "Occupancy")
STATUSES = ("current", "ended", "unknown")

# FtM property -> canonical column, per schema
ORGANIZATION = {"name": "name", "parent": "parent_id", "incorporationDate": "valid_from", "dissolutionDate": "valid_to"}
POSITION = {"name": "title", "organization": "org_id"}
PERSON = {"name": "name", "gender": "gender", "birthDate": "birth", "birthPlace": "native_place"}
OCCUPANCY = {"holder": "person_id", "post": "position_id", "startDate": "start", "endDate": "end"}


# ---------------------------------------------------------------- writing


def ftm_entities(store: Store, held: list[Tenure], *, snapshot: bool = False) -> list[dict[str, Any]]:
    """The store as FtM entities: organizations (``PublicBody``), positions, persons and an
    occupancy for each of ``held``."""
    changes = {} if snapshot else {c["id"]: c for c in stored_rows(store, "changes")}
    out = [
        _entity(o, "PublicBody", ORGANIZATION, {"classification": [f"{o['level']}/{o['kind']}"]}, ("kind", "level"))
        for o in stored_rows(store, "organizations")
    ]
    out += [_entity(p, "Position", POSITION, {}, ()) for p in stored_rows(store, "positions")]
    out += [_entity(p, "Person", PERSON, {}, ()) for p in stored_rows(store, "persons")]
    props = tenure_props(store)
    for t in held:
        extra = membership_extra(t, changes) | props.get(t.id, {})
        properties = {"holder": [t.person_id], "post": [t.position_id], "startDate": [t.start]}
        if t.end:
            properties["endDate"] = [t.end]
        properties["status"] = ["ended" if t.end else "current"]
        out.append({"id": t.id, "schema": "Occupancy", "properties": properties, "rtc": extra})
    return out


def _entity(
    row: dict[str, Any], schema: str, fields: dict[str, str], own: dict[str, list[str]], skip: tuple[str, ...]
) -> dict[str, Any]:
    properties = {prop: [str(row[col])] for prop, col in fields.items() if row.get(col) not in (None, "")}
    properties.update(own)
    entity: dict[str, Any] = {"id": row["id"], "schema": schema, "properties": properties}
    extra = rtc_extra(row, ["id", *fields.values(), *skip])
    if extra:
        entity["rtc"] = extra
    return entity


# ---------------------------------------------------------------- reading


def read_ftm(path: Path, report: Any, mapping: Mapping) -> dict[str, list[tuple[Source, dict[str, Any]]]]:
    """An FtM entity stream as canonical rows: ``organizations``, ``positions``, ``persons`` and
    ``memberships`` (occupancies, their ``rtc`` object under ``_rtc``). Other schemas are
    counted and warned of, once per schema."""
    out: dict[str, list[tuple[Source, dict[str, Any]]]] = {}
    skipped: dict[str, int] = {}
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        report.error((path.name, None), None, None, "unreadable-file", f"cannot read: {exc}")
        return out
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        src = (path.name, number)
        try:
            entity = json.loads(line)
        except json.JSONDecodeError as exc:
            report.error(src, None, None, "bad-json", f"not a JSON object: {exc.msg}")
            continue
        if not isinstance(entity, dict) or not isinstance(entity.get("properties", {}), dict):
            report.error(src, None, None, "bad-ftm", "an FtM entity is an object with id, schema and properties")
            continue
        schema = str(entity.get("schema"))
        if schema not in READ:
            skipped[schema] = skipped.get(schema, 0) + 1
            continue
        key, row = _read_entity(schema, entity, src, report, mapping)
        out.setdefault(key, []).append((src, row))
    for schema, n in skipped.items():
        report.warn(
            (path.name, None), "schema", schema, "ignored-schema", f"{n} {schema} entities: rtc has no place for them"
        )
    return out


def _read_entity(
    schema: str, entity: dict[str, Any], src: Source, report: Any, mapping: Mapping
) -> tuple[str, dict[str, Any]]:
    props: dict[str, list[Any]] = {k: v if isinstance(v, list) else [v] for k, v in entity["properties"].items()}
    given = entity.get("rtc")
    extra: dict[str, Any] = given if isinstance(given, dict) else {}
    fields = (
        ORGANIZATION
        if schema in ORGANIZATIONS
        else {"Position": POSITION, "Person": PERSON, "Occupancy": OCCUPANCY}[schema]
    )
    row: dict[str, Any] = {col: (props.get(prop) or [None])[0] for prop, col in fields.items()}
    if schema != "Occupancy":
        row["id"] = entity.get("id")
    # the values beyond the first, and every property without a column, kept
    for prop, values in props.items():
        rest = values[1:] if prop in fields else values
        if rest and prop not in ("classification", "status"):
            row[f"other_{prop}" if prop in fields else prop] = flat(rest if len(rest) > 1 else rest[0])
    for key in ("datasets", "referents", "first_seen", "last_seen", "caption"):
        if entity.get(key) not in (None, [], ""):
            row[key] = flat(entity[key])
    if not extra.get("source"):
        url = (props.get("sourceUrl") or [None])[0]
        row["source"] = url or f"{src[0]}#{entity.get('id') or src[1]}"  # the id: stable as the file changes
    row.update({k: flat(v) for k, v in extra.items() if k not in DERIVED})
    if schema in ORGANIZATIONS:
        classification = (props.get("classification") or [None])[0]
        classify(row, classification, src, report, mapping)
        if classification and "/" not in classification:
            row["classification"] = classification
        return "organizations", row
    if schema == "Position":
        row.setdefault("role", mapping.role(row.get("title")))
        return "positions", row
    if schema == "Person":
        return "persons", row
    status = (props.get("status") or [None])[0]
    if status not in (None, *STATUSES):
        report.error(src, "status", status, "bad-status", f"an occupancy's status is one of {', '.join(STATUSES)}")
    elif status == "ended" and not row.get("end"):
        report.error(
            src,
            "endDate",
            None,
            "ended-without-end",
            "the occupancy is ended but has no endDate: rtc will not guess when it ended; give the endDate",
        )
    elif status == "current" and row.get("end"):
        report.warn(
            src,
            "endDate",
            row["end"],
            "current-with-end",
            "status current, but an endDate is given: the endDate is kept",
        )
    row["_rtc"] = extra
    return "memberships", row
