"""Write the screenshots in docs/views/: each view of a loaded store, drawn in headless Chromium.

    python -m bench.screenshots embedded://PATH [CASE_ID PERSON_ID ORG_ID]

Without ids it takes the first case whose secretary was promoted and a portfolio member
transferred (as `rtc demo` does), that case's secretary, and the case's county.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from graph.factory import open_store
from queries.accountability import accountability
from viz.browser import open_view
from viz.duties import duties_view
from viz.people import case_view, person_view
from viz.pressure_map import pressure_map
from viz.view import View, write_view

DOCS = Path(__file__).parent.parent / "docs" / "views"


def _example(store) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    for case_id in sorted(store.get_cases()):
        result = accountability(store, case_id)
        moves = {(r.role, r.movement) for r in result.responsible}
        if ("first", "promoted") in moves and ("portfolio", "transferred") in moves:
            person = next(r.person.id for r in result.responsible if r.role == "first")
            county = store.ancestors(result.case.org_id)[1].id
            return case_id, person, county
    raise SystemExit("no case with a promoted secretary and a transferred portfolio member")


def main() -> None:
    store = open_store(sys.argv[1])
    case_id, person_id, org_id = sys.argv[2:5] if len(sys.argv) >= 5 else _example(store)
    views: dict[str, View] = {
        "pressure-map": pressure_map(store),
        "case": case_view(store, case_id),
        "person": person_view(store, person_id),
        "duties": duties_view(store, org_id),
    }
    with tempfile.TemporaryDirectory(prefix="rtc-shots-") as work:
        for name, view in views.items():
            page = write_view(view, Path(work) / f"{name}.html")
            with open_view(page, size=(1600, 1000)) as opened:
                assert opened.errors() == [] and opened.outside_requests() == []
                if name == "case":  # the whole chain, not the readable corner the page opens at
                    opened.driver.find_element("id", "fit").click()
                print(opened.screenshot(DOCS / f"{name}.png"), f"{len(view.nodes)} nodes")


def workbench(url: str) -> Path:
    """The workbench home, served over loopback, after a login and a search."""
    import threading

    import uvicorn

    from api.app import create_app
    from api.keys import add_key
    from core.config import Settings
    from graph.backends.falkordb import free_port
    from viz.browser import chromium

    with tempfile.TemporaryDirectory(prefix="rtc-shots-") as work:
        key = add_key(Path(work) / "keys.json", "analyst", "reader")
        settings = Settings(
            store=url, api_keys_file=str(Path(work) / "keys.json"), audit_log=str(Path(work) / "a.jsonl")
        )
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with chromium((1600, 1000), loopback=True) as driver:
                driver.get(f"http://127.0.0.1:{port}/login")
                driver.find_element("id", "key").send_keys(key)
                driver.find_element("id", "login").click()
                time.sleep(1)
                driver.find_element("css selector", "#tree button.open").click()
                driver.find_element("id", "find").send_keys("山平\n")
                time.sleep(1.5)
                out = DOCS / "workbench.png"
                driver.save_screenshot(str(out))
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    return out


if __name__ == "__main__":
    main()
    print(workbench(sys.argv[1]))
