"""The command line, end to end on small data (the JSON contract of docs/json.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rtc.cli import app
from tests.queries.test_indicators import TWO

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def flat(output: str) -> str:
    """Rich wraps long lines at the runner's 80 columns: the words, one space apart."""
    return " ".join(output.split())


@pytest.fixture
def url(tmp_path: Path, scenario_dataset: Path) -> str:
    url = f"embedded://{tmp_path / 'store'}"
    run("load", str(scenario_dataset), "--store", url)
    return url


def test_load_twice_then_stats(tmp_path: Path, tiny_dataset: Path) -> None:
    url = f"embedded://{tmp_path / 'store'}"
    first = json.loads(run("load", str(tiny_dataset), "--store", url, "--json"))
    assert first["ok"] and first["written"]
    stats = json.loads(run("stats", "--store", url, "--json"))
    second = json.loads(run("load", str(tiny_dataset), "--store", url, "--json"))
    assert second["ok"] and not second["written"]
    assert json.loads(run("stats", "--store", url, "--json")) == stats
    assert stats["organizations_by_level"]["township"]["committee"] == 8


def test_bad_load_exits_nonzero_and_writes_a_report(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "persons.csv").write_text("id,name\np1,\n", encoding="utf-8")
    report = tmp_path / "report.json"
    out = run("load", str(folder), "--store", f"embedded://{tmp_path / 's'}", "--report-file", str(report), code=1)
    assert "persons.csv, row 2, column name" in out and "nothing was written" in out
    assert json.loads(report.read_text())["errors"][0]["rule"] == "missing-field"


def test_holders_and_career(url: str) -> None:
    data = json.loads(run("holders", "T/sec", "--at", "2020-06-01", "--store", url, "--json"))
    assert [h["person"]["id"] for h in data["holders"]] == ["p1"]
    assert "vacant" in run("holders", "X/dep", "--at", "2020-06-01", "--store", url)
    career = json.loads(run("career", "p1", "--store", url, "--json"))
    assert [s["movement"] for s in career["career"]] == ["first", "promote"]
    run("holders", "nope", "--at", "2020", "--store", url, code=1)
    run("holders", "T/sec", "--at", "yesterday", "--store", url, code=2)


def test_accountability_json_contract(url: str) -> None:
    data = json.loads(run("accountability", "K1", "--as-of", "2022-01-01", "--depth", "2", "--store", url, "--json"))
    assert set(data) >= {"case", "as_of", "responsible"} and data["as_of"] == "2022-01-01"
    row = next(r for r in data["responsible"] if r["role"] == "first" and r["person"]["id"] == "p1")
    assert set(row) >= {"role", "person", "post_then", "overlap_days", "posts_now", "movement", "evidence"}
    assert set(row["post_then"]) >= {"position_id", "title", "org_id", "org_name", "start", "end"}
    assert set(row["posts_now"][0]) >= {"position_id", "title", "org_id", "org_name", "start"}
    assert set(row["evidence"]) == {"tenures", "actions", "sources"}
    assert row["movement"] == "promoted"
    roles = [r["role"] for r in data["responsible"]]
    order = ["direct", "first", "portfolio", "supervisory", "upstream", "collective"]
    assert roles == sorted(roles, key=order.index)
    adhoc = json.loads(
        run(
            "accountability",
            "--org",
            "T",
            "--start",
            "2020-03-01",
            "--end",
            "2020-12-01",
            "--category",
            "discipline",
            "--violators",
            "p7",
            "--as-of",
            "2022-01-01",
            "--store",
            url,
            "--json",
        )
    )
    assert [r["role"] for r in adhoc["responsible"]][:2] == ["direct", "first"]
    run("accountability", "K404", "--store", url, code=1)


