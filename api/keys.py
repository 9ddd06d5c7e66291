"""API keys: only their SHA-256 hashes are stored (keys are long random tokens, so a
plain hash is enough); a presented key is checked against every stored hash in
constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

ROLES = ("reader", "loader", "admin")  # each role may do what the ones before it may


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def load_keys(path: str | Path) -> list[dict[str, str]]:
    file = Path(path)
    if not file.exists():
        return []
    entries = json.loads(file.read_text(encoding="utf-8"))
    for e in entries:
        if e.get("role") not in ROLES or not e.get("hash") or not e.get("name"):
            raise ValueError(f"{file}: every key needs name, role ({', '.join(ROLES)}) and hash")
    return list(entries)


def add_key(path: str | Path, name: str, role: str) -> str:
    """Create a key, store its hash under ``name``, and return the key (shown once)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; allowed: {', '.join(ROLES)}")
    entries = load_keys(path)
    if any(e["name"] == name for e in entries):
        raise ValueError(f"a key named {name!r} exists already")
    key = "rtc_" + secrets.token_urlsafe(32)
    entries.append({"name": name, "role": role, "hash": hash_key(key)})
    file = Path(path)
    tmp = file.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(file)
    return key


def authenticate(key: str, entries: list[dict[str, str]]) -> Principal | None:
    """The principal whose hash matches ``key``; every entry is compared, in constant time."""
    presented = hash_key(key)
    found = None
    for e in entries:
        if hmac.compare_digest(presented, e["hash"]):
            found = Principal(e["name"], e["role"])
    return found
