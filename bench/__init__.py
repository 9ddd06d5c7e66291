"""Benchmarks: ``python -m bench`` prints a table of figures beside their targets and
writes ``bench/results/<preset>-embedded.json``."""

from __future__ import annotations

import statistics


def percentiles(samples: list[float]) -> dict[str, float]:
    """Median and 99th percentile of timings (every benchmark reports these two)."""
    ordered = sorted(samples)
    return {"median": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]}
