"""What the commands share: the app, the consoles, the options, the store they open."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.config import get_settings, open_configured_store
from graph.errors import NotFound, RtcError
from graph.store import Store
from queries import lookups
from queries.serialize import jsonable
from queries.window import default_window

if TYPE_CHECKING:
    from queries.pressure import Pressure

_Command = TypeVar("_Command", bound=Callable[..., Any])

console = Console()
err = Console(stderr=True)


class Notes(logging.Handler):
    """What the store tells as it works (``rtc.store``: an older store's indexes made at its
    first open), as a note on stderr: stdout keeps the answer, or the JSON asked for."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"[yellow]note[/] {escape(record.getMessage())}")


def fail(exc: RtcError) -> typer.Exit:
    """An rtc error as one line on stderr and the exit code of its kind (1: an id not found;
    2: input, a setting or the store)."""
    err.print(f"[red]error:[/] {escape(str(exc))}")
    return typer.Exit(1 if isinstance(exc, NotFound) else 2)


def _mapped(command: _Command) -> _Command:
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RtcError as exc:
            raise fail(exc) from None

    return run  # type: ignore[return-value]


class App(typer.Typer):
    """A Typer whose every command maps rtc's errors once (``fail``): commands raise them. Its
    help is click's plain one: typer's rich help prints a type after every flag
    (``--dry-run <bool>``), which reads as if the flag took a value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rich_markup_mode", None)
        super().__init__(*args, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[_Command], _Command]:
        register = super().command(*args, **kwargs)

        def decorator(command: _Command) -> _Command:
            register(_mapped(command))
            return command

        return decorator


app = App(
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Responsibility transmission chain: where supervision pressure fades, who is accountable.",
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"rtc {version('rtc')}")
        except PackageNotFoundError:
            print("rtc (not installed: run pip install -e .)")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    """Responsibility transmission chain: where supervision pressure fades, who is accountable."""


StoreOpt = Annotated[str | None, typer.Option("--store", help="Store URL (default: setting RTC_STORE)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


@contextmanager
def _store(url: str | None, *, create: bool = False) -> Iterator[Store]:
    """The store at ``url`` for one command; only a command that writes (``create``) makes one."""
    store = open_configured_store(url, create=create)
    try:
        yield store
    finally:
        store.close()


def _emit(data: Any) -> None:
    print(json.dumps(jsonable(data), ensure_ascii=False, indent=2))


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    # every cell is data: a date form "YYYY/MM[/DD]" or a title "[代]" is not rich markup
    table = Table(title=escape(title), title_justify="left")
    cells = [[human(v) for v in r] for r in rows]
    for i, c in enumerate(columns):
        # a cut cell ("portfol…") hides what it says: long cells wrap; a column of short cells (a
        # role, a movement, a count) keeps them whole
        longest = max((cell_len(line) for row in cells if i < len(row) for line in row[i].split("\n")), default=0)
        table.add_column(escape(c), overflow="fold", min_width=longest if 0 < longest <= WHOLE_WORD else None)
    for r in cells:
        table.add_row(*(escape(v) for v in r))
    return table


def human(value: Any) -> str:
    """A value as a person reads it: no Python repr (``{'from': ...}``, ``['a']``, ``True``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {human(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(human(v) for v in value) or "none"
    return str(value)


WHOLE_WORD = 14  # the longest cell a column keeps on one line ("supervisory +1"; longer ones wrap)


def print_notices(notices: list[Any]) -> None:
    """Under a table: what the answer rests on that the data does not hold."""
    for n in notices:
        console.print(f"[yellow]note[/] {n.code}: {escape(n.message)}")


def a_date(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """An option's callback: a date that cannot be read is an error naming the option, before
    the command runs (``--as-of: not a date: '2022-13-01' (month must be in 1..12)``)."""
    if value is None:
        return None
    try:
        lookups.as_ordinal(value)
    except ValueError as exc:
        err.print(f"[red]error:[/] {escape((param.opts or [str(param.name)])[0])}: {escape(str(exc))}")
        raise typer.Exit(2) from None
    return value


FromOpt = Annotated[
    str | None,
    typer.Option("--from", help="Window start (default: last full year in the data)", callback=a_date),
]
ToOpt = Annotated[str | None, typer.Option("--to", help="Window end, exclusive", callback=a_date)]
CategoryOpt = Annotated[str | None, typer.Option("--category", help="Only this duty category")]


def _pressure(s: Store, start: str | None, end: str | None, category: str | None) -> Pressure:
    from queries import pressure  # not imported by the commands that do not show it

    window = default_window(s, start, end)
    return pressure.pressure(s, window, category=category, weights=get_settings().weights)
