"""Store.org_context: what an accountability lookup reads first, the same on every backend."""

from __future__ import annotations

from graph.store import Store


def test_chain_commissions_and_positions_within_reach(scenario_store: Store) -> None:
    ctx = scenario_store.org_context("T", reach=1)
    assert [o.id for o in ctx.chain] == ["T", "X", "S", "P", "C"]
    assert {o: [k.id for k in ks] for o, ks in ctx.commissions.items()} == {
        "T": ["T-JW"],
        "X": ["X-JW"],
        "S": ["S-JW"],
        "P": ["P-JW"],
    }
    assert {p.org_id for p in ctx.positions.values()} == {"T", "T-JW", "X", "X-JW"}
    assert list(ctx.positions) == sorted(ctx.positions)
    assert ctx.positions == scenario_store.get_positions(org_ids=["T", "T-JW", "X", "X-JW"])
    everything = scenario_store.org_context("T")
    assert {p.org_id for p in everything.positions.values()} == {"T", "T-JW", "X", "X-JW", "S", "S-JW", "P", "P-JW"}
    assert scenario_store.org_context("nope").chain == []
