"""Generate and load one preset in a child process, so its peak RSS is measured alone."""

from __future__ import annotations

import json
import sys
import time

from graph.store import open_store
from loaders.generate import generate
from loaders.load import load_dataset


def main(preset: str, folder: str, store_url: str) -> None:
    t0 = time.perf_counter()
    truth = generate(folder, preset, seed=7)
    t1 = time.perf_counter()
    report = load_dataset(open_store(store_url), folder)
    t2 = time.perf_counter()
    if not report.ok:
        raise SystemExit(f"load failed: {report.errors[:3]}")
    rows = sum(c["read"] for c in report.counts.values())
    print(
        json.dumps(
            {
                "generate_s": t1 - t0,
                "load_s": t2 - t1,
                "rows": rows,
                "phases": report.phases,
                "worked_examples": truth["worked_examples"],
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
