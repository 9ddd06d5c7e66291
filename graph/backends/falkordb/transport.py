"""FalkorDB through its native client (the Redis protocol). Each statement is atomic on
the server; reads use ``ro_query``."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import redis
from falkordb import FalkorDB
from falkordb.query_result import QueryResult

from graph.backends.cypher.statements import DIALECTS
from graph.backends.falkordb.bulk import bulk_entities, joined_blocks
from graph.backends.falkordb.server import NODE_BUFFER, NODE_BUFFER_ADVISED
from graph.store import LOCK_WAIT_SECONDS, StoreError, busy, renewed

LOCK_SECONDS = 60  # the import lock's time to live, renewed every third of it


class FalkorTransport:
    dialect = DIALECTS["falkordb"]

    def __init__(
        self, host: str, port: int, graph: str, *, password: str | None = None, lock_wait: float = LOCK_WAIT_SECONDS
    ) -> None:
        self.url = f"falkordb://{host}:{port}/{graph}"
        self.lock_wait = lock_wait
        self.graph_name = graph
        self._password = password
        try:
            self._db = FalkorDB(
                host=host, port=port, password=password or None, socket_timeout=600, socket_connect_timeout=5
            )
            self._db.connection.ping()
        except (redis.exceptions.AuthenticationError, redis.exceptions.AuthorizationError) as exc:
            raise StoreError(f"cannot log in to {self.url}: wrong or missing password ({exc})") from None
        except redis.exceptions.ResponseError as exc:
            if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
                raise StoreError(f"cannot log in to {self.url}: wrong or missing password ({exc})") from None
            raise StoreError(f"FalkorDB at {self.url} refused the connection: {exc}") from None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise StoreError(f"cannot reach FalkorDB at {self.url}: {exc}") from None
        self._graph = self._db.select_graph(graph)

    def _run(self, command: str, query: str, params: dict[str, Any] | None) -> list[list[Any]]:
        # The client's own parameter encoder is pure Python and took 80% of a bulk write;
        # params_header() is the same text, made faster. The result parser is the client's.
        text = params_header(params) + query if params else query
        try:
            response = self._graph.execute_command(command, self.graph_name, text, "--compact")
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreError(f"lost the connection to FalkorDB at {self.url}: {exc}") from None
        rows = compact_rows(response)
        # The client's parser where ours stops (nodes, edges, paths, points, temporal values)
        return QueryResult(self._graph, response).result_set if rows is None else rows

    def prepare(self, query: str, params: dict[str, Any]) -> str:
        return params_header(params) + query

    def send(self, prepared: str) -> None:
        self._graph.execute_command("GRAPH.QUERY", self.graph_name, prepared, "--compact")

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return self._run("GRAPH.RO_QUERY", query, params)

    def write(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return self._run("GRAPH.QUERY", query, params)

    @contextlib.contextmanager
    def import_lock(self) -> Iterator[None]:
        """Held for a whole import, so imports into this graph take turns. A Redis lock with a
        time to live, renewed while the import runs: a client that dies frees it within a minute."""
        lock = self._db.connection.lock(
            f"rtc:import:{self.graph_name}", timeout=LOCK_SECONDS, thread_local=False, blocking_timeout=self.lock_wait
        )
        try:
            acquired = lock.acquire()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreError(f"lost the connection to FalkorDB at {self.url}: {exc}") from None
        if not acquired:
            raise busy(self.url, self.lock_wait)
        try:
            with renewed(lock.reacquire, LOCK_SECONDS / 3):
                yield
        finally:
            with contextlib.suppress(redis.exceptions.RedisError):  # a dead server frees it anyway
                lock.release()

    def bulk_block(
        self,
        name: str,
        props: list[str],
        rows: Iterable[dict[str, Any]],
        ends: Iterable[tuple[int, int]] | np.ndarray | None = None,
    ) -> bytes:
        return bulk_entities(name, props, rows, ends)

    def bulk(self, nodes: int, edges: int, labels: list[bytes], types: list[bytes]) -> None:
        """One ``GRAPH.BULK`` command: nodes (ids given in order after the graph's highest) and
        relationships between internal ids, in FalkorDB's binary format (``bulk_entities``).
        One Redis command, so applied whole or not at all. The relationships of one type go as
        one block (``joined_blocks``)."""
        types = joined_blocks(types)
        self._db.connection.execute_command(
            "GRAPH.BULK", self.graph_name, nodes, edges, len(labels), len(types), *labels, *types
        )

    def staging(self) -> tuple[str, str | None]:
        """A new graph's URL on this server (and the password) for a load written aside. Graphs
        left aside by loads that died are deleted first: the caller holds the import lock, so no
        other load into this graph is writing one."""
        prefix = f"{self.graph_name}.staging."
        for name in self._db.connection.execute_command("GRAPH.LIST"):
            name = name.decode() if isinstance(name, bytes) else str(name)
            if name.startswith(prefix):
                self._db.connection.execute_command("GRAPH.DELETE", name)
        return f"{self.url}.staging.{uuid.uuid4().hex[:12]}", self._password

    def adopt(self, url: str) -> None:
        """The graph at ``url`` (same server) becomes this one: a rename, which replaces it."""
        self._db.connection.execute_command("RENAME", url.rpartition("/")[2], self.graph_name)

    def drop(self, url: str) -> None:
        """Delete the graph at ``url`` (same server), if there is one."""
        name = url.rpartition("/")[2]
        if self._db.connection.exists(name):
            with contextlib.suppress(redis.exceptions.ResponseError):  # not a graph: not ours to delete
                self._db.connection.execute_command("GRAPH.DELETE", name)

    def ensure_unique(self, label: str, prop: str) -> None:
        try:
            self._db.connection.execute_command(
                "GRAPH.CONSTRAINT", "CREATE", self.graph_name, "UNIQUE", "NODE", label, "PROPERTIES", "1", prop
            )
        except redis.exceptions.ResponseError as exc:
            if "already exists" not in str(exc):
                raise StoreError(f"cannot create a uniqueness constraint on {self.url}: {exc}") from None

    def load_advice(self) -> list[str]:
        """What to change on the server before a large load: ``NODE_CREATION_BUFFER`` when it
        is below ``NODE_BUFFER_ADVISED`` (none when the server does not say)."""
        try:
            reply = self._db.connection.execute_command("GRAPH.CONFIG", "GET", "NODE_CREATION_BUFFER")
            room = int(reply[1])
        except (redis.exceptions.RedisError, IndexError, TypeError, ValueError):
            return []
        if room >= NODE_BUFFER_ADVISED:
            return []
        return [
            f"FalkorDB at {self.url} keeps room for {room:,} new nodes (NODE_CREATION_BUFFER): it "
            "resizes every matrix of the graph each time the nodes outgrow it, so a large load slows "
            "down as the graph grows. Start it with `--loadmodule falkordb.so NODE_CREATION_BUFFER "
            f'{NODE_BUFFER}` (docs/loading-at-scale.md, "FalkorDB for a large load")'
        ]

    def server(self) -> str:
        modules = self._db.connection.execute_command("MODULE", "LIST")
        graph = next((m for m in modules if m[1] in ("graph", b"graph")), None)
        version = graph[3] if graph else "?"
        return f"FalkorDB module {version} on Redis {self._db.connection.info('server').get('redis_version')}"

    def close(self) -> None:
        self._db.connection.close()


class _Unparsed(Exception):
    """A value of a type ``compact_rows`` leaves to the client's parser."""


def _cell(cell: list[Any]) -> Any:
    kind, v = cell
    if kind == 2 or kind == 3:  # string, integer (RESP gives them typed already)
        return v
    if kind == 1:
        return None
    if kind == 5:
        return float(v)
    if kind == 4:
        return v == "true"
    if kind == 6:
        return [_cell(c) for c in v]
    if kind == 10:  # a map: key, value, key, value...
        return {v[i]: _cell(v[i + 1]) for i in range(0, len(v), 2)}
    raise _Unparsed


def compact_rows(response: list[Any]) -> list[list[Any]] | None:
    """The rows of a ``--compact`` reply whose values are scalars, lists and maps (every read
    rtc makes), or None for anything else. The client's own parser goes through a function per
    value and took 85% of a large read (1.0 of 1.2 s for 143,000 rows of seven columns, the
    server's share 0.17 s)."""
    for part in (response[0], response[-1]):
        if isinstance(part, redis.exceptions.ResponseError):
            return None  # the client's parser raises it, as the client would
    if len(response) == 1 or not response[0]:
        return []
    try:
        return [[_cell(c) for c in row] for row in response[1]]
    except _Unparsed:
        return None


def _string(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(v: Any) -> str:
    if isinstance(v, str):
        return _string(v)
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ",".join(map(_value, v)) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"`{_key(k)}`:{_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot send a {type(v).__name__} as a FalkorDB parameter")


def _key(k: Any) -> str:
    key = str(k)
    if not key or "`" in key:
        raise ValueError(f"a parameter map key must be non-empty and without backticks: {key!r}")
    return key


def params_header(params: dict[str, Any]) -> str:
    """The ``CYPHER name=value ...`` header FalkorDB reads parameters from (strings escaped
    like the client does: backslash, then double quote)."""
    return "CYPHER " + " ".join(f"`{_key(k)}`={_value(v)}" for k, v in params.items()) + " "
