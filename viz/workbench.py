"""The workbench pages around the views: the login form and the home page (search and the
organization tree). Plain pages with inline script and style, like the views: no request
leaves them but the reads of the API they were served by."""

from __future__ import annotations

from typing import Any

from graph.model import Organization
from viz.view import HERE, _environment, _script_json


def _css() -> str:
    return (HERE / "static" / "view.css").read_text(encoding="utf-8")


def login_page(*, hours: float, message: str = "") -> str:
    return _environment().get_template("login.html.j2").render(css=_css(), hours=f"{hours:g}", message=message)


def home_page(roots: list[Organization], *, who: str, latest: str) -> str:
    payload: dict[str, Any] = {"roots": [{"id": o.id, "name": o.name, "level": o.level.value} for o in roots]}
    return (
        _environment()
        .get_template("home.html.j2")
        .render(
            css=_css(),
            js=(HERE / "static" / "home.js").read_text(encoding="utf-8"),
            payload=_script_json(payload),
            who=who,
            latest=latest,
        )
    )
