"""What the interchange formats share: the stored rows of an entity, the memberships, and the
fields a format has no place for."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from graph.model import OPEN_END, Tenure, to_ordinal
from graph.store import Store
from loaders.tenures import tenure_id

Source = tuple[str, int | None]  # a file (or a document and its collection) and a row

# what a membership's ``rtc`` object says of the tenure: derived again on load, not a property
DERIVED = ("tenure_id", "open_kind", "close_kind", "opened_change", "closed_change")
# what Popolo and FtM hold themselves (the changes in the memberships they opened and ended)
PEOPLE = ("organizations", "positions", "persons", "tenures", "changes")


def stored_rows(store: Store, entity: str) -> list[dict[str, Any]]:
    """A stored entity's records as input rows (``rtc migrate``'s shape): extra properties back
    as columns, lists as lists; the raw tenure rows for ``tenures``."""
    stored = "tenure_rows" if entity == "tenures" else entity
    out = []
    for record in store.export(stored):
        row = {k: (list(v) if isinstance(v, tuple) else v) for k, v in record.items() if k != "props"}
        row.update(record.get("props") or {})
        out.append(row)
    return out


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    header = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _cell(r.get(k)) for k in header})


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def memberships(store: Store, at: str | None = None) -> list[Tenure]:
    """Every derived tenure (what a membership or an occupancy is), or those held on ``at``."""
    positions = list(store.get_positions())
    day = to_ordinal(at) if at else None
    span = (day, day + 1) if day is not None else (-1, OPEN_END + 1)
    return sorted(store.tenures(position_ids=positions, overlapping=span), key=lambda t: (t.start_ordinal, t.id))


def tenure_props(store: Store) -> dict[str, dict[str, Any]]:
    """The properties a tenure row carried (its source, a field of the format it came from),
    by the id of the tenure it starts."""
    return {
        tenure_id(r["person_id"], r["position_id"], r["start"]): r["props"]
        for r in store.export("tenure_rows")
        if r.get("props")
    }


def rtc_extra(row: dict[str, Any], known: Iterable[str]) -> dict[str, Any]:
    """The fields of a canonical row that a format has no place for, without the empty ones."""
    return {k: v for k, v in row.items() if k not in set(known) and v not in (None, "", [], ())}


# ---------------------------------------------------------------- memberships and back


def membership_extra(t: Tenure, changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a membership carries for rtc beside its dates: the change that opened it and the
    one that ended it (a retirement, a removal), whole, so a load of the export derives the
    same tenures with the same kinds (``personnel_rows``)."""
    extra: dict[str, Any] = {"tenure_id": t.id, "open_kind": t.open_kind}
    if t.opened_by in changes:
        extra["opened_change"] = changes[t.opened_by]
    if t.closed_by in changes:
        extra["closed_change"] = changes[t.closed_by]
    if t.close_kind:
        extra["close_kind"] = t.close_kind
    return extra


def personnel_rows(
    memberships: list[tuple[Source, dict[str, Any], dict[str, Any]]],
) -> tuple[list[tuple[Source, dict[str, Any]]], list[tuple[Source, dict[str, Any]]]]:
    """Tenure rows and changes from memberships: ``(source, {person_id, position_id, start, end,
    props...}, rtc extra)``. A membership an rtc export wrote gives back the changes that opened
    and ended it, and a tenure row only for what a tenure row said (its start, or its end), so
    a load derives the same tenures with the same kinds; any other is a tenure row of its dates."""
    tenures: list[tuple[Source, dict[str, Any]]] = []
    changes: dict[str, tuple[Source, dict[str, Any]]] = {}
    for src, row, extra in memberships:
        opened, closed = _change(extra.get("opened_change")), _change(extra.get("closed_change"))
        by_change, ended_by_change = opened is not None, closed is not None
        for change in (opened, closed):
            if change is not None:
                changes.setdefault(str(change["id"]), (src, _flat_row(change)))
        own = any(k not in ("person_id", "position_id", "start", "end") for k in row)
        if not by_change or (row.get("end") and not ended_by_change) or own:
            # the start a tenure row gave, an end a change did not, or a row's own properties: the
            # same start given by a change and a row is one fact to the derivation (loaders.tenures)
            tenures.append((src, {**row, "end": None if ended_by_change else row.get("end")}))
    return tenures, list(changes.values())


def _change(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and value.get("id") else None


def _flat_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: flat(v) for k, v in row.items()}


# ---------------------------------------------------------------- reading


def flat(value: Any) -> Any:
    """A value a record may hold: scalars and lists of scalars as they are, anything nested as
    its JSON text (kept, never dropped: docs/interchange.md)."""
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
        return json.dumps(value, ensure_ascii=False)
    return value


def membership_posts(
    memberships: list[tuple[Source, dict[str, Any], dict[str, Any]]],
    known: set[str],
    role_of: Callable[[str | None], str],
    warn: Callable[[Source, str | None, Any, str, str], None],
) -> list[tuple[Source, dict[str, Any]]]:
    """Give a post to each membership without one: the organization's post of that role
    (``{org}#{role}``), made once and warned of. Returns the posts made."""
    made: list[tuple[Source, dict[str, Any]]] = []
    for src, row, _extra in memberships:
        org, words = row.pop("org_id", None), row.pop("role_text", None)
        if row.get("position_id") or not org:
            continue  # a post given, or none and no organization: the load names the missing position_id
        post = f"{org}#{words or 'member'}"
        if post not in known:
            known.add(post)
            made.append((src, {"id": post, "org_id": org, "title": words or "member", "role": role_of(words)}))
            warn(src, "post_id", None, "post-made", f"a membership without a post: the post {post} was made for it")
        row["position_id"] = post
    return made


def classify(
    row: dict[str, Any],
    classification: str | None,
    src: Source,
    report: Any,
    mapping: Any,
    column: str = "classification",
) -> None:
    """Give an organization row its level and kind (those it has kept) from its classification
    or name through the mapping table; what nothing gives is an error naming the record."""
    level, kind = mapping.organization(classification, str(row.get("name") or ""))
    row["level"], row["kind"] = row.get("level") or level, row.get("kind") or kind
    if not (row["level"] and row["kind"]):
        report.error(
            src,
            column,
            classification if column == "classification" else row.get("name"),
            f"unmapped-{column}",
            f"no {'level' if not row['level'] else 'kind'} for this organization: give the classification as "
            "LEVEL/KIND, or add a word of it to a mapping file (--mapping, docs/interchange.md)",
        )
