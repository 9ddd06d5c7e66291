"""Every statement the Neo4j backend can send passes Neo4j's own Cypher front end
(the npm package @neo4j-cypher/language-support, pinned by package-lock.json)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from graph.backends.cypher.statements import DIALECTS, every_statement

LINTER = Path(__file__).parent / "cypher_lint"


@pytest.fixture(scope="module")
def linter() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the Neo4j front-end check (apt-get install nodejs npm)")
    if not (LINTER / "node_modules" / "@neo4j-cypher" / "language-support").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=LINTER, check=True, capture_output=True, timeout=600
        )
    return LINTER


def lint(linter: Path, statements: list[str]) -> list[dict]:
    out = subprocess.run(
        ["node", "lint.mjs"],
        cwd=linter,
        input=json.dumps(statements),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout)


def test_the_linter_catches_an_error(linter: Path) -> None:
    found = lint(linter, ["MATCH (n RETURN n", "MATCH (n:Person {id: $undefined}) RETURN n"])
    assert found[0]["diagnostics"], "a syntax error must be reported"
    assert found[1]["diagnostics"] == [], "parameter-not-defined is the one diagnostic ignored"


def test_every_neo4j_statement_has_zero_diagnostics(linter: Path) -> None:
    statements = every_statement(DIALECTS["neo4j"])
    assert len(statements) > 60
    bad = [r for r in lint(linter, statements) if r["diagnostics"]]
    assert bad == [], json.dumps(bad, ensure_ascii=False, indent=1)
