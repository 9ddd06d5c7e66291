"""The peer an analyst would otherwise use: DuckDB over the same CSV files with straightforward
SQL, side by side with rtc in one run (issue 25). The answers are checked equal first (every
derived tenure, the ``first`` role of every case, the level profile of a year), then the
ratios are printed, each the median of ``--repeats`` interleaved repeats.

    pip install duckdb   # a bench-only dependency (pip install -e '.[bench]')
    python -m bench.duckdb_peer DATASET_FOLDER [--repeats 3] [--cases 300] [--year 2024]

What is compared, each in a fresh child process (its own time and peak RSS):
- load: ``rtc load`` into a new embedded store (validation included) against DuckDB reading
  the CSVs and deriving the tenures into a database file (no validation on its side);
- one lookup from a fresh process: open the store (the database file), then the ``first``
  role of one case (rtc computes every role of the case, the peer this one);
- warm lookups: the ``first`` role of ``--cases`` cases after the first;
- the level profile of one year.
Writes bench/results/duckdb-peer-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results"
# Tenures from tenure rows and changes (docs/domain.md): a change of these kinds opens its
# to_position, of those closes its from_position; a remove or retire without one closes every
# post the person holds; on one day closes come before opens.
OPENS = "('appoint', 'transfer', 'promote', 'demote', 'concurrent')"
CLOSES = "('transfer', 'promote', 'demote', 'remove', 'retire')"
DERIVE = f"""
CREATE TABLE opened AS
  SELECT DISTINCT person_id, position_id, CAST(start AS DATE) AS start FROM tenure_rows
  UNION
  SELECT person_id, to_position_id, CAST(date AS DATE) FROM changes
  WHERE kind IN {OPENS} AND to_position_id IS NOT NULL;
CREATE TABLE closing AS
  SELECT person_id, position_id, CAST("end" AS DATE) AS day FROM tenure_rows WHERE "end" IS NOT NULL
  UNION ALL
  SELECT person_id, from_position_id, CAST(date AS DATE) FROM changes
  WHERE kind IN {CLOSES} AND from_position_id IS NOT NULL;
CREATE TABLE closing_all AS
  SELECT person_id, CAST(date AS DATE) AS day FROM changes
  WHERE kind IN ('remove', 'retire') AND from_position_id IS NULL;
CREATE TABLE tenures AS
  SELECT o.person_id, o.position_id, o.start,
         least(
           (SELECT min(c.day) FROM closing c
             WHERE c.person_id = o.person_id AND c.position_id = o.position_id AND c.day > o.start),
           (SELECT min(a.day) FROM closing_all a WHERE a.person_id = o.person_id AND a.day > o.start)
         ) AS "end"
  FROM opened o;
"""
FILES = ("organizations", "positions", "persons", "tenures", "changes", "actions", "cases")


def duckdb_load(folder: str, path: str = ":memory:") -> dict[str, Any]:
    """The CSVs read and the tenures derived, in memory or into a database file (``path``)."""
    import duckdb

    started = time.perf_counter()
    db = duckdb.connect(path)
    for name in FILES:
        table = "tenure_rows" if name == "tenures" else name
        db.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{Path(folder) / name}.csv', all_varchar=true)")
    db.execute(DERIVE)
    tenures = db.execute("SELECT count(*) FROM tenures").fetchone()[0]  # type: ignore[index]
    return {"load_s": time.perf_counter() - started, "tenures": tenures, "db": db}


FIRST = """
SELECT DISTINCT t.person_id FROM positions p JOIN tenures t ON t.position_id = p.id
WHERE p.org_id = ? AND p.role = 'secretary'
  AND t.start < CAST(? AS DATE) AND coalesce(t."end", DATE '9999-12-31') > CAST(? AS DATE)
ORDER BY 1
"""


def _windows(cases: list[tuple[str, str, str, str | None, str | None]], as_of: str) -> list[tuple[str, str, str, str]]:
    """Each case's organization and misconduct window ``[start, end or discovered or as_of + 1)``."""
    import datetime as dt

    after = (dt.date.fromisoformat(as_of) + dt.timedelta(days=1)).isoformat()
    return [(cid, org, start, end or discovered or after) for cid, org, start, end, discovered in cases]


def duckdb_answers(db: Any, cases: list[tuple[str, str, str, str]], year: int) -> dict[str, Any]:
    t = time.perf_counter()
    first = {cid: [r[0] for r in db.execute(FIRST, [org, end, start]).fetchall()] for cid, org, start, end in cases}
    per_case = (time.perf_counter() - t) / max(len(cases), 1)
    t = time.perf_counter()
    profile = _duckdb_profile(db, year)
    return {"first": first, "per_case_s": per_case, "profile": profile, "profile_s": time.perf_counter() - t}


