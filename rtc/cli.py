"""The ``rtc`` command line. Commands are thin: parse, call one function in
``loaders``/``queries``/``viz``, print (a rich table, or JSON with ``--json``). Each group lives
in a module of ``rtc.commands``; importing them registers their commands, in this order."""

from __future__ import annotations

import sys

from graph.store import StoreError

# The order of these imports is the order of the commands in --help.
# isort: off
from rtc.commands import data, lookups, pressure, findings, views, service, demo  # noqa: F401

# isort: on
from rtc.common import app, err

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except StoreError as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