def test_fades_json_contract_and_pressure(url: str) -> None:
    data = json.loads(run("fades", "--from", "2019-01-01", "--to", "2021-01-01", "--store", url, "--json"))
    assert data["window"] == {"from": "2019-01-01", "to": "2021-01-01"} and data["category"] is None
    assert set(data["levels"][0]) == {"level", "orgs", "median", "mean", "fade_ratio_from_above"}
    assert data["steepest_fade"] == {"from_level": "city", "to_level": "county", "ratio": 0.2}
    sinks = json.loads(run("pressure", "--from", "2019", "--to", "2021", "--sinks", "--store", url, "--json"))
    assert [o["org_id"] for o in sinks["organizations"]] == ["S"]
    explained = json.loads(
        run(
            "pressure",
            "--from",
            "2019",
            "--to",
            "2021",
            "--org",
            "T",
            "--explain",
            "received",
            "--store",
            url,
            "--json",
        )
    )
    assert explained["actions"] == ["a1", "a4"]


def test_findings_and_scorecard(url: str) -> None:
    gaps = json.loads(run("findings", "gaps", "--at", "2020-06-30", "--store", url, "--json"))
    assert any(g["kind"] == "vacant" and g["ids"] == ["X/dep"] for g in gaps["gaps"])
    assert json.loads(run("findings", "soft", "--store", url, "--json"))["only_violator_held"] == []
    assert "committees" in json.loads(run("findings", "slogans", "--store", url, "--json"))
    # every windowed answer names its window (the default: the data's last full year)
    for command in (["fades"], ["pressure"], ["findings", "coverage"], ["findings", "standards"]):
        assert "[2020-01-01, 2021-01-01)" in run(*command, "--store", url), command
    assert "every case" in run("findings", "soft", "--store", url)
    card = json.loads(run("scorecard", "X", "--from", "2019", "--to", "2021", "--store", url, "--json"))
    assert card["pass_on_ratio"] == 2.75
    run("scorecard", "nope", "--store", url, code=1)


def test_demo_on_the_tiny_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the views go to ./rtc-views
    out = run("demo", "--preset", "tiny", "--store", f"embedded://{tmp_path / 'demo'}")
    for heading in (
        "1. generate",
        "2. load",
        "3. the store now holds",
        "4. where pressure fades",
        "5. pressure sinks",
        "6. slogan",
        "7. soft accountability",
        "9. views",
    ):
        assert heading in out
    assert "steepest fade:" in out
    for page in ("pressure-map.html", "case.html"):
        assert (tmp_path / "rtc-views" / page).stat().st_size > 100_000
        assert page in out.replace("\n", "")


def test_generate_rejects_unknown_preset(tmp_path: Path) -> None:
    run("generate", str(tmp_path / "x"), "--preset", "galaxy", code=2)


def _findings(output: str) -> list[str]:
    """The demo's output without what legitimately differs: timings, paths and store URLs."""
    import re

    keep = output.split("4. where pressure fades", 1)[1].split("done in", 1)[0]
    return [re.sub(r"\d+\.\d+ s\b", "", line) for line in keep.splitlines()]


@pytest.mark.slow
def test_demo_on_falkordb_gives_the_same_findings(
    tmp_path: Path, falkordb_server: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    host, port = falkordb_server
    embedded = run("demo", "--preset", "tiny", "--store", f"embedded://{tmp_path / 'demo'}")
    falkor = run("demo", "--preset", "tiny", "--store", f"falkordb://{host}:{port}/demo{tmp_path.name[-6:]}")
    assert _findings(falkor) == _findings(embedded)


def test_view_commands_write_pages_and_exports(url: str, tmp_path: Path) -> None:
    for args in (
        ["pressure", "--root", "C", "--from", "2019-01-01", "--to", "2020-01-01"],
        ["case", "K1", "--as-of", "2022-01-01"],
        ["person", "p1"],
        ["duties", "X"],
    ):
        out = tmp_path / f"{args[0]}.html"
        assert "wrote" in run("view", *args, "--out", str(out), "--store", url)
        assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    run("view", "pressure", "--root", "C", "--out", str(tmp_path / "map.gexf"), "--store", url)
    assert "<gexf" in (tmp_path / "map.gexf").read_text(encoding="utf-8")
    assert "must end in .html" in run("view", "person", "p1", "--out", str(tmp_path / "x.svg"), "--store", url, code=2)
    assert "no case" in run("view", "case", "nope", "--out", str(tmp_path / "n.html"), "--store", url, code=1)
    assert not (tmp_path / "n.html").exists() and not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize(("env", "logged"), [(None, False), ("true", True)])
def test_serve_logs_request_lines_only_when_asked(
    env: str | None, logged: bool, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """URLs name persons and cases: uvicorn's access log is off unless RTC_ACCESS_LOG turns it on."""
    import uvicorn

    from core.config import get_settings

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs))
    if env is not None:
        monkeypatch.setenv("RTC_ACCESS_LOG", env)
    get_settings.cache_clear()
    try:
        run("serve", "--store", url, "--port", "8123")
    finally:
        get_settings.cache_clear()
    assert seen["access_log"] is logged and seen["port"] == 8123


