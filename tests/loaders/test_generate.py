from __future__ import annotations

import csv
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


def test_a_preset_of_several_provinces_is_written_one_province_at_a_time(tmp_path: Path) -> None:
    small = {"cities": 1, "counties": 1, "townships": 2, "villages": 2, "departments": (1, 1, 1), "cases": 40}
    truth = generate(tmp_path, "nation", seed=5, provinces=3, **small)
    orgs = list(csv.DictReader((tmp_path / "organizations.csv").open(encoding="utf-8")))
    assert [o["id"] for o in orgs if o["level"] == "central"] == ["C", "C-JW"]  # once, from the first shard
    assert sorted(o["id"] for o in orgs if o["level"] == "province") == [
        "P00",
        "P00-D0",
        "P00-JW",
        "P01",
        "P01-D0",
        "P01-JW",
        "P02",
        "P02-D0",
        "P02-JW",
    ]
    for entity, key in (("persons", "id"), ("changes", "id"), ("actions", "id"), ("cases", "id"), ("duties", "id")):
        rows = list(csv.DictReader((tmp_path / f"{entity}.csv").open(encoding="utf-8")))
        ids = [r[key] for r in rows]
        assert len(ids) == len(set(ids)) == truth["counts"][entity], entity
    again = tmp_path / "again"
    generate(again, "nation", seed=5, provinces=3, **small)
    assert (again / "actions.csv").read_bytes() == (tmp_path / "actions.csv").read_bytes()
