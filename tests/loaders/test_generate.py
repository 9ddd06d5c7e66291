from __future__ import annotations

from pathlib import Path

from loaders.generate import generate


def test_same_seed_same_files(tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in "abc")
    generate(a, "tiny", seed=9)
    generate(b, "tiny", seed=9)
    generate(c, "tiny", seed=10)
    for name in ("organizations.csv", "changes.csv", "actions.csv", "cases.csv", "truth.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "actions.csv").read_bytes() != (c / "actions.csv").read_bytes()


def test_tiny_is_about_one_county(tmp_path: Path) -> None:
    truth = generate(tmp_path, "tiny", seed=1)
    assert 80 <= truth["counts"]["organizations"] <= 120
    assert truth["sinks"] and truth["commission_heavy"] and truth["weak_heavy"] and truth["soft_orgs"]
