"""Open the backend a store URL names. In its own module so that the contract
(``graph.store``) imports no backend and every backend imports the contract."""

from __future__ import annotations

from pathlib import Path

from graph.store import LOCK_WAIT_SECONDS, Scratch, Store, StoreError


def open_store(
    url: str,
    *,
    user: str | None = None,
    password: str | None = None,
    batch_size: int = 5000,
    lock_wait: float = LOCK_WAIT_SECONDS,
    create: bool = True,
) -> Store:
    """Open the backend named by ``url``; ``create=False``: an embedded store that does not
    exist is an error naming it, not a new empty one (what a read wants).

    - ``embedded://PATH`` (the default kind; a bare path means the same)
    - ``neo4j://host:7687[/database]``, ``neo4j+s://...``, ``bolt://...`` (``user``/``password`` log in)
    - ``falkordb://host:6379[/graph]`` (graph ``rtc`` by default; ``password`` if the server has one)
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        if ":" in url:  # "embedded:" or "falkordb:host": a mistyped URL, not a folder to make
            raise StoreError(f"store URL {url!r}: write embedded://PATH, neo4j://HOST:PORT or falkordb://HOST:PORT")
        scheme, rest = "embedded", url
    if scheme == "embedded":
        from graph.backends.embedded import EmbeddedStore

        if not rest.strip():
            raise StoreError(f"store URL {url!r} names no folder: write embedded://PATH, e.g. embedded://./rtc-data")
        return EmbeddedStore(rest, lock_wait=lock_wait, create=create)
    if scheme in ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"):
        from graph.backends.cypher import CypherStore
        from graph.backends.neo4j import Neo4jTransport

        address, _, database = rest.partition("/")
        transport = Neo4jTransport(
            f"{scheme}://{address}", user=user or "neo4j", password=password or "", database=database or "neo4j"
        )
        return CypherStore(transport, batch_size=batch_size, lock_wait=lock_wait)
    if scheme == "falkordb":
        from graph.backends.falkordb import FalkorStore, FalkorTransport

        address, _, graph = rest.partition("/")
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise StoreError(f"store URL {url!r}: write falkordb://HOST:PORT[/GRAPH]")
        falkor = FalkorTransport(host, int(port), graph or "rtc", password=password, lock_wait=lock_wait)
        return FalkorStore(falkor, batch_size=batch_size, lock_wait=lock_wait)
    raise StoreError(
        f"unknown store URL {url!r}: use embedded://PATH, neo4j://HOST:PORT, bolt://HOST:PORT "
        "or falkordb://HOST:PORT/GRAPH"
    )


def open_scratch(path: str | Path, *, cache_mb: int) -> Scratch:
    """A new embedded store at ``path`` for a streamed load's validation: no snapshot of the
    actions after each write (it never reads them), no in-memory index (it may hold a nation's
    tenures: each chunk reads a few persons' from SQLite), ``cache_mb`` of page cache, no
    write synced to disk (it is deleted whenever its load stops), and without the indexes
    validation does not read (made when it becomes the store)."""
    from graph.backends.embedded import EmbeddedStore

    return EmbeddedStore(path, action_snapshot=False, index_after=None, cache_mb=cache_mb, durable=False, scratch=True)
