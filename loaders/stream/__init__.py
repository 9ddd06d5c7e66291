"""Streaming load: a dataset of any size into a store, in bounded memory (``run``'s
docstring tells how). One module a mechanism: ids, the overlay, the person sort, validation,
the copy, the spool and the load written aside."""

from loaders.stream.run import CHUNK_ROWS, stream_dataset, wants_streaming

__all__ = ["CHUNK_ROWS", "stream_dataset", "wants_streaming"]
