"""FalkorDB's ``GRAPH.BULK`` binary format: the blocks of nodes and relationships one bulk
command carries."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import numpy as np

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
