"""The small, user-editable table that maps the words of Popolo and FollowTheMoney
(classification, role, a position's name) to rtc's level, kind and role (``mapping.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from graph.errors import InvalidInput
from graph.model import Level, OrgKind, Role


@dataclass(frozen=True)
class Mapping:
    classifications: dict[str, dict[str, str]]
    kind_words: list[tuple[str, str]]
    level_words: list[tuple[str, str]]
    roles: dict[str, str]
    role_words: list[tuple[str, str]]

    def organization(self, classification: str | None, name: str) -> tuple[str | None, str | None]:
        """(level, kind) of an organization: ``LEVEL/KIND`` as is, else the table, else keywords
        in the name; None where nothing says (the load then names the missing field)."""
        level = kind = None
        text = (classification or "").strip()
        if "/" in text:
            lv, _, kd = text.partition("/")
            if lv in {x.value for x in Level} and kd in {x.value for x in OrgKind}:
                return lv, kd
        found = self.classifications.get(text.lower()) or self.classifications.get(text) or {}
        level, kind = found.get("level"), found.get("kind")
        kind = kind or next((k for word, k in self.kind_words if word in name), None)
        level = level or next((lv for word, lv in self.level_words if word in name), None)
        return level, kind

    def role(self, *words: str | None) -> str:
        """A role from a post's role or label, or a position's name; staff when nothing matches."""
        for word in words:
            if word and word.strip().lower() in self.roles:
                return self.roles[word.strip().lower()]
            if word and word.strip() in {r.value for r in Role}:
                return word.strip()
        for word in words:
            for key, role in self.role_words:
                if word and key in word:
                    return role
        return Role.staff.value


def load_mapping(path: str | Path | None = None) -> Mapping:
    """The shipped table, with a file of the same shape over it: its words added, and tried
    before the shipped ones (errors name the file)."""
    if path is None:
        return _mapping(_shipped(), "mapping.yaml")
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"cannot read the mapping {path}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: a mapping is a YAML mapping (see loaders/interchange/mapping.yaml)")
    base = _shipped()
    try:
        merged = _over(base, data)
    except (AttributeError, TypeError) as exc:
        raise InvalidInput(f"{path}: not the shape of mapping.yaml: {exc}") from None
    return _mapping(merged, str(path))


def _over(base: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    words = data.get("organization_keywords") or {}
    return {
        "classifications": {**base["classifications"], **(data.get("classifications") or {})},
        "organization_keywords": {
            key: [*(words.get(key) or []), *base["organization_keywords"][key]] for key in ("kind", "level")
        },
        "roles": {**base["roles"], **(data.get("roles") or {})},
        "role_keywords": [*(data.get("role_keywords") or []), *base["role_keywords"]],
    }


@cache
def _shipped() -> dict[str, Any]:
    text = resources.files("loaders.interchange").joinpath("mapping.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _mapping(data: object, source: str) -> Mapping:
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: a mapping is a YAML mapping (see loaders/interchange/mapping.yaml)")
    levels, kinds, roles = {x.value for x in Level}, {x.value for x in OrgKind}, {x.value for x in Role}
    try:
        classes = {str(k).lower(): dict(v) for k, v in (data.get("classifications") or {}).items()}
        words = data.get("organization_keywords") or {}
        kind_words = [(str(w), str(k)) for w, k in words.get("kind") or []]
        level_words = [(str(w), str(lv)) for w, lv in words.get("level") or []]
        role_map = {str(k).lower(): str(v) for k, v in (data.get("roles") or {}).items()}
        role_words = [(str(w), str(r)) for w, r in data.get("role_keywords") or []]
    except (AttributeError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{source}: not the shape of mapping.yaml: {exc}") from None
    bad = [
        *(f"level {v['level']!r}" for v in classes.values() if v.get("level") and v["level"] not in levels),
        *(f"kind {v['kind']!r}" for v in classes.values() if v.get("kind") and v["kind"] not in kinds),
        *(f"kind {k!r}" for _, k in kind_words if k not in kinds),
        *(f"level {lv!r}" for _, lv in level_words if lv not in levels),
        *(f"role {r!r}" for r in [*role_map.values(), *(r for _, r in role_words)] if r not in roles),
    ]
    if bad:
        raise InvalidInput(f"{source}: unknown {', '.join(bad)}")
    return Mapping(classes, kind_words, level_words, role_map, role_words)