def test_adhoc_case_ending_before_it_starts_is_refused(url: str) -> None:
    out = run(
        "accountability", "--org", "T", "--start", "2020-03-01", "--end", "2020-02-01", "--category", "discipline",
        "--store", url, code=2,
    )  # fmt: skip
    assert "end 2020-02-01 must be after start 2020-03-01" in out


def test_keys_add_list_revoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import get_settings

    monkeypatch.setenv("RTC_API_KEYS_FILE", str(tmp_path / "keys.json"))
    get_settings.cache_clear()
    try:
        assert "\nrtc_" in run("keys", "add", "clerk", "--role", "loader")
        assert json.loads(run("keys", "list", "--json")) == [{"name": "clerk", "role": "loader", "scope": []}]
        run("keys", "add", "town", "--scope", "T", "--scope", "T2")
        assert json.loads(run("keys", "list", "--json"))[1]["scope"] == ["T", "T2"]
        run("keys", "revoke", "town")
        run("keys", "revoke", "clerk")
        assert json.loads(run("keys", "list", "--json")) == []
        assert "no key named 'clerk'" in run("keys", "revoke", "clerk", code=2)
        monkeypatch.setenv("RTC_API_KEYS_FILE", str(tmp_path / "no" / "dir" / "keys.json"))
        get_settings.cache_clear()
        assert "the folder" in " ".join(run("keys", "add", "x", code=2).split())
    finally:
        get_settings.cache_clear()


