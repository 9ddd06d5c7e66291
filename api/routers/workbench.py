"""The workbench in a browser: log in with an API key (exchanged for a session cookie), a home
page to find organizations, people and cases and browse the organization tree, and log out.
The views under /views/... then link to each other (see ``viz.view.View.links``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import sessions
from api.deps import SettingsDep, StoreDep, key_entries, session_of
from api.keys import authenticate, hash_key
from graph.model import from_ordinal
from viz.workbench import home_page, login_page

router = APIRouter(tags=["workbench"], include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(settings: SettingsDep) -> HTMLResponse:
    return HTMLResponse(login_page(hours=settings.session_hours))


@router.post("/login")
def login(request: Request, settings: SettingsDep, key: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Check the key and answer with the session cookie (or the form again, saying why)."""
    principal = authenticate(key.strip(), key_entries(request)) if key.strip() else None
    if principal is None:
        page = login_page(hours=settings.session_hours, message="unknown API key: check it, or ask for one")
        return HTMLResponse(page, status_code=401)
    entry = next(e for e in key_entries(request) if e["hash"] == hash_key(key.strip()))
    token = sessions.issue(entry, request.app.state.session_secret, settings.session_hours)
    answer = RedirectResponse("/", status_code=303)
    answer.set_cookie(
        sessions.COOKIE,
        token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path="/",
    )
    return answer


@router.post("/logout")
def logout(settings: SettingsDep) -> Response:
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(sessions.COOKIE, path="/", secure=settings.cookie_secure, httponly=True, samesite="strict")
    return answer


@router.get("/", response_class=HTMLResponse)
def home(request: Request, store: StoreDep) -> Response:
    """The home page for a logged-in browser; the login form for anyone else."""
    who = session_of(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    orgs = store.get_organizations()
    roots = sorted((o for o in orgs.values() if not o.parent_id or o.parent_id not in orgs), key=lambda o: o.id)
    span = store.date_range()
    latest = from_ordinal(span[1]) if span else "no data yet"
    return HTMLResponse(home_page(roots, who=f"{who.name} ({who.role})", latest=str(latest)))
