"""``rtc serve --workers 2`` on the embedded store, as a user starts it: the workers share the
indexes the parent built, each sees what another imported, a login made by one is honoured
by the other, and a SIGTERM to the parent stops them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.keys import add_key
from graph.backends.falkordb import free_port
from graph.factory import open_store
from loaders.load import load_dataset


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in found.read_text().split()] if found.exists() else []


@pytest.mark.slow
def test_two_workers_share_the_store_imports_and_logins(tmp_path: Path, scenario_dataset: Path) -> None:
    url = f"embedded://{tmp_path / 'store'}"
    assert load_dataset(open_store(url), scenario_dataset).ok
    keys_file = tmp_path / "keys.json"
    keys = {role: add_key(keys_file, f"{role}-user", role) for role in ("reader", "loader")}
    port = free_port()
    env = {
        **os.environ,
        "RTC_API_KEYS_FILE": str(keys_file),
        "RTC_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        "RTC_COOKIE_SECURE": "false",
    }
    command = ["serve", "--workers", "2", "--port", str(port), "--store", url]
    server = subprocess.Popen(
        [sys.executable, "-c", "from rtc.cli import main; main()", *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # the parent warms the store, then the workers start
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200 and len(_children(server.pid)) == 2:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert len(_children(server.pid)) == 2
        reader = {"Authorization": f"Bearer {keys['reader']}"}
        loader = {"Authorization": f"Bearer {keys['loader']}"}
        # a new connection each time: the kernel hands each to either worker
        assert all(httpx.get(f"{base}/cases/K1/accountability", headers=reader).status_code == 200 for _ in range(10))
        sent = {"tables": {"persons": [{"id": "p90", "name": "周九"}]}}
        done = httpx.post(f"{base}/imports", headers=loader, json=sent)
        assert done.status_code == 201, done.text
        time.sleep(0.1)  # another worker notices a commit within RECHECK_SECONDS (0.05 s)
        seen = [httpx.get(f"{base}/persons/p90", headers=reader).status_code for _ in range(20)]
        assert seen == [200] * 20
        logged = [httpx.get(base + done.headers["location"], headers=reader).status_code for _ in range(20)]
        assert logged == [200] * 20  # the import's report, from whichever worker answers
        login = httpx.post(f"{base}/login", data={"key": keys["reader"]})
        assert login.status_code == 303
        cookie = {"rtc_session": login.cookies["rtc_session"]}
        pages = [httpx.get(f"{base}/organizations", cookies=cookie).status_code for _ in range(20)]
        assert pages == [200] * 20  # one secret for both workers
        entries = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        assert [e["outcome"] for e in entries] == ["written"]
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0, out
    assert "Traceback" not in out