def _duckdb_profile(db: Any, year: int) -> list[tuple[str, int, float, float]]:
    from graph.model import DEFAULT_WEIGHTS

    weights = " ".join(f"WHEN '{k}' THEN CAST({v} AS DOUBLE)" for k, v in DEFAULT_WEIGHTS.items())
    rows = db.execute(
        f"""
        WITH r AS (
          SELECT to_org_id AS org, sum(CASE kind {weights} ELSE 0 END) AS received FROM actions
          WHERE CAST(date AS DATE) >= DATE '{year}-01-01' AND CAST(date AS DATE) < DATE '{year + 1}-01-01'
          GROUP BY 1)
        SELECT o.level, count(*), median(coalesce(r.received, 0)), avg(coalesce(r.received, 0))
        FROM organizations o LEFT JOIN r ON r.org = o.id
        WHERE o.kind <> 'commission'
          AND (o.valid_from IS NULL OR CAST(o.valid_from AS DATE) < DATE '{year + 1}-01-01')
          AND (o.valid_to IS NULL OR CAST(o.valid_to AS DATE) > DATE '{year}-01-01')
        GROUP BY 1
        """
    ).fetchall()
    return sorted((lv, n, round(float(m), 4), round(float(a), 4)) for lv, n, m, a in rows)


def rtc_answers(url: str, case_ids: list[str], year: int) -> dict[str, Any]:
    from graph.factory import open_store
    from queries.accountability import accountability
    from queries.pressure import level_profile, pressure
    from queries.window import Window

    store = open_store(url)
    accountability(store, case_ids[0])  # warm, as the peer's tables are
    t = time.perf_counter()
    first = {}
    for cid in case_ids:
        rows = accountability(store, cid).responsible
        first[cid] = sorted({r.person.id for r in rows if r.role == "first"})
    per_case = (time.perf_counter() - t) / max(len(case_ids), 1)
    t = time.perf_counter()
    prof = level_profile(pressure(store, Window.of(f"{year}-01-01", f"{year + 1}-01-01")))
    profile = sorted((r.level, r.orgs, r.median, r.mean) for r in prof.levels)
    return {"first": first, "per_case_s": per_case, "profile": profile, "profile_s": time.perf_counter() - t}


# ---------------------------------------------------------------- child processes


