"""The API service and its keys."""

from __future__ import annotations

from typing import Annotated

import typer

from core.config import get_settings
from rtc.common import (
    App,
    JsonOpt,
    StoreOpt,
    _emit,
    _table,
    app,
    console,
    err,
)

keys_app = App(help="API keys for `rtc serve` (only their hashes are stored).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Who the key is for")],
    role: Annotated[str, typer.Option(help="reader (all reads), loader (also imports) or admin")] = "reader",
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Limit the key to this organization's subtree (repeat for several); reads only"),
    ] = None,
) -> None:
    """Create an API key; it is printed once, and only its hash is kept (setting RTC_API_KEYS_FILE)."""
    from api.keys import add_key

    key = add_key(get_settings().api_keys_file, name, role, scope or ())
    print(key)
    err.print(f"key for {name!r} ({role}) stored as a hash in {get_settings().api_keys_file}; it is not shown again")


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """The stored keys: name, role and jurisdiction (the keys themselves are not kept)."""
    from api.keys import load_keys

    entries = [
        {"name": e["name"], "role": e["role"], "scope": e.get("scope", [])}
        for e in load_keys(get_settings().api_keys_file)
    ]
    if as_json:
        _emit(entries)
        return
    rows = [[e["name"], e["role"], "; ".join(e["scope"]) or "everything"] for e in entries]
    console.print(_table(f"API keys in {get_settings().api_keys_file}", ["name", "role", "scope"], rows))


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(metavar="NAME", help="The name the key was added under")]) -> None:
    """Remove a key; a serving API refuses it from its next request on."""
    from api.keys import revoke_key

    revoke_key(get_settings().api_keys_file, name)
    err.print(f"key {name!r} revoked in {get_settings().api_keys_file}")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes; on the embedded store they share the indexes the server builds once "
            '(docs/api.md, "Workers")',
        ),
    ] = 1,
    store: StoreOpt = None,
) -> None:
    """Serve the API (uvicorn). Every route but /health needs a key (rtc keys add)."""
    from api.serve import serve

    settings = get_settings()
    if store:
        settings = settings.model_copy(update={"store": store})
    serve(settings, host, port, workers)


# ---------------------------------------------------------------- the main job
