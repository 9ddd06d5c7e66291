"""Backend parity: one generated dataset loaded into every backend that is up gives the
same answer to every query."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graph.factory import open_store
from graph.store import Store
from loaders.load import load_dataset
from loaders.stream import stream_dataset
from queries import findings, lookups, pressure
from queries.accountability import accountability
from queries.serialize import jsonable
from queries.window import Window, default_window
from rtc.cli import app
from tests.conftest import BACKENDS, make_store


def answers(store: Store) -> dict[str, Any]:
    """Every query of docs/domain.md on a fixed sample, as JSON-ready data."""
    rng = random.Random(4)
    out: dict[str, Any] = {"counts": store.counts(), "date_range": store.date_range()}
    positions = sorted(store.get_positions())
    span = store.date_range()
    assert span is not None
    days = [rng.randint(span[0], span[1]) for _ in range(20)]
    out["holders"] = [
        jsonable(lookups.holders(store, p, __import__("datetime").date.fromordinal(d)))
        for p, d in zip(rng.sample(positions, 20), days, strict=True)
    ]
    persons = sorted({t.person_id for p in positions[:40] for t in store.tenures(position_ids=[p])})
    out["careers"] = {p: jsonable(lookups.career(store, p)) for p in persons[:30]}
    out["facts"] = {i: [f.kind.value, f.level.value, *f[2:]] for i, f in store.organization_facts().items()}
    orgs = sorted(store.get_organizations())
    out["leaders"] = {o: sorted(h.person.id for h in lookups.leaders(store, o, "2023-06-01")) for o in orgs[:30]}
    out["accountability"] = {c: jsonable(accountability(store, c, depth=2)) for c in sorted(store.get_cases())}
    window = default_window(store)
    p = pressure.pressure(store, window)
    out["levels"] = jsonable(pressure.level_profile(p))
    recipients, counts = store.received_counts(window.start, window.end, category="discipline")
    out["received_counts"] = dict(zip(recipients, counts.tolist(), strict=True))
    out["orgs"] = jsonable(pressure.org_pressures(p))
    out["evidence"] = {o: pressure.evidence(p, o) for o in orgs[:20]}
    full = pressure.pressure(store, Window(span[0], span[1] + 1), category="discipline")
    out["levels_discipline"] = jsonable(pressure.level_profile(full))
    out["gaps"] = sorted(json.dumps(jsonable(g), sort_keys=True) for g in findings.gaps(store, "2023-06-01"))
    out["soft"] = jsonable(findings.soft_accountability(store))
    out["coverage"] = jsonable(findings.coverage(p))
    out["standards"] = jsonable(findings.standards_compliance(store, Window(span[0], span[1] + 1)))
    out["scorecards"] = {o: jsonable(findings.scorecard(store, o, p)) for o in orgs[:5]}
    return out


def test_every_backend_answers_alike(tiny_dataset: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    results: dict[str, Any] = {}
    for kind in [*BACKENDS, *(f"{b} (streamed)" for b in BACKENDS)]:
        backend, streamed = kind.removesuffix(" (streamed)"), kind.endswith("(streamed)")
        try:
            store = make_store(backend, tmp_path / kind.replace(" ", "_"), request)
        except pytest.skip.Exception:
            continue
        # the streaming loader, in small chunks, must give the store the in-memory loader gives it
        report = stream_dataset(store, tiny_dataset, chunk_rows=150) if streamed else load_dataset(store, tiny_dataset)
        assert report.ok, report.errors[:3]
        results[kind] = json.loads(json.dumps(answers(store), sort_keys=True))
        if backend == "falkordb":
            store.transport.write("MATCH (n) DETACH DELETE n")  # type: ignore[attr-defined]
        store.close()
    assert "embedded" in results and "falkordb" in results, f"parity needs two backends, got {sorted(results)}"
    reference = results.pop("embedded")
    for kind, got in results.items():
        for key in reference:
            assert got[key] == reference[key], f"{kind} differs from embedded on {key}"


def test_migrate_between_backends(tiny_dataset: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    source = make_store("embedded", tmp_path / "source", request)
    assert load_dataset(source, tiny_dataset).ok
    host, port = request.getfixturevalue("falkordb_server")
    target_url = f"falkordb://{host}:{port}/migrated{tmp_path.name[-6:]}"
    result = CliRunner().invoke(app, ["migrate", "--from", source.url, "--to", target_url, "--json"])
    assert result.exit_code == 0, result.output
    migrated = open_store(target_url)
    expected, got = answers(source), answers(migrated)
    assert json.loads(json.dumps(got, sort_keys=True)) == json.loads(json.dumps(expected, sort_keys=True))
    back = open_store(f"embedded://{tmp_path / 'back'}")
    result = CliRunner().invoke(app, ["migrate", "--from", target_url, "--to", back.url])
    assert result.exit_code == 0, result.output
    assert back.counts() == source.counts()