def _child(mode: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.duckdb_peer", "--child", mode, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{done.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def _child_main(mode: str, *args: str) -> None:
    started = time.perf_counter()
    if mode == "rtc-load":
        from graph.factory import open_store
        from loaders.load import load_dataset

        folder, url = args
        report = load_dataset(open_store(url), folder)
        if not report.ok:
            raise SystemExit(f"load failed: {[str(e) for e in report.errors[:3]]}")
        out: dict[str, Any] = {"s": time.perf_counter() - started, "tenures": report.tenures_derived}
    elif mode == "duckdb-load":
        loaded = duckdb_load(*args)
        loaded["db"].close()
        out = {"s": time.perf_counter() - started, "tenures": loaded["tenures"]}
    elif mode == "rtc-one":  # open, then one lookup: what a one-off program pays
        from graph.factory import open_store
        from queries.accountability import accountability

        url, case = args
        rows = accountability(open_store(url), case).responsible
        out = {"s": time.perf_counter() - started, "first": sorted({r.person.id for r in rows if r.role == "first"})}
    elif mode == "duckdb-one":  # open the database file the load wrote, one lookup
        import duckdb

        path, org, start, end = args
        first = [r[0] for r in duckdb.connect(path, read_only=True).execute(FIRST, [org, end, start]).fetchall()]
        out = {"s": time.perf_counter() - started, "first": first}
    else:
        raise SystemExit(f"unknown mode {mode}")
    out["peak_rss_gb"] = _peak_rss_gb()
    print(json.dumps(out))


def _peak_rss_gb() -> float:
    """This process's peak RSS (``VmHWM``: reset at exec, where ``ru_maxrss`` keeps the
    parent's, and the parent holds the peer's tables)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


# ---------------------------------------------------------------- the run


def run(folder: str, repeats: int, n_cases: int, year: int) -> dict[str, Any]:
    from graph.factory import open_store
    from graph.model import from_ordinal
    from queries.window import latest_date

    with tempfile.TemporaryDirectory(prefix="rtc-peer-") as tmp:
        loads: dict[str, list[dict[str, Any]]] = {"rtc": [], "duckdb": []}
        for i in range(repeats):  # interleaved: a slow moment of the machine hits both alike
            loads["rtc"].append(_child("rtc-load", folder, f"embedded://{tmp}/store{i}"))
            loads["duckdb"].append(_child("duckdb-load", folder, f"{tmp}/peer{i}.duckdb"))
        url = f"embedded://{tmp}/store0"
        store = open_store(url)
        as_of = from_ordinal(latest_date(store))
        cases = sorted(store.get_cases().values(), key=lambda c: c.id)[:n_cases]
        windows = _windows([(c.id, c.org_id, c.start, c.end, c.discovered) for c in cases], as_of)
        every = store.tenures(position_ids=list(store.get_positions()))
        derived = {(t.person_id, t.position_id, _day(t.start), _day(t.end)) for t in every}
        store.close()
        peer = duckdb_load(folder)
        peer_tenures = {
            (p, pos, s.isoformat(), e.isoformat() if e else None)
            for p, pos, s, e in peer["db"]
            .execute('SELECT person_id, position_id, start, "end" FROM tenures')
            .fetchall()
        }
        answers: dict[str, list[dict[str, Any]]] = {"rtc": [], "duckdb": []}
        ones: dict[str, list[dict[str, Any]]] = {"rtc": [], "duckdb": []}
        cid, org, start, end = windows[len(windows) // 2]
        for _ in range(repeats):
            answers["rtc"].append(rtc_answers(url, [w[0] for w in windows], year))
            answers["duckdb"].append(duckdb_answers(peer["db"], windows, year))
            ones["rtc"].append(_child("rtc-one", url, cid))
            ones["duckdb"].append(_child("duckdb-one", f"{tmp}/peer0.duckdb", org, start, end))
    ours, theirs = answers["rtc"][0], answers["duckdb"][0]
    same_first = sum(ours["first"][c] == theirs["first"][c] for c in ours["first"])
    return {
        "folder": folder,
        "repeats": repeats,
        "checks": {
            "tenures": {"rtc": len(derived), "duckdb": len(peer_tenures), "equal": derived == peer_tenures},
            "first_role_cases_equal": f"{same_first} of {len(ours['first'])}",
            "level_profile_equal": ours["profile"] == theirs["profile"],
            "one_lookup_equal": ones["rtc"][0]["first"] == ones["duckdb"][0]["first"],
        },
        "load": {side: _summary([r["s"] for r in rs], [r["peak_rss_gb"] for r in rs]) for side, rs in loads.items()},
        "one_lookup_fresh_process": {
            side: _summary([r["s"] for r in rs], [r["peak_rss_gb"] for r in rs]) for side, rs in ones.items()
        },
        "per_case_warm": {side: _summary([r["per_case_s"] for r in rs]) for side, rs in answers.items()},
        "level_profile": {side: _summary([r["profile_s"] for r in rs]) for side, rs in answers.items()},
    }


def _day(text: str | None) -> str | None:
    """A date as the day it stands for (rtc keeps the precision given, DuckDB a date)."""
    from graph.model import from_ordinal, to_ordinal

    return None if text is None else from_ordinal(to_ordinal(text))


def _summary(seconds: list[float], rss: list[float] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"median_s": statistics.median(seconds), "all_s": seconds}
    if rss:
        out["peak_rss_gb"] = max(rss)
    return out


def show(result: dict[str, Any]) -> None:
    console = Console()
    checks = Table("check", "result", title="answers, checked before any ratio")
    for k, v in result["checks"].items():
        checks.add_row(k, json.dumps(v, ensure_ascii=False))
    console.print(checks)
    table = Table("figure", "rtc (median)", "DuckDB (median)", "rtc / DuckDB", "rtc peak RSS", title="side by side")
    for key in ("load", "one_lookup_fresh_process", "per_case_warm", "level_profile"):
        ours, theirs = result[key]["rtc"], result[key]["duckdb"]
        table.add_row(
            key.replace("_", " "),
            f"{ours['median_s'] * 1000:.2f} ms" if ours["median_s"] < 1 else f"{ours['median_s']:.2f} s",
            f"{theirs['median_s'] * 1000:.2f} ms" if theirs["median_s"] < 1 else f"{theirs['median_s']:.2f} s",
            f"{ours['median_s'] / theirs['median_s']:.2f}",
            f"{ours['peak_rss_gb']:.2f} GB (DuckDB {theirs['peak_rss_gb']:.2f})" if "peak_rss_gb" in ours else "",
        )
    console.print(table)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child_main(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args()
    result = run(args.folder, args.repeats, args.cases, args.year)
    show(result)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"duckdb-peer-{time.strftime('%Y-%m-%d')}.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
