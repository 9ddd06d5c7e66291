"""Everyday mistakes through the real entry point (``main``): one line naming what was wrong,
a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "county"


def rtc(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from rtc.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "300", **(env or {})},
        timeout=120,
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mistakes")
    assert rtc("load", str(EXAMPLE), "--store", "embedded://./s", cwd=folder).returncode == 0
    (folder / "a-file").write_text("x", encoding="utf-8")
    (folder / "full").mkdir()
    (folder / "empty-folder").mkdir()
    (folder / "full" / "persons.csv").write_text("id,name\n", encoding="utf-8")
    return folder


MISTAKES = [
    (["findings", "soft", "--from", "2022-13-01", "--to", "2023-01-01"], {}, 2, "not a date: '2022-13-01'"),
    (["findings", "soft", "--from", "2022/06/01", "--to", "2023-01-01"], {}, 2, "'2022/06/01'"),
    (["findings", "soft", "--from", "2023-01-01", "--to", "2022-01-01"], {}, 2, "to (2022-01-01) must be after"),
    (["findings", "gaps", "--store", "embedded://./empty"], {}, 2, "no store at embedded://./empty"),
    (["stats", "--store", "embedded:"], {}, 2, "store URL 'embedded:': write embedded://PATH"),
    (["stats", "--store", "embedded://"], {}, 2, "names no folder"),
    (["load", "empty-folder"], {}, 1, "no dataset file here"),
    (["generate", "a-file", "--preset", "tiny"], {}, 2, "a-file is a file"),
    (["generate", "full", "--preset", "tiny"], {}, 2, "is not empty"),
    (["load", str(EXAMPLE), "--report-file", "/no/dir/r.json"], {}, 2, "--report-file /no/dir/r.json"),
    (["fades"], {"RTC_WEIGHTS": "notjson"}, 2, 'field "weights"'),
    (["pressure"], {"RTC_MIN_PRESSURE": "abc"}, 2, "setting RTC_MIN_PRESSURE"),
    (["keys", "add", "a1"], {"RTC_API_KEYS_FILE": "/no/dir/k.json"}, 2, "the folder /no/dir does not exist"),
    (["holders", "nope", "--at", "2020"], {}, 1, "nope"),
    (["accountability", "K-2021-001", "--as-of", "2022-13-01"], {}, 2, "--as-of: not a date: '2022-13-01'"),
    (["view", "pressure", "--as-of", "2022-13-01", "--out", "x.html"], {}, 2, "--as-of: not a date: '2022-13-01'"),
    (["accountability", "--org", "DH", "--start", "2021-02-30"], {}, 2, "--start: not a date: '2021-02-30'"),
    (["accountability", "K-2021-001", "--as-of", "2020-01-01"], {}, 2, "before the misconduct began (2021-05-01)"),
    (["pressure", "--org", "DHX"], {}, 1, "no organization with id 'DHX' in the window; did you mean"),
    (["pressure", "--level", "villag"], {}, 2, "unknown level 'villag'; did you mean village?"),
]


@pytest.mark.parametrize(("args", "env", "code", "message"), MISTAKES, ids=[" ".join(m[0][:2]) for m in MISTAKES])
def test_a_mistake_is_one_line_and_an_exit_code(
    work: Path, args: list[str], env: dict[str, str], code: int, message: str
) -> None:
    store = (
        []
        if any(a.startswith("--store") for a in args) or args[0] in ("generate", "keys")
        else ["--store", "embedded://./s"]
    )
    result = rtc(*args, *store, cwd=work, env=env)
    out = result.stdout + result.stderr
    assert result.returncode == code, out
    assert message in out and "Traceback" not in out, out
    assert (work / "full" / "persons.csv").read_text(encoding="utf-8") == "id,name\n"  # nothing overwritten
    assert {p.name for p in work.iterdir()} <= {"s", "a-file", "full", "empty-folder"}  # no store made by a read


def test_version_and_short_help(work: Path) -> None:
    assert rtc("--version", cwd=work).stdout.startswith("rtc ")
    assert "Usage" in rtc("-h", cwd=work).stdout


def test_help_shows_no_type_after_a_flag(work: Path) -> None:
    """``--dry-run <bool>`` read as if the flag took a value (typer's rich help)."""
    shown = rtc("load", "-h", cwd=work, env={"COLUMNS": "80"}).stdout
    assert "<bool>" not in shown and "--dry-run " in shown and "PATH" in shown
    assert max(len(line) for line in shown.splitlines()) <= 80


def test_an_older_store_s_first_open_says_what_it_makes_and_stdout_keeps_the_answer(tmp_path: Path) -> None:
    """A store an older rtc wrote lacks an index this one reads by: its first open makes it,
    which takes a while on a large store; the command says so on stderr, once."""
    assert rtc("load", str(EXAMPLE), "--store", "embedded://./s", cwd=tmp_path).returncode == 0
    db = sqlite3.connect(tmp_path / "s" / "rtc.sqlite3")
    db.execute("DROP INDEX tenures_held")
    db.commit()
    db.close()
    first = rtc("stats", "--store", "embedded://./s", "--json", cwd=tmp_path)
    assert first.returncode == 0 and "Traceback" not in first.stderr
    assert first.stderr.startswith("note store embedded://./s was written by an older rtc"), first.stderr
    assert "(tenures_held)" in first.stderr and first.stdout.lstrip().startswith("{")
    again = rtc("stats", "--store", "embedded://./s", "--json", cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == "" and again.stdout == first.stdout
