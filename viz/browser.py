"""Open a written view in headless Chromium, offline: for the browser tests, the benchmark's
draw time and the screenshots in ``docs/``.

Chromium and ChromeDriver are Debian's (``apt-get install chromium chromium-driver``);
``selenium`` is a test dependency, imported here only when a browser is asked for. The
browser runs with name resolution and its proxy pointed at nothing, so any request the
page tried to make would fail; every request it makes is recorded from Chromium's own
performance log, and every console message from its browser log.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: the network is off
    "--proxy-server=http://127.0.0.1:9",  # and nothing listens where a request would go
    "--window-size=1400,900",
]


def find_chromium() -> tuple[str, str]:
    """The Chromium and ChromeDriver binaries, or a clear error saying how to install them."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        raise RuntimeError("headless Chromium is needed: apt-get install chromium chromium-driver")
    return browser, driver


@dataclass
class Opened:
    """What one page did: its first draw, console messages, requests, and the driver to ask more."""

    driver: Any
    started: float  # wall clock when the browser was asked to start
    loaded: float  # wall clock when the first draw was seen
    first_draw_ms: float  # the page's own clock at its first draw (from navigation start)
    console: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def script(self, js: str, *args: Any) -> Any:
        return self.driver.execute_script(js, *args)

    def refresh_logs(self) -> None:
        self.console += self.driver.get_log("browser")
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])

    def outside_requests(self) -> list[str]:
        """Requests that would leave the page: anything but the file itself and inline data."""
        self.refresh_logs()
        return [u for u in self.requests if not u.startswith(("file:", "data:", "blob:", "about:"))]

    def errors(self) -> list[dict[str, Any]]:
        self.refresh_logs()
        return [m for m in self.console if m.get("level") in ("SEVERE", "WARNING")]

    def screenshot(self, out: Path) -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(out))
        return out


@contextmanager
def chromium(size: tuple[int, int] = (1400, 900), *, loopback: bool = False) -> Iterator[Any]:
    """Headless Chromium, offline (``loopback``: but for 127.0.0.1, where a workbench is served),
    logging its console and requests; quit and its profile removed on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = find_chromium()
    profile = tempfile.mkdtemp(prefix="rtc-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        if loopback and flag.startswith("--host-resolver-rules="):
            flag += ", EXCLUDE 127.0.0.1"
        options.add_argument(flag)
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_window_size(*size)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def open_view(path: Path, *, timeout: float = 60.0, size: tuple[int, int] = (1400, 900)) -> Iterator[Opened]:
    """Start Chromium, open ``path`` and wait for its first draw."""
    started = time.perf_counter()
    with chromium(size) as driver:
        driver.get("about:blank")  # Chromium's own start page makes internal requests: leave them behind
        driver.get_log("browser")
        driver.get_log("performance")
        driver.get(path.resolve().as_uri())
        deadline = started + timeout
        first = None
        while time.perf_counter() < deadline:
            first = driver.execute_script("return window.rtcView ? window.rtcView.firstDraw : null")
            if first is not None:
                break
            time.sleep(0.02)
        if first is None:
            raise TimeoutError(f"{path} did not draw within {timeout} s")
        yield Opened(driver, started, time.perf_counter(), float(first))
