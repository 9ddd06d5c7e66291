"""Over real HTTP (uvicorn on loopback): a schemathesis run against the live OpenAPI
schema, and imports and reads at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from graph.backends.falkordb import free_port
from graph.factory import open_store
from loaders.load import load_dataset
from tests.api.conftest import make_settings


@dataclass
class Live:
    base_url: str
    keys: dict[str, str]
    audit_log: str

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def serve(app: object, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return server, thread


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, scenario_dataset: Path) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    store = open_store(f"embedded://{tmp / 'store'}")
    assert load_dataset(store, scenario_dataset).ok
    store.close()
    app_settings, keys = make_settings(tmp, f"embedded://{tmp / 'store'}")
    port = free_port()
    server, thread = serve(create_app(app_settings), port)
    yield Live(f"http://127.0.0.1:{port}", keys, app_settings.audit_log)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_schema(live: Live) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live.base_url}/openapi.json", headers=live.headers("reader"))


schema = schemathesis.pytest.from_fixture("live_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_no_5xx_and_responses_match_the_schema(case: schemathesis.Case, live: Live) -> None:
    case.call_and_validate(
        base_url=live.base_url, headers=live.headers("reader"), checks=[not_a_server_error, response_schema_conformance]
    )


@pytest.mark.slow
def test_imports_and_reads_at_once(live: Live) -> None:
    statuses: list[int] = []
    lock = threading.Lock()
    reads = [
        "/cases/K1/accountability?as_of=2022-01-01",
        "/organizations?level=township",
        "/persons?q=p",
        "/pressure/levels?from=2019-01-01&to=2021-01-01",
        "/positions/T/sec/holders?at=2020-06-01",
        "/findings/gaps?at=2020-06-30",
        "/health",
    ]

    def reader(n: int) -> None:
        with httpx.Client(base_url=live.base_url, headers=live.headers("reader"), timeout=60) as client:
            for i in range(30):
                r = client.get(reads[(n + i) % len(reads)])
                with lock:
                    statuses.append(r.status_code)

    def importer(n: int) -> None:
        with httpx.Client(base_url=live.base_url, headers=live.headers("loader"), timeout=120) as client:
            for i in range(5):
                rows = [{"id": f"c{n}-{i}-{k}", "name": f"并发{n}{i}{k}"} for k in range(20)]
                r = client.post("/imports", json={"tables": {"persons": rows}})
                with lock:
                    statuses.append(r.status_code)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    threads += [threading.Thread(target=importer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(statuses) == 8 * 30 + 2 * 5
    assert all(s < 500 for s in statuses), sorted(set(statuses))
    assert statuses.count(201) == 10  # every import written
    with httpx.Client(base_url=live.base_url, headers=live.headers("reader")) as client:
        found = client.get("/persons", params={"q": "并发", "limit": 1000}).json()
        assert found["total"] == 2 * 5 * 20  # nothing lost
