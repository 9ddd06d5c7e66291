"""The ``rtc`` command line. Commands are thin: parse, call one function in
``loaders``/``queries``/``viz``, print (a rich table, or JSON with ``--json``). Each group lives
in a module of ``rtc.commands``; importing them registers their commands, in this order."""

from __future__ import annotations

import sys

from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.markup import escape

from graph.errors import NotFound, RtcError

# The order of these imports is the order of the commands in --help.
# isort: off
from rtc.commands import data, lookups, pressure, findings, views, service, demo  # noqa: F401

# isort: on
from rtc.common import app, err

__all__ = ["app", "main"]


def main() -> None:
    """The entry point: rtc's own errors are mapped to one line and an exit code here, once
    (1: an id not found; 2: input, a setting or the store), never a traceback."""
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


if __name__ == "__main__":
    main()
