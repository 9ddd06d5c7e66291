"""FalkorDB through its native client (the Redis protocol). Each statement is atomic on
the server; reads use ``ro_query``."""

from __future__ import annotations

from typing import Any

import redis
from falkordb import FalkorDB

from graph.cypher import DIALECTS
from graph.store import StoreError


class FalkorTransport:
    dialect = DIALECTS["falkordb"]

    def __init__(self, host: str, port: int, graph: str, *, password: str | None = None) -> None:
        self.url = f"falkordb://{host}:{port}/{graph}"
        self.graph_name = graph
        try:
            self._db = FalkorDB(
                host=host, port=port, password=password or None, socket_timeout=600, socket_connect_timeout=5
            )
            self._db.connection.ping()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise StoreError(f"cannot reach FalkorDB at {self.url}: {exc}") from None
        except redis.exceptions.AuthenticationError as exc:
            raise StoreError(f"cannot log in to {self.url}: {exc}") from None
        self._graph = self._db.select_graph(graph)

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return self._graph.ro_query(query, params or {}).result_set  # type: ignore[no-any-return]

    def write(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return self._graph.query(query, params or {}).result_set  # type: ignore[no-any-return]

    def ensure_unique(self, label: str, prop: str) -> None:
        try:
            self._db.connection.execute_command(
                "GRAPH.CONSTRAINT", "CREATE", self.graph_name, "UNIQUE", "NODE", label, "PROPERTIES", "1", prop
            )
        except redis.exceptions.ResponseError as exc:
            if "already exists" not in str(exc):
                raise StoreError(f"cannot create a uniqueness constraint on {self.url}: {exc}") from None

    def server(self) -> str:
        modules = self._db.connection.execute_command("MODULE", "LIST")
        graph = next((m for m in modules if m[1] in ("graph", b"graph")), None)
        version = graph[3] if graph else "?"
        return f"FalkorDB module {version} on Redis {self._db.connection.info('server').get('redis_version')}"

    def close(self) -> None:
        self._db.connection.close()
