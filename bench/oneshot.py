"""One-shot commands, as a user runs them: a fresh process per call, wall time from start to
exit (issue 25: `rtc accountability` <= 0.35 s; nothing imported or built that it does not read).

    python -m bench.oneshot embedded://PATH [--runs 7] [--case ID]

Prints a table and writes bench/results/oneshot-<date>.json: the median and range of each
command over the runs, interleaved (one run of each in turn), ``import rtc.cli`` alone, and the
libraries every command imports without any of rtc (the floor the chosen stack sets),
after one untimed run of each (which leaves the modules' bytecode, as an installed rtc has).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results"
CLI = "from rtc.cli import main; main()"
STACK = "import typer, rich.table, pydantic_settings, numpy"


def commands(url: str, case: str, position: str, person: str) -> dict[str, list[str]]:
    return {
        # the floor: the libraries any rtc command imports, and nothing of rtc's own
        "import typer, rich, pydantic-settings, numpy": ["-c", STACK],
        "import rtc.cli": ["-c", "import rtc.cli"],
        f"rtc accountability {case}": ["-c", CLI, "accountability", case, "--store", url],
        f"rtc holders {position}": ["-c", CLI, "holders", position, "--at", "2024-01-01", "--store", url],
        f"rtc career {person}": ["-c", CLI, "career", person, "--store", url],
    }


def measure(url: str, runs: int, case: str | None) -> dict[str, dict[str, float]]:
    from graph.factory import open_store

    store = open_store(url)
    case = case or sorted(store.get_cases())[0]
    chosen = store.get_cases([case])[case]
    position = sorted(store.get_positions(org_ids=[chosen.org_id]))[0]
    person = store.tenures(position_ids=[position])[0].person_id
    store.close()
    todo = commands(url, case, position, person)
    # As an installed rtc runs: Python keeps each module's bytecode after its first import
    # (unless PYTHONDONTWRITEBYTECODE says not to, as some sandboxes do: that adds ~15 ms).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for args in todo.values():  # the first run writes the bytecode; it is not timed
        subprocess.run([sys.executable, *args], capture_output=True, check=False, env=env)
    times: dict[str, list[float]] = {name: [] for name in todo}
    for _ in range(runs):  # interleaved: a slow moment of the machine hits every command alike
        for name, args in todo.items():
            started = time.perf_counter()
            done = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False, env=env)
            times[name].append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed:\n{done.stdout}\n{done.stderr}")
    return {
        name: {"median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts), "runs": len(ts)}
        for name, ts in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--case")
    args = parser.parse_args()
    found = measure(args.url, args.runs, args.case)
    table = Table("command (fresh process)", "median", "range", "target", "met")
    for name, r in found.items():
        target = 0.35 if name.startswith("rtc accountability") else None
        met = "" if target is None else ("yes" if r["median_s"] <= target else "no")
        table.add_row(
            name,
            f"{r['median_s']:.3f} s",
            f"{r['min_s']:.3f}-{r['max_s']:.3f} s",
            f"<= {target} s" if target else "",
            met,
        )
    Console().print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"oneshot-{time.strftime('%Y-%m-%d')}.json"
    out.write_text(json.dumps({"url": args.url, "results": found}, indent=1), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
