"""The back-test of an indicator scheme: the generator plants the problems it knows and writes
them to ``truth.json``; the scheme's red warnings should find them. Precision and recall of
the red organizations against the planted ones, in the planted window (every year the
generator wrote) and in its last year, with the scoring time of each.

    python -m bench.backtest DATASET_DIR embedded://PATH [SCHEME]   # a loaded generated dataset

Planted in a window (an organization is a positive when one of these falls in it): a pressure
sink, a weak-form sender, a committee whose commission does its work (every year); a missed
standard (that year); a soft-outcome township with a case begun in the window; a case begun in
the window with only its violators held; a portfolio left undivided (no member holds a
category, or several do); a duty not decomposed.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from graph.factory import open_store
from graph.model import to_ordinal
from graph.store import Store
from queries.indicators.scheme import load_scheme
from queries.indicators.scores import scores
from queries.window import Window


def planted(truth: dict[str, Any], store: Store, window: Window) -> dict[str, list[str]]:
    """Organization id -> the planted problems of the window, by their truth.json names."""
    out: dict[str, list[str]] = {}

    def add(org: str, what: str) -> None:
        out.setdefault(org, []).append(what)

    for key in ("sinks", "weak_heavy", "commission_heavy", "portfolio_gap_orgs", "portfolio_overlap_orgs"):
        for org in truth[key]:
            add(org, key)
    for org, year, _kind in truth["standard_misses"]:
        if window.start <= to_ordinal(f"{year}-01-01") < window.end:
            add(org, "standard_misses")
    cases = store.get_cases()
    begun = {c.id for c in cases.values() if window.contains(to_ordinal(c.start))}
    for org in truth["soft_orgs"]:
        if any(cases[c].org_id == org for c in begun):
            add(org, "soft_orgs")
    for case in truth["double_investigation_not_done"]:
        if case in begun:
            add(cases[case].org_id, "double_investigation_not_done")
    for duty in truth["undecomposed_duties"]:
        add(duty.split("#")[0], "undecomposed_duties")
    return out


def backtest(store: Store, truth: dict[str, Any], window: Window, scheme: str = "default") -> dict[str, Any]:
    started = time.perf_counter()
    got = scores(store, load_scheme(scheme), window, compare=False)
    seconds = time.perf_counter() - started
    red = {o.org_id for o in got.organizations if o.warning == "red"}
    positives = planted(truth, store, window)
    found = red & set(positives)
    kinds = Counter(k for ks in positives.values() for k in set(ks))
    hit = Counter(k for o, ks in positives.items() if o in red for k in set(ks))
    return {
        "window": window.as_dict(),
        "scheme": scheme,
        "organizations_scored": len(got.organizations),
        "score_seconds": round(seconds, 2),
        "red": len(red),
        "planted": len(positives),
        "precision": round(len(found) / len(red), 4) if red else None,
        "recall": round(len(found) / len(positives), 4) if positives else None,
        "recall_by_problem": {k: round(hit[k] / n, 4) for k, n in sorted(kinds.items())},
        "false_red_by_veto": dict(
            Counter(
                ", ".join(o.vetoed_by) or "share"
                for o in got.organizations
                if o.warning == "red" and o.org_id not in positives
            )
        ),
    }


def run_backtest(folder: str, url: str, scheme: str = "default") -> list[dict[str, Any]]:
    truth = json.loads((Path(folder) / "truth.json").read_text(encoding="utf-8"))
    whole = Window.of(truth["window"]["from"], truth["window"]["to"])
    last = Window(to_ordinal(f"{int(truth['window']['to'][:4]) - 1}-01-01"), whole.end)
    store = open_store(url)
    try:
        return [backtest(store, truth, w, scheme) for w in (whole, last)]
    finally:
        store.close()


if __name__ == "__main__":
    print(json.dumps(run_backtest(*sys.argv[1:4]), indent=1, ensure_ascii=False))
