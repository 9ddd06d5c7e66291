"""The loaders' tests run through both loaders: in memory, and streamed in chunks of two rows."""

from __future__ import annotations

import functools

import pytest

from loaders.load import load_dataset
from loaders.stream import stream_dataset
from tests.helpers import Load


@pytest.fixture(params=["in-memory", "streamed"])
def load(request: pytest.FixtureRequest) -> Load:
    if request.param == "in-memory":
        return load_dataset
    return functools.partial(stream_dataset, chunk_rows=2)
