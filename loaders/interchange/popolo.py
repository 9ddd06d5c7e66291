"""Popolo (https://www.popoloproject.com): organizations, posts, persons and memberships, in
both directions (docs/interchange.md has the field-by-field mapping).

Read: the whole-document form (``{"persons": [...], "organizations": [...], ...}``) or one
file per collection (``persons.json``...). A field rtc has no column for is kept as a
property of the record (nested values as their JSON text); an ``rtc`` object on a record (what
``rtc export`` writes) gives back the canonical fields Popolo has no place for.
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

COLLECTIONS = ("organizations", "posts", "persons", "memberships")
FILES = tuple(f"{c}.json" for c in COLLECTIONS)  # the per-collection form
DOCUMENT = "popolo.json"

# Popolo field -> canonical column, per collection (what is not here is a property, or the
# ``rtc`` object's)
ORGANIZATION = {"id": "id", "name": "name", "parent_id": "parent_id"}
ORG_DATES = {"founding_date": "valid_from", "dissolution_date": "valid_to"}
POST = {"id": "id", "label": "title", "organization_id": "org_id"}
PERSON = {"id": "id", "name": "name", "gender": "gender", "birth_date": "birth"}
MEMBERSHIP = {"person_id": "person_id", "post_id": "position_id", "start_date": "start", "end_date": "end"}
# Popolo fields rtc keeps as properties: written back where they were
_COMMON = {"identifiers", "other_names", "links", "contact_details", "sources", "image", "area_id"}
NATIVE = {
    "organizations": frozenset({*_COMMON, "abstract", "description"}),
    "posts": frozenset({*_COMMON, "other_label", "start_date", "end_date"}),
    "persons": frozenset(
        {*_COMMON, "email", "family_name", "given_name", "sort_name", "honorific_prefix", "honorific_suffix"}
        | {"death_date", "summary", "biography", "national_identity", "patronymic_name", "additional_name"}
    ),
    "memberships": frozenset({*_COMMON, "label", "on_behalf_of_id", "legislative_period_id"}),
}


# ---------------------------------------------------------------- writing


def popolo_document(store: Store, held: list[Tenure], *, snapshot: bool = False) -> dict[str, Any]:
    """The store as one Popolo document; ``held``: the memberships to write (every tenure, or
    those held on a day, ``snapshot``: then without the changes that opened or ended them)."""
    orgs = stored_rows(store, "organizations")
    posts = stored_rows(store, "positions")
    persons = stored_rows(store, "persons")
    changes = {} if snapshot else {c["id"]: c for c in stored_rows(store, "changes")}
    org_of = {p["id"]: p["org_id"] for p in posts}
    role_of = {p["id"]: p["role"] for p in posts}
    held_props = tenure_props(store)
    return {
        "organizations": [
            _record(
                o,
                {**ORGANIZATION, **ORG_DATES},
                {"classification": f"{o['level']}/{o['kind']}"},
                native=NATIVE["organizations"],
                skip=("kind", "level"),
            )
            for o in orgs
        ],
        "posts": [_record(p, POST, {"role": p["role"]}, native=NATIVE["posts"], skip=("role",)) for p in posts],
        "persons": [_record(p, PERSON, {}, native=NATIVE["persons"]) for p in persons],
        "memberships": [_membership(t, org_of, role_of, changes, held_props.get(t.id, {})) for t in held],
    }


def _membership(
    t: Tenure, org_of: dict[str, str], role_of: dict[str, str], changes: dict[str, Any], props: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": t.id,
        "person_id": t.person_id,
        "post_id": t.position_id,
        "organization_id": org_of.get(t.position_id),
        "role": role_of.get(t.position_id),
        "start_date": t.start,
        **({"end_date": t.end} if t.end else {}),
    }
    extra = membership_extra(t, changes)
    for key, value in props.items():
        if key in NATIVE["memberships"]:
            out[key] = _json_or_text(value)
        else:
            extra[key] = value
    out["rtc"] = extra
    return out


def _record(
    row: dict[str, Any],
    fields: dict[str, str],
    own: dict[str, Any],
    *,
    native: frozenset[str],
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A canonical row as a Popolo record: its Popolo fields, a property read from a Popolo
    field where it was (its JSON text as JSON), and the rest in ``rtc``."""
    out: dict[str, Any] = {pop: row[col] for pop, col in fields.items() if row.get(col) not in (None, "")}
    out.update(own)
    extra = rtc_extra(row, [*fields.values(), *skip])
    for key in [k for k in extra if k in native]:
        out[key] = _json_or_text(extra.pop(key))
    if extra:
        out["rtc"] = extra
    return out


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            pass
    return value


