"""Neo4j over Bolt with the official driver. Reads and writes run as transaction
functions (``execute_read``/``execute_write``): in a cluster, reads go to followers,
and transient errors are retried by the driver."""

from __future__ import annotations

from typing import Any

import neo4j
from neo4j.exceptions import AuthError, ServiceUnavailable

from graph.backends.cypher.statements import DIALECTS
from graph.store import StoreError


class Neo4jTransport:
    dialect = DIALECTS["neo4j"]

    def __init__(self, uri: str, *, user: str, password: str, database: str = "neo4j") -> None:
        self.url = uri
        self.database = database
        try:
            self._driver = neo4j.GraphDatabase.driver(
                uri, auth=(user, password), connection_timeout=5, max_transaction_retry_time=15
            )
            self._driver.verify_connectivity()
        except AuthError as exc:
            raise StoreError(f"cannot log in to {uri} as {user!r}: wrong user or password ({exc.message})") from None
        except (ServiceUnavailable, OSError, ValueError) as exc:
            raise StoreError(f"cannot reach Neo4j at {uri}: {exc}") from None

    def _run(self, mode: str, query: str, params: dict[str, Any] | None) -> list[list[Any]]:
        def work(tx: neo4j.ManagedTransaction) -> list[list[Any]]:
            return [list(record.values()) for record in tx.run(query, params or {})]

        with self._driver.session(database=self.database) as session:
            runner = session.execute_read if mode == "read" else session.execute_write
            return runner(work)

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return self._run("read", query, params)

    def write(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return self._run("write", query, params)

    def prepare(self, query: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return query, params

    def send(self, prepared: tuple[str, dict[str, Any]]) -> None:
        self.write(*prepared)

    def ensure_unique(self, label: str, prop: str) -> None:
        """Neo4j's constraints are part of the schema statements (see ``statements.DIALECTS``)."""

    def server(self) -> str:
        info = self._driver.get_server_info()
        return f"{info.agent} (protocol {'.'.join(map(str, info.protocol_version))})"

    def close(self) -> None:
        self._driver.close()
