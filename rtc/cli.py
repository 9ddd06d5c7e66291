"""The ``rtc`` command line. Commands are thin: parse, call one function in
``loaders``/``queries``/``viz``, print (a rich table, or JSON with ``--json``). Each group lives
in a module of ``rtc.commands``; importing them registers their commands, in this order."""

from __future__ import annotations

import atexit
import copy
import gc
import importlib
import logging
import os
import sys

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.markup import escape

from graph.errors import NotFound, RtcError
from rtc import common
from rtc.common import err

# Each command's module, in the order of --help. A one-shot command imports its module only
# and builds only its own click command (typer builds every registered one at each call).
COMMANDS = {
    **dict.fromkeys(("generate", "load", "stats", "export", "migrate"), "data"),
    **dict.fromkeys(("holders", "career", "accountability"), "lookups"),
    **dict.fromkeys(("fades", "pressure"), "pressure"),
    **dict.fromkeys(("findings", "scorecard"), "findings"),
    **dict.fromkeys(("scheme", "score", "alerts", "report"), "indicators"),
    **dict.fromkeys(("view",), "views"),
    **dict.fromkeys(("keys", "serve"), "service"),
    **dict.fromkeys(("demo",), "demo"),
}

__all__ = ["COMMANDS", "main", "register"]  # and ``app``: every command, imported on first use


def register(command: str | None = None) -> typer.Typer:
    """The app with every command (``None``), or with ``command`` alone."""
    if command not in COMMANDS:
        for module in dict.fromkeys(COMMANDS.values()):
            importlib.import_module(f"rtc.commands.{module}")
        return common.app
    importlib.import_module(f"rtc.commands.{COMMANDS[command]}")
    app = copy.copy(common.app)  # the shared one keeps every command
    app.registered_commands = [c for c in app.registered_commands if c.name == command]
    app.registered_groups = [g for g in app.registered_groups if g.name == command]
    return app


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # every command, for tests and tools that drive the app
        return register()
    raise AttributeError(name)


def _run(args: list[str]) -> None:
    asked = next((a for a in args if not a.startswith("-")), None)
    register(asked)()


def main() -> None:
    """The entry point. Commands map rtc's own errors (``rtc.common.fail``); here are those
    raised outside a command (settings), and a bug, as one line (``RTC_DEBUG=1``: the traceback)."""
    # What the imports made lives as long as the process: frozen, no collection scans it again
    # (a one-shot command spent ~25 ms in one), nor at exit (~60 ms; atexit runs this one last).
    gc.freeze()
    atexit.register(gc.freeze)
    logging.getLogger("rtc").addHandler(common.Notes(logging.INFO))
    try:
        _run(sys.argv[1:])
    except NotFound as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        sys.exit(1)
    except RtcError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        sys.exit(2)
    except ValidationError as exc:  # a setting from the environment that is not of its type
        first = exc.errors()[0]
        name = "RTC_" + "_".join(str(p) for p in first["loc"]).upper()
        err.print(f"[red]error:[/] setting {name}: {escape(first['msg'])} (value {first.get('input')!r})")
        sys.exit(2)
    except SettingsError as exc:  # a setting that must be JSON and is not
        err.print(f"[red]error:[/] {escape(str(exc))}: give it as JSON (see README, Configuration)")
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("RTC_DEBUG"):
            raise
        err.print(
            f"[red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))}. This is a bug in rtc; "
            "run again with RTC_DEBUG=1 to see where, and report it"
        )
        sys.exit(3)


if __name__ == "__main__":
    main()
