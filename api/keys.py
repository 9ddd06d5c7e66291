"""API keys: only their SHA-256 hashes are stored (keys are long random tokens, so a
plain hash is enough); a presented key is checked against every stored hash in
constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.errors import InvalidInput

ROLES = ("reader", "loader", "admin")  # each role may do what the ones before it may


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    scope: tuple[str, ...] = ()  # organization ids: the jurisdiction (their subtrees); empty: everything

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def load_keys(path: str | Path) -> list[dict[str, Any]]:
    file = Path(path)
    if not file.exists():
        return []
    try:
        entries = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{file}: cannot read the API keys ({exc})") from None
    if not isinstance(entries, list):
        raise InvalidInput(f"{file}: expected a JSON list of keys")
    for e in entries:
        if not isinstance(e, dict) or e.get("role") not in ROLES or not e.get("hash") or not e.get("name"):
            raise InvalidInput(f"{file}: every key needs name, role ({', '.join(ROLES)}) and hash")
        scope = e.get("scope", [])
        if not isinstance(scope, list) or not all(isinstance(o, str) and o for o in scope):
            raise InvalidInput(f"{file}: the scope of key {e['name']!r} must be a list of organization ids")
    return list(entries)


def _save(path: str | Path, entries: list[dict[str, Any]]) -> None:
    file = Path(path)
    if not file.parent.is_dir():
        raise InvalidInput(f"cannot write the API keys to {file}: the folder {file.parent} does not exist")
    tmp = file.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(file)  # atomic: a serving API reads the old list or the new one, never half


def add_key(path: str | Path, name: str, role: str, scope: Iterable[str] = ()) -> str:
    """Create a key, store its hash under ``name``, and return the key (shown once). ``scope``:
    the organization ids whose subtrees are the key's jurisdiction (none: everything)."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; allowed: {', '.join(ROLES)}")
    entries = load_keys(path)
    if any(e["name"] == name for e in entries):
        raise InvalidInput(f"a key named {name!r} exists already")
    key = "rtc_" + secrets.token_urlsafe(32)
    entry: dict[str, Any] = {"name": name, "role": role, "hash": hash_key(key)}
    if scope := sorted(set(scope)):
        entry["scope"] = scope
    entries.append(entry)
    _save(path, entries)
    return key


def revoke_key(path: str | Path, name: str) -> None:
    """Remove the key stored under ``name``: a serving API refuses it at its next request."""
    entries = load_keys(path)
    kept = [e for e in entries if e["name"] != name]
    if len(kept) == len(entries):
        known = ", ".join(sorted(e["name"] for e in entries)) or "none"
        raise InvalidInput(f"no key named {name!r} in {path}; the keys are: {known}")
    _save(path, kept)


class KeyRing:
    """The keys file as a serving API sees it: read again whenever it changed on disk, so a key
    added or revoked takes effect at the next request, without a restart."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int, int] | None = None
        self._entries: list[dict[str, Any]] = []

    def entries(self) -> list[dict[str, Any]]:
        try:
            st = self.path.stat()
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._entries = load_keys(self.path)  # a broken file raises: no key is accepted
            self._stamp = stamp
        return self._entries


def authenticate(key: str, entries: list[dict[str, Any]]) -> Principal | None:
    """The principal whose hash matches ``key``; every entry is compared, in constant time."""
    presented = hash_key(key)
    found = None
    for e in entries:
        if hmac.compare_digest(presented, e["hash"]):
            found = Principal(e["name"], e["role"], tuple(e.get("scope") or ()))
    return found