def test_a_store_this_user_may_not_write_answers_reads(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder the user may not write opens for reading (root may write anything: there the
    check the store makes is what is made to say no)."""
    import os

    from graph.backends.embedded import store as embedded

    folder = url.removeprefix("embedded://")

    def files() -> dict[str, bytes]:  # SQLite's -shm and -wal come and go with connections
        return {
            str(p.relative_to(folder)): p.read_bytes()
            for p in Path(folder).rglob("*")
            if p.is_file() and p.suffix not in (".sqlite3-shm", ".sqlite3-wal")
        }

    before = files()
    if os.geteuid() == 0:
        monkeypatch.setattr(embedded.os, "access", lambda path, mode: mode != os.W_OK)
    os.chmod(folder, 0o555)
    try:
        data = json.loads(run("holders", "T/sec", "--at", "2020-06-01", "--store", url, "--json"))
        assert [h["person"]["id"] for h in data["holders"]] == ["p1"]
        assert "read-only" in run("load", folder, "--store", url, code=2)
    finally:
        os.chmod(folder, 0o755)
    assert files() == before


def test_a_bug_is_one_line_and_exit_3_unless_debugging(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rtc import cli

    def broken(args: list[str]) -> None:
        raise RuntimeError("something rtc did not expect")

    monkeypatch.setattr(cli, "_run", broken)
    monkeypatch.delenv("RTC_DEBUG", raising=False)
    with pytest.raises(SystemExit) as ended:
        cli.main()
    assert ended.value.code == 3
    said = capsys.readouterr().err
    assert "internal error" in said and "RTC_DEBUG=1" in said and "Traceback" not in said
    monkeypatch.setenv("RTC_DEBUG", "1")
    with pytest.raises(RuntimeError, match="did not expect"):
        cli.main()


def test_text_in_square_brackets_is_printed_as_it_is(tmp_path: Path) -> None:
    """A form like ``YYYY/MM[/DD]`` or a title ``[代]`` is data, not rich markup (it was an
    internal error: a closing tag matching no open one)."""
    from tests.helpers import organization, write_dataset

    folder = write_dataset(
        tmp_path / "d",
        organizations=[organization("C", "某市[代]", "committee", "city")],
        positions=[{"id": "C/sec", "org_id": "C", "title": "书记[/b]", "role": "secretary"}],
        persons=[{"id": "u1", "name": "李强"}],
        tenures=[{"person_id": "u1", "position_id": "C/sec", "start": "2003/6/1"}],
    )
    url = f"embedded://{tmp_path / 's'}"
    loaded = runner.invoke(app, ["load", str(folder), "--store", url], env={"COLUMNS": "200"})
    assert loaded.exit_code == 0, loaded.output
    assert "YYYY/MM[/DD]" in loaded.output
    shown = runner.invoke(app, ["career", "u1", "--store", url], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "书记[/b]" in shown.output and "某市[代]" in shown.output


def test_the_accountability_table_fits_80_columns_and_names_each_post_s_organization(tmp_path: Path) -> None:
    from rich.cells import cell_len

    url = f"embedded://{tmp_path / 's'}"
    county = Path(__file__).resolve().parents[2] / "examples" / "county"
    assert runner.invoke(app, ["load", str(county), "--store", url]).exit_code == 0
    shown = runner.invoke(
        app, ["accountability", "K-2021-001", "--as-of", "2024-01-01", "--store", url], env={"COLUMNS": "80"}
    )
    assert shown.exit_code == 0, shown.output
    assert "…" not in shown.output and max(cell_len(line) for line in shown.output.splitlines()) <= 80
    assert "portfolio" in shown.output and "transferred" in shown.output
    # every post names its organization (a title alone may not say where)
    assert "now: 西山镇党委委员(纪律、作风), 西山镇党委 (since 2022-03-01)" in shown.output


def test_a_first_load_is_history_and_raises_no_alert(tmp_path: Path, scenario_dataset: Path) -> None:
    # the scenario's own moves (c1, c3) do raise alerts once stored (rtc alerts, below)
    report = json.loads(run("load", str(scenario_dataset), "--store", f"embedded://{tmp_path / 's'}", "--json"))
    assert report["ok"] and report["counts"]["changes"]["new"] == 4 and report["alerts"] == []


def test_scores_alerts_and_reports_from_the_command_line(url: str, tmp_path: Path) -> None:
    scheme = tmp_path / "two.yaml"
    scheme.write_text(TWO, encoding="utf-8")
    assert "scheme two (两项 / Two) is valid" in flat(run("scheme", "check", str(scheme)))
    bad = tmp_path / "bad.yaml"
    bad.write_text(TWO.replace("best: 1}", "}"), encoding="utf-8")
    refused = flat(run("scheme", "check", str(bad), code=2))
    assert "bad.yaml:14: indicators.0.children.0.rule: a linear rule needs best" in refused
    got = json.loads(
        run("score", "T", "--scheme", str(scheme), "--from", "2019", "--to", "2020", "--store", url, "--json")
    )
    assert got["organizations"][0]["share"] == 0.55 and got["organizations"][0]["warning"] == "red"
    led = json.loads(
        run("score", "--person", "p1", "--scheme", str(scheme), "--from", "2020", "--store", url, "--json")
    )
    assert led["share"] == round(274 / 366, 4)
    alerts = json.loads(run("alerts", "--since", "2020-01-01", "--scheme", str(scheme), "--store", url, "--json"))
    assert [(a["change_id"], a["case_id"]) for a in alerts["alerts"] if a["kind"] == "open-case"] == [
        ("c1", "K1"),
        ("c3", "K1"),
    ]
    out = tmp_path / "t.xlsx"
    assert "wrote" in flat(
        run("report", "T", "--scheme", str(scheme), "--from", "2020", "--out", str(out), "--store", url)
    )
    assert out.stat().st_size > 0 and not out.with_name("t.xlsx.part").exists()
    assert "ends in .html, .xlsx or .docx" in run(
        "report", "T", "--out", str(tmp_path / "t.pdf"), "--store", url, code=2
    )


def test_export_then_load_a_popolo_file_alone(tmp_path: Path) -> None:
    """rtc export writes Popolo; rtc load takes the popolo.json file by itself (the people,
    posts and memberships, without the canonical files beside it)."""
    url = f"embedded://{tmp_path / 'store'}"
    run("load", str(Path(__file__).parents[2] / "examples" / "county"), "--store", url)
    written = json.loads(run("export", str(tmp_path / "out"), "--format", "popolo", "--store", url, "--json"))
    assert written["written"]["popolo.json"] > 0 and "cases.csv" in written["written"]
    report = json.loads(
        run("load", str(tmp_path / "out" / "popolo.json"), "--store", f"embedded://{tmp_path / 'b'}", "--json")
    )
    assert report["ok"] and report["counts"]["persons"]["new"] == 32
    shown = flat(run("export", str(tmp_path / "out"), "--format", "ftm", "--store", url, code=2))
    assert "not an empty folder" in shown


def test_a_tolerant_or_streamed_load_of_popolo_is_refused_with_the_reason(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "popolo.json").write_text('{"persons": []}', encoding="utf-8")
    url = f"embedded://{tmp_path / 'store'}"
    shown = flat(run("load", str(folder), "--tolerant", "--rejects", str(tmp_path / "r"), "--store", url, code=2))
    assert "load Popolo or FollowTheMoney whole" in shown
    shown = flat(run("load", str(folder), "--stream", "--store", url, code=2))
    assert "--no-stream" in shown


def test_load_elite_files(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path / 'store'}"
    report = json.loads(
        run("load", str(Path(__file__).parents[2] / "examples" / "elite"), "--elite", "--store", url, "--json")
    )
    assert report["ok"] and report["counts"]["tenures"]["new"] == 5
    steps = json.loads(run("career", "王敏/1962", "--store", url, "--json"))["career"]
    assert [s["movement"] for s in steps] == ["first", "promote"]


def test_every_command_is_found_by_its_name_alone() -> None:
    """A one-shot command imports only its module (``COMMANDS``): each name there must be the
    command it registers, and every command must be there."""
    from rtc import cli

    full = cli.register()
    names = [c.name for c in full.registered_commands] + [g.name for g in full.registered_groups]
    assert sorted(names) == sorted(cli.COMMANDS)
    for name in cli.COMMANDS:
        alone = cli.register(name)
        assert [c.name for c in alone.registered_commands] + [g.name for g in alone.registered_groups] == [name]
    assert len(cli.register().registered_commands) == len(full.registered_commands)  # the full app is untouched
    out = subprocess.run(
        [sys.executable, "-c", WHICH_MODULES, "stats", "-h"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Usage" in out.stdout and "rtc.commands.data" in out.stdout and "rtc.commands.findings" not in out.stdout


def test_a_date_option_s_callback_gets_typer_s_own_context_and_parameter() -> None:
    """Typer hands a callback its context and parameter by their annotations (typer's vendored
    click), and a one-shot command does not import the separate ``click`` package for them."""
    out = subprocess.run(
        [sys.executable, "-c", WHICH_MODULES, "holders", "P1", "--at", "2022-13-01", "--store", "embedded://nowhere"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "--at: not a date" in out.stderr
    assert "'click'" not in out.stdout and "'typer._click'" in out.stdout


WHICH_MODULES = """import sys
from rtc.cli import main
try:
    main()
except SystemExit:
    print(sorted(sys.modules))
"""
