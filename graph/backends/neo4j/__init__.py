"""Neo4j over Bolt with the official driver: the shared Cypher store needs nothing more."""

from graph.backends.neo4j.transport import Neo4jTransport

__all__ = ["Neo4jTransport"]
