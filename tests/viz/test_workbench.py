"""The workbench served by the API, driven in Chromium as an analyst would: log in with a key,
find a case and a person, follow the links from view to view, browse the tree, log out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from graph.backends.falkordb import free_port
from graph.factory import open_store
from loaders.load import load_dataset
from tests.api.conftest import make_settings
from tests.api.test_live import serve
from viz.browser import chromium as start_chromium

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, scenario_dataset: Path) -> Iterator[tuple[str, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("workbench")
    store = open_store(f"embedded://{tmp / 'store'}")
    assert load_dataset(store, scenario_dataset).ok
    store.close()
    settings, keys = make_settings(tmp, f"embedded://{tmp / 'store'}")  # the cookie is Secure, as deployed
    port = free_port()
    server, thread = serve(create_app(settings), port)
    yield f"http://127.0.0.1:{port}", keys
    server.should_exit = True
    thread.join(timeout=10)


def _wait(driver: Any, js: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := driver.execute_script(js):
            return value
        time.sleep(0.05)
    raise TimeoutError(js)


def _titled(driver: Any, prefix: str) -> None:
    _wait(driver, f"return document.title.startsWith({prefix!r})")


FOUND = "return [...document.querySelectorAll('#found a')].find(a => a.text.startsWith('{}'))"


def _follow(driver: Any, node: str, text: str) -> None:
    """Click a node's details open, then the link whose text starts with ``text``."""
    _wait(driver, "return window.rtcView && window.rtcView.firstDraw !== null")
    driver.execute_script("window.rtcView.showDetails(arguments[0])", node)
    link = next(a for a in driver.find_elements("css selector", "#details a") if a.text.startswith(text))
    link.click()


def test_an_analyst_follows_a_case_across_the_views(
    served: tuple[str, dict[str, str]], chromium: tuple[str, str]
) -> None:
    base, keys = served
    with start_chromium(loopback=True) as driver:
        driver.get(base + "/")
        assert driver.current_url == base + "/login"  # no session: the login form
        driver.find_element("id", "key").send_keys("rtc_wrong")
        driver.find_element("id", "login").click()
        assert "unknown API key" in _wait(driver, "return document.getElementById('login-error')").text
        driver.find_element("id", "key").send_keys(keys["reader"])
        driver.find_element("id", "login").click()
        _wait(driver, "return location.pathname === '/' && document.getElementById('tree')")
        assert "reader-user (reader)" in driver.find_element("id", "subtitle").text
        # the key is not in the page's reach: the session cookie is HTTP-only
        assert driver.execute_script("return document.cookie") == ""
        # the tree: open the top, its province appears
        driver.find_element("css selector", "#tree li[data-id='C'] button.open").click()
        _wait(driver, "return document.querySelector(\"#tree li[data-id='P']\")")
        # find: a person by name, and a case by id
        driver.find_element("id", "find").send_keys("张伟\n")
        career = _wait(
            driver, "return [...document.querySelectorAll('#found a')].find(a => a.text.startsWith('career: 张伟'))"
        )
        assert career.get_attribute("href").endswith("/views/persons/p1")
        box = driver.find_element("id", "find")
        box.clear()
        box.send_keys("K1\n")
        case = _wait(
            driver, "return [...document.querySelectorAll('#found a')].find(a => a.text.startsWith('case K1'))"
        )
        case.click()
        # the case view: from the promoted secretary to his career
        _titled(driver, "Accountability chain: case K1")
        _follow(driver, "person:p1", "career")
        _titled(driver, "Career: 张伟 (p1)")
        # from his career to the case again, and from a post to the map of its organization
        _follow(driver, "case:K1", "accountability chain")
        _titled(driver, "Accountability chain: case K1")
        _follow(driver, "now:X/dep|p1", "pressure map of its organization")
        _titled(driver, "Pressure map: 某县委 (X)")
        # from the map to a leader's career, and home
        _follow(driver, "X", "career: ")
        _titled(driver, "Career: ")
        driver.find_element("id", "home-link").click()
        _wait(driver, "return location.pathname === '/' && document.getElementById('logout')").click()
        _wait(driver, "return location.pathname === '/login' && document.getElementById('key')")
        driver.get(base + "/views/cases/K1")
        assert "an API key is required" in driver.page_source


def test_a_served_map_opens_its_aggregates_from_the_api(
    served: tuple[str, dict[str, str]], chromium: tuple[str, str]
) -> None:
    base, keys = served
    with start_chromium(loopback=True) as driver:
        driver.get(base + "/login")
        driver.find_element("id", "key").send_keys(keys["reader"])
        driver.find_element("id", "login").click()
        _wait(driver, "return location.pathname === '/'")
        # a page that holds no aggregate's contents: every expand asks the API (with the session cookie)
        driver.get(base + "/views/pressure?root=C&from=2019-01-01&to=2020-01-01&budget=4&embed=0")
        _wait(driver, "return window.rtcView && window.rtcView.firstDraw !== null")
        driver.execute_script("window.rtcView.showDetails('S::below')")
        next(b for b in driver.find_elements("css selector", "#details button") if b.text == "expand").click()
        _wait(driver, "return window.rtcView.nodes.get('X') !== null")
        assert driver.execute_script("return window.rtcView.nodes.get('S::below')") is None
        # what came from the API has its links, and the search opens the way to T2 below X
        driver.execute_script("window.rtcView.showDetails('X')")
        assert any(a.text.startswith("career: ") for a in driver.find_elements("css selector", "#details a"))
        driver.execute_script("window.rtcView.search('T2')")
        _wait(driver, "var s = window.rtcView.network.getSelectedNodes(); return s.length === 1 && s[0] === 'T2'")
        assert "乙镇党委" in driver.find_element("id", "details").text
        logs = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert logs == []
