"""Ids in paths: any text, a ``/`` or a newline included.

An id may hold ``/`` (``Z/career``) or a newline. A route's id takes the ``id`` convertor, which
matches newlines too (Starlette's ``path`` does not). A client writes a ``/`` that belongs to an
id as ``%2F``: ``EncodedSlashes`` keeps it apart from the ``/`` that separates the path's
parts, so ``/persons/Z%2Fcareer`` is the person ``Z/career``, not the career of ``Z``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send

SLASH = "\ue000"  # a private-use character stands for an encoded slash while the route is matched
_ENCODED_SLASH = re.compile(rb"%2f", re.IGNORECASE)


class IdConvertor(Convertor[str]):
    regex = "(?s:.+)"

    def convert(self, value: str) -> str:
        return value.replace(SLASH, "/")

    def to_string(self, value: str) -> str:
        return value.replace("/", "%2F")


register_url_convertor("id", IdConvertor())


class EncodedSlashes:
    """ASGI middleware: the path as the client sent it, with ``%2F`` kept as ``SLASH``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and _ENCODED_SLASH.search(raw):
            parts = _ENCODED_SLASH.split(raw)
            scope = {**scope, "path": SLASH.join(unquote(p.decode("ascii", "replace")) for p in parts)}
        await self.app(scope, receive, send)
