"""The embedded store: SQLite on disk with in-memory indexes."""

from graph.backends.embedded.store import ACTION_KINDS, EmbeddedStore

__all__ = ["ACTION_KINDS", "EmbeddedStore"]
