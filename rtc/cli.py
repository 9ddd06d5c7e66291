"""The ``rtc`` command line. Commands are thin: parse, call one function in
``loaders``/``queries``/``viz``, print (a rich table, or JSON with ``--json``). Each group lives
in a module of ``rtc.commands``; importing them registers their commands, in this order."""

from __future__ import annotations

import os
import sys

from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.markup import escape

from graph.errors import NotFound, RtcError

# The order of these imports is the order of the commands in --help.
# isort: off
from rtc.commands import data, lookups, pressure, findings, indicators, views, service, demo  # noqa: F401

# isort: on
from rtc.common import app, err

__all__ = ["app", "main"]


def main() -> None:
    """The entry point. Commands map rtc's own errors (``rtc.common.fail``); here are those
    raised outside a command (settings), and a bug, as one line (``RTC_DEBUG=1``: the traceback)."""
    try:
        app()
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
