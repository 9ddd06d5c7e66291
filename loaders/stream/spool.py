"""Validated chunks waiting for the writing process, each in a file of a spool directory."""

from __future__ import annotations

import marshal
import os
import pickle
import uuid
from pathlib import Path

from graph.model import tenure_from_values, tenure_values
from graph.store import Batch

# Chunks validated but not yet written, at most: each waits in a file of the spool, not in
# memory, so validation runs ahead while the server is the slower side and the writer catches
# up when validation is (sized on the nation: docs/performance.md, "Figures behind the design").
SPOOLED = 96


def spooled(spool: Path, batch: Batch) -> str:
    """Write ``batch`` to a new file of ``spool``; its path (the writer reads and deletes it).

    In marshal's format, the tenures as their values: twice as fast as pickle for plain dicts
    of strings (docs/performance.md, "Figures behind the design"). A value of another type
    (marshal takes only the exact built-in ones) sends the batch as a pickle."""
    path = spool / f"{os.getpid()}-{uuid.uuid4().hex}.batch"
    fields = (batch.rows, batch.tenure_rows, batch.tenure_persons, list(map(tenure_values, batch.tenures)))
    try:
        data = _MARSHALLED + marshal.dumps((*fields, batch.settles_import))
    except ValueError:  # "unmarshallable object"
        data = _PICKLED + pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    path.write_bytes(data)
    return str(path)


_MARSHALLED, _PICKLED = b"M", b"P"


def unspooled(path: str) -> Batch:
    data = Path(path).read_bytes()
    os.unlink(path)
    if data[:1] == _PICKLED:
        batch: Batch = pickle.loads(memoryview(data)[1:])
        return batch
    rows, tenure_rows, persons, tenures, settles = marshal.loads(memoryview(data)[1:])
    tenures = list(map(tenure_from_values, tenures))
    return Batch(rows=rows, tenure_rows=tenure_rows, tenure_persons=persons, tenures=tenures, settles_import=settles)
