"""Browser sessions for the workbench: an API key, typed once into the login page, is exchanged
for a signed, HTTP-only cookie, because a browser cannot send a Bearer header when it follows a
link. The cookie holds the key's name, the first characters of its hash and an expiry, signed
with HMAC-SHA256; it never holds the key. It is checked against the keys file at every request,
so revoking the key (or replacing it under the same name) ends its sessions at once.

A session authorizes reads only (GET and HEAD): with a cookie, a page on another site could make
the browser send a POST, so imports keep needing the header (and the cookie is SameSite=Strict).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from api.keys import Principal

COOKIE = "rtc_session"
SAFE_METHODS = ("GET", "HEAD")


def _mac(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def issue(entry: dict[str, Any], secret: bytes, hours: float, *, now: float | None = None) -> str:
    """A session token for the key ``entry`` of the keys file, valid for ``hours``."""
    expires = int((now or time.time()) + hours * 3600)
    payload = f"{entry['name']}\n{entry['hash'][:16]}\n{expires}"
    return base64.urlsafe_b64encode(payload.encode()).decode() + "." + _mac(secret, payload)


def verify(token: str, secret: bytes, entries: list[dict[str, Any]], *, now: float | None = None) -> Principal | None:
    """The principal of a valid, unexpired session whose key is still in the keys file; else None."""
    try:
        encoded, mac = token.rsplit(".", 1)
        payload = base64.urlsafe_b64decode(encoded.encode()).decode()
        name, hash_start, expires = payload.split("\n")
        expiry = int(expires)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(secret, payload)) or expiry < (now or time.time()):
        return None
    for e in entries:
        if e["name"] == name and hmac.compare_digest(e["hash"][:16], hash_start):
            return Principal(e["name"], e["role"], tuple(e.get("scope") or ()))
    return None
