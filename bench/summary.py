"""One table over every preset and backend: each figure beside its target, and the growth
exponent ``k`` of each cost against dataset size (cost ~ rows^k, fitted on log-log), so a
reader sees which parts grow faster than linearly."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

PRESET_ORDER = ["tiny", "county", "province", "nation"]


@dataclass(frozen=True)
class Figure:
    label: str
    backend: str
    get: Callable[[dict[str, Any]], float | None]
    unit: str
    target: str = ""
    ok: Callable[[float], bool] | None = None
    target_presets: tuple[str, ...] = ("province",)  # where the target applies
    cost: bool = True  # a cost that grows with size: fit its exponent


def _path(*keys: str) -> Callable[[dict[str, Any]], float | None]:
    def get(r: dict[str, Any]) -> float | None:
        value: Any = r
        for k in keys:
            if not isinstance(value, dict) or k not in value:
                return None
            value = value[k]
        return float(value)

    return get


def _ratio(
    a: Callable[[dict[str, Any]], float | None], b: Callable[[dict[str, Any]], float | None]
) -> Callable[[dict[str, Any]], float | None]:
    def get(r: dict[str, Any]) -> float | None:
        x, y = a(r), b(r)
        return None if x is None or not y else x / y

    return get


FIGURES = [
    Figure("generate, seconds", "embedded", _path("generate_s"), "s"),
    Figure("generate, peak RSS", "embedded", _path("generate_rss_gb"), "GB"),
    Figure("load, seconds", "embedded", _path("load_s"), "s"),
    Figure("load, rows/s", "embedded", _path("load_rows_per_s"), "rows/s", cost=False),
    Figure("load, peak RSS", "embedded", _path("load_rss_gb"), "GB"),
    Figure("generate + load", "embedded", _path("generate_load_s"), "s", "<= 60 s", lambda v: v <= 60),
    Figure("holders median", "embedded", _path("holders_us", "median"), "us", "<= 50 us", lambda v: v <= 50),
    Figure(
        "accountability median", "embedded", _path("accountability_ms", "median"), "ms", "<= 2 ms", lambda v: v <= 2
    ),
    Figure("accountability p99", "embedded", _path("accountability_ms", "p99"), "ms", "<= 10 ms", lambda v: v <= 10),
    Figure(
        "level profile, 1 year, cold", "embedded", _path("level_profile_s", "cold"), "s", "<= 2 s", lambda v: v <= 2
    ),
    Figure(
        "API accountability c1 / /health",
        "embedded",
        _ratio(_path("api", "c1", "accountability_ms", "median"), _path("api", "c1", "health_ms", "median")),
        "x",
        "<= 5x",
        lambda v: v <= 5,
        cost=False,
    ),
    Figure(
        "API accountability c1 p99",
        "embedded",
        _path("api", "c1", "accountability_ms", "p99"),
        "ms",
        "<= 25 ms",
        lambda v: v <= 25,
    ),
    Figure(
        "API accountability c10 / /health",
        "embedded",
        _ratio(_path("api", "c10", "accountability_ms", "median"), _path("api", "c10", "health_ms", "median")),
        "x",
        "<= 5x",
        lambda v: v <= 5,
        cost=False,
    ),
    Figure(
        "API accountability c10 p99",
        "embedded",
        _path("api", "c10", "accountability_ms", "p99"),
        "ms",
        "<= 25 ms",
        lambda v: v <= 25,
    ),
    Figure(
        "pressure map written (fresh process)",
        "embedded",
        _path("views", "write_cold_process_s"),
        "s",
        "<= 5 s",
        lambda v: v <= 5,
    ),
    Figure("pressure map size", "embedded", _path("views", "size_mb"), "MB", "<= 5 MB", lambda v: v <= 5),
    Figure(
        "pressure map first draw",
        "embedded",
        _path("views", "first_draw_with_browser_start_s"),
        "s",
        "<= 3 s",
        lambda v: v <= 3,
    ),
    Figure("generate, seconds", "falkordb", _path("generate_s"), "s"),
    Figure("generate, peak RSS", "falkordb", _path("generate_rss_gb"), "GB"),
    Figure("load, seconds", "falkordb", _path("load_s"), "s"),
    Figure(
        "load, rows/s", "falkordb", _path("load_rows_per_s"), "rows/s", ">= 40,000", lambda v: v >= 40_000, cost=False
    ),
    Figure("load, loader peak RSS", "falkordb", _path("load_rss_gb"), "GB"),
    Figure(
        "streamed load, seconds",
        "falkordb",
        _path("stream_load_s"),
        "s",
        "<= 1200 s (nation)",
        lambda v: v <= 1200,
        ("nation",),
    ),
    Figure("streamed load, rows/s", "falkordb", _path("stream_rows_per_s"), "rows/s", cost=False),
    Figure(
        "streamed load, loader peak RSS",
        "falkordb",
        _path("stream_rss_gb"),
        "GB",
        "<= 1 GB (nation)",
        lambda v: v <= 1,
        ("nation",),
    ),
    Figure(  # the ceiling writes rows in hand: compared with the load's writes
        "writes / bare CREATE ceiling",
        "falkordb",
        _ratio(_path("write_rows_per_s"), _path("ceiling_rows_per_s")),
        "x",
        ">= 0.6",
        lambda v: v >= 0.6,
        cost=False,
    ),
    Figure(
        "whole load / bare CREATE ceiling",
        "falkordb",
        _ratio(_path("load_rows_per_s"), _path("ceiling_rows_per_s")),
        "x",
        "",
        None,
        cost=False,
    ),
    Figure(
        "writes / one MERGE per row",
        "falkordb",
        _ratio(_path("write_rows_per_s"), _path("merge_per_row_rows_per_s")),
        "x",
        ">= 20x",
        lambda v: v >= 20,
        cost=False,
    ),
    Figure("holders median", "falkordb", _path("holders_ms", "median"), "ms"),
    Figure(
        "accountability median",
        "falkordb",
        _path("accountability_ms", "median"),
        "ms",
        "<= 10 ms; nation <= 20 ms",
        None,
        ("province", "nation"),
    ),
    Figure(
        "level profile, 1 year, cold",
        "falkordb",
        _path("level_profile_s", "cold"),
        "s",
        "<= 60 s (nation)",
        lambda v: v <= 60,
        ("nation",),
    ),
]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "rows/s":
        return f"{value:,.0f}"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:.3g} {unit}"


def growth(points: list[tuple[float, float]]) -> float | None:
    """The slope of log(cost) against log(size), least squares; None with fewer than two points."""
    pts = [(x, y) for x, y in points if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    xs, ys = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(xs, ys, 1)[0])


def _target_ok(fig: Figure, preset: str, value: float | None) -> bool | None:
    if value is None or preset not in fig.target_presets:
        return None
    if fig.label == "accountability median" and fig.backend == "falkordb":
        return value <= (20 if preset == "nation" else 10)
    return fig.ok(value) if fig.ok else None


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    by_cell = {(r["preset"], r["backend"]): r for r in results}
    presets = [p for p in PRESET_ORDER if any(k[0] == p for k in by_cell)]
    rows = []
    for fig in FIGURES:
        values = {p: (fig.get(by_cell[(p, fig.backend)]) if (p, fig.backend) in by_cell else None) for p in presets}
        if all(v is None for v in values.values()):
            continue
        sizes = {p: float(by_cell[(p, fig.backend)]["rows"]) for p in presets if (p, fig.backend) in by_cell}
        k = k_cp = None
        if fig.cost:
            k = growth([(sizes[p], v) for p, v in values.items() if v is not None and p in sizes])
            if values.get("county") and values.get("province"):
                k_cp = growth([(sizes["county"], values["county"]), (sizes["province"], values["province"])])
        oks = {p: _target_ok(fig, p, v) for p, v in values.items()}
        rows.append(
            {
                "figure": fig.label,
                "backend": fig.backend,
                "unit": fig.unit,
                "values": values,
                "k": k,
                "k_county_province": k_cp,
                "target": fig.target,
                "ok": {p: o for p, o in oks.items() if o is not None},
            }
        )
    sizes_all = {f"{p}/{b}": r["rows"] for (p, b), r in by_cell.items()}
    notes = [f"{p} on {b}: {r['stream_error']}" for (p, b), r in by_cell.items() if "stream_error" in r]
    return {"presets": presets, "rows_per_cell": sizes_all, "figures": rows, "notes": notes}


def show_summary(summary: dict[str, Any]) -> None:
    presets = summary["presets"]
    table = Table(title="rtc benchmark: every preset and backend (k: cost ~ rows^k)", title_justify="left")
    for col in ("backend", "figure", *presets, "k", "k county->province", "target", "ok"):
        table.add_column(col)
    for row in summary["figures"]:
        ok = row["ok"]
        verdict = (
            ""
            if not ok
            else ("yes" if all(ok.values()) else "NO (" + ", ".join(p for p, o in ok.items() if not o) + ")")
        )
        k = row["k"]
        k_cp = row["k_county_province"]
        load_linear = row["backend"] == "embedded" and row["figure"] in ("load, seconds", "load, peak RSS")
        k_cp_text = "-" if k_cp is None else f"{k_cp:.2f}"
        if load_linear and k_cp is not None:
            k_cp_text += " (<= 1.1 " + ("yes" if k_cp <= 1.1 else "NO") + ")"
        table.add_row(
            row["backend"],
            row["figure"],
            *(_fmt(row["values"].get(p), row["unit"]) for p in presets),
            "-" if k is None or math.isnan(k) else f"{k:.2f}",
            k_cp_text,
            row["target"],
            verdict,
        )
    console = Console(width=200)  # wide enough for every preset's column, also into a file
    console.print(table)
    for note in summary.get("notes", []):
        console.print(f"[bold]not measured[/]: {note}")


def to_markdown(summary: dict[str, Any]) -> str:
    """The summary table as Markdown (for docs/performance.md)."""
    presets = summary["presets"]
    head = ["backend", "figure", *presets, "k", "k county→province", "target", "ok"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in summary["figures"]:
        ok = row["ok"]
        verdict = "" if not ok else ("yes" if all(ok.values()) else "**no**")
        k, k_cp = row["k"], row["k_county_province"]
        cells = [
            row["backend"],
            row["figure"],
            *(_fmt(row["values"].get(p), row["unit"]) for p in presets),
            "" if k is None else f"{k:.2f}",
            "" if k_cp is None else f"{k_cp:.2f}",
            row["target"],
            verdict,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [f"\nNot measured: {note}" for note in summary.get("notes", [])]
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys
    from pathlib import Path

    print(to_markdown(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
