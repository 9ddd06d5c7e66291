"""Query answers as plain JSON-ready data (the CLI's ``--json``, comparisons in tests)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def jsonable(data: Any) -> Any:
    """Pydantic models (anywhere inside lists and dicts) as plain dicts, lists and strings."""
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list):
        return [jsonable(d) for d in data]
    if isinstance(data, dict):
        return {k: jsonable(v) for k, v in data.items()}
    return data