# ---------------------------------------------------------------- reading


def read_popolo(
    paths: dict[str, Path], report: Any, mapping: Mapping
) -> dict[str, list[tuple[Source, dict[str, Any]]]]:
    """The collections of a Popolo document or per-collection files as canonical rows:
    ``organizations``, ``positions``, ``persons`` and ``memberships`` (with their ``rtc`` object
    under ``_rtc``). ``paths``: collection -> its file, or ``document`` -> the whole document."""
    collections: dict[str, tuple[str, list[Any]]] = {}
    for key, path in paths.items():
        data = _read_json(path, report)
        if data is None:
            continue
        if key == "document":
            if not isinstance(data, dict):
                report.error((path.name, None), None, None, "bad-popolo", "a Popolo document is a JSON object")
                continue
            for name, items in data.items():
                if name in COLLECTIONS and isinstance(items, list):
                    collections[name] = (f"{path.name}#{name}", items)
                elif isinstance(items, list):
                    report.warn((path.name, None), name, None, "ignored-collection", f"rtc has no place for {name}")
        elif isinstance(data, list):
            collections[key] = (path.name, data)
        else:
            report.error((path.name, None), None, None, "bad-popolo", f"{path.name} is a JSON array of {key}")
    out: dict[str, list[tuple[Source, dict[str, Any]]]] = {}
    for name, (label, items) in collections.items():
        rows = []
        for i, item in enumerate(items, start=1):
            src: Source = (label, i)
            if not isinstance(item, dict):
                report.error(src, None, None, "bad-popolo", f"a {name[:-1]} is a JSON object")
                continue
            rows.append((src, _read_item(name, item, src, report, mapping)))
        out[name] = rows
    return out


def _read_item(name: str, item: dict[str, Any], src: Source, report: Any, mapping: Mapping) -> dict[str, Any]:
    given = item.get("rtc")
    extra: dict[str, Any] = given if isinstance(given, dict) else {}
    if name == "organizations":
        fields = {**ORGANIZATION, **ORG_DATES}
        row = _canonical(item, fields, extra)
        classify(row, item.get("classification"), src, report, mapping)
        row.update(_props(item, fields, ("classification",)))
    elif name == "posts":
        row = _canonical(item, POST, extra)
        row.setdefault("role", mapping.role(item.get("role"), item.get("label")))
        row.update(_props(item, POST, ("role",)))
    elif name == "persons":
        row = _canonical(item, PERSON, extra)
        row.update(_props(item, PERSON))
    else:
        row = _canonical(item, MEMBERSHIP, {k: v for k, v in extra.items() if k not in DERIVED})
        if not row.get("position_id"):
            row["org_id"], row["role_text"] = item.get("organization_id"), item.get("role")
        row.update(_props(item, MEMBERSHIP, ("organization_id", "role", "id")))
        if item.get("id") and not extra.get("tenure_id"):  # another tool's id (rtc's is derived again)
            row["membership_id"] = item["id"]
        row["_rtc"] = extra
    if not row.get("source"):
        # the record's id where it has one: stable when the document gains or loses records
        own = item.get("id") if name != "memberships" or not extra.get("tenure_id") else None
        row["source"] = _source(item) or (f"{src[0]}/{own}" if own else f"{src[0]}[{src[1]}]")
    return row


def _source(item: dict[str, Any]) -> str | None:
    """The URL of a record's first source (Popolo ``sources``), where it gives one."""
    sources = item.get("sources")
    first = sources[0] if isinstance(sources, list) and sources else None
    return str(first["url"]) if isinstance(first, dict) and first.get("url") else None


def _canonical(item: dict[str, Any], fields: dict[str, str], extra: dict[str, Any]) -> dict[str, Any]:
    row = {col: item.get(pop) for pop, col in fields.items()}
    row.update({k: flat(v) for k, v in extra.items()})
    return row


def _props(item: dict[str, Any], fields: dict[str, str], used: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a record holds beyond the fields read: kept as properties."""
    return {k: flat(v) for k, v in item.items() if k not in fields and k not in used and k != "rtc" and v is not None}


def _read_json(path: Path, report: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        report.error((path.name, None), None, None, "unreadable-file", f"cannot read: {exc}")
    except json.JSONDecodeError as exc:
        report.error((path.name, exc.lineno), None, None, "bad-json", f"not JSON: {exc.msg} (column {exc.colno})")
    return None
