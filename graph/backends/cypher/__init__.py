"""What every Cypher server shares: the statements with their dialect table, and the store."""

from graph.backends.cypher.store import BatchFailed, CypherStore, Transport

__all__ = ["BatchFailed", "CypherStore", "Transport"]
