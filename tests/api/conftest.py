"""An API over the scenario dataset, with one key per role, on every backend that is up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import add_key
from core.config import Settings
from graph.store import Store


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]
    settings: Settings

    def headers(self, role: str | None) -> dict[str, str]:
        if role is None:
            return {}
        if role == "bad":
            return {"Authorization": "Bearer rtc_not-a-key"}
        return {"Authorization": f"Bearer {self.keys[role]}"}


def make_settings(tmp_path: Path, store_url: str, **extra: object) -> tuple[Settings, dict[str, str]]:
    keys_file = tmp_path / "keys.json"
    keys = {role: add_key(keys_file, f"{role}-user", role) for role in ("reader", "loader", "admin")}
    settings = Settings(
        store=store_url,
        api_keys_file=str(keys_file),
        audit_log=str(tmp_path / "audit.jsonl"),
        store_user=os.environ.get("NEO4J_USER", "neo4j"),
        store_password=os.environ.get("NEO4J_PASSWORD", ""),
        **extra,
    )  # type: ignore[arg-type]
    return settings, keys


@pytest.fixture
def api(scenario_store: Store, tmp_path: Path) -> Iterator[Api]:
    settings, keys = make_settings(tmp_path, scenario_store.url, max_upload_bytes=200_000)
    with TestClient(create_app(settings)) as client:
        yield Api(client, keys, settings)
