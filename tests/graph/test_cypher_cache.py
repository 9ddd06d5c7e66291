"""A Cypher store keeps organizations and positions read by id until an import starts or
finishes (records are never changed in place, but a graph can be emptied and loaded again):
its own imports at once, another client's within RECHECK_SECONDS."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from graph.backends.cypher.store import RECHECK_SECONDS, CypherStore
from graph.factory import open_store
from loaders.load import load_dataset


def test_cached_reads_see_a_graph_loaded_again_by_another_client(
    falkordb_server: tuple[str, int], tiny_dataset: Path, tmp_path: Path
) -> None:
    url = f"falkordb://{falkordb_server[0]}:{falkordb_server[1]}/c{uuid.uuid4().hex[:12]}"
    reader, writer = open_store(url), open_store(url)
    assert isinstance(writer, CypherStore)
    assert load_dataset(writer, tiny_dataset).ok
    time.sleep(RECHECK_SECONDS + 0.01)
    org = sorted(reader.get_organizations())[0]
    position = sorted(reader.get_positions())[0]
    before = reader.get_organizations([org])[org].name, reader.get_positions([position])[position].title
    writer.transport.write("MATCH (n) DETACH DELETE n")
    again = tmp_path / "again"
    again.mkdir()
    (again / "organizations.csv").write_text(f"id,name,kind,level\n{org},改名,committee,central\n")
    (again / "positions.csv").write_text(f"id,org_id,title,role\n{position},{org},改名的职位,secretary\n")
    assert load_dataset(writer, again).ok
    assert writer.get_organizations([org])[org].name == "改名"  # its own import: at once
    time.sleep(RECHECK_SECONDS + 0.01)
    assert (
        (reader.get_organizations([org])[org].name, reader.get_positions([position])[position].title)
        == (
            "改名",
            "改名的职位",
        )
        != before
    )
