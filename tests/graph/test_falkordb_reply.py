"""rtc's parser of FalkorDB's compact replies gives what the client's own parser gives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from falkordb.query_result import QueryResult

from graph.backends.falkordb.transport import FalkorTransport, compact_rows


@pytest.fixture
def transport(falkordb_server: tuple[str, int]) -> Iterator[FalkorTransport]:
    host, port = falkordb_server
    t = FalkorTransport(host, port, "replies")
    t.write("CREATE (:N {s: 'é\"x', i: -3, f: 0.25, b: true, l: [1, 'two', 3.5], e: ''})")
    yield t
    t.write("MATCH (n) DETACH DELETE n")
    t.close()


def _raw(t: FalkorTransport, query: str) -> list[object]:
    return t._graph.execute_command("GRAPH.RO_QUERY", t.graph_name, query, "--compact")  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "query",
    [
        "MATCH (n:N) RETURN n.s, n.i, n.f, n.b, n.l, n.e, n.missing",
        "MATCH (n:N) RETURN properties(n)",
        "MATCH (n:N) RETURN {a: [n.i, {b: n.b}], c: null}, collect(n.s)",
        "MATCH (n:N) WHERE n.i > 0 RETURN n.s",  # no rows
        "RETURN 1.5e300, -0.0, 9007199254740993, 1 / 0.0",
    ],
)
def test_same_rows_as_the_clients_parser(transport: FalkorTransport, query: str) -> None:
    response = _raw(transport, query)
    assert compact_rows(response) == QueryResult(transport._graph, response).result_set
    assert transport.read(query) == QueryResult(transport._graph, response).result_set


def test_nodes_and_errors_go_to_the_clients_parser(transport: FalkorTransport) -> None:
    response = _raw(transport, "MATCH (n:N) RETURN n")
    assert compact_rows(response) is None
    (node,) = transport.read("MATCH (n:N) RETURN n")[0]
    assert node.properties["i"] == -3  # the client's Node, as before
    with pytest.raises(redis.exceptions.ResponseError, match="Division by zero"):  # a run-time error
        transport.read("MATCH (n:N) RETURN n.i / 0")
