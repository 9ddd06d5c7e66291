"""Dates as real sources write them (docs/input-format.md, "Dates"), read into the stored
form: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, keeping the precision given.

``read_date`` says which form a value had, so that a load can report how many of each it
read. A value that says "unknown" is read as empty; one that says "still in office" is read
as an open end, and only an end may say it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from graph.errors import InvalidInput
from graph.model import PDate

# The forms, by the name the load report gives them.
ISO = "YYYY[-MM[-DD]]"
MONTH_UNKNOWN = "YYYY-00 (month unknown)"
DAY_UNKNOWN = "YYYY-MM-00 (day unknown)"
DOTTED = "YYYY.MM[.DD]"
SLASHED = "YYYY/MM[/DD]"
CHINESE = "YYYY年MM月[DD日]"
COMPACT = "YYYYMM[DD]"
DAY_FIRST = "DD/MM/YYYY"
MONTH_FIRST = "MM/DD/YYYY"
UNKNOWN = "unknown (不详, 0000-00)"
STILL = "still in office (至今, 9999-99)"

# What a header may declare of its column's dates (``birth(DD/MM/YYYY)``): the two orders
# that cannot be told apart from the value alone.
DECLARED = {DAY_FIRST: DAY_FIRST, "DD.MM.YYYY": DAY_FIRST, MONTH_FIRST: MONTH_FIRST}

_UNKNOWN_WORDS = {"不详", "未知", "不明", "待查", "unknown", "n/a", "na", "-", "—", "--", "?", "？"}
_STILL_WORDS = {"至今", "今", "现在", "现任", "在任", "present", "now", "current"}
_SEPARATED = re.compile(r"^(\d{4})([-./])(\d{1,2})(?:\2(\d{1,2}))?$")
_CHINESE = re.compile(r"^(\d{4})\s*年\s*(?:(\d{1,2})\s*月\s*(?:(\d{1,2})\s*[日号]?)?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_YEAR = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class ReadDate:
    """A value read: its stored text (None: unknown, or an open end) and its form."""

    text: str | None
    form: str

    @property
    def still_in_office(self) -> bool:
        return self.form == STILL


@lru_cache(maxsize=1 << 16)
def read_date(value: str, declared: str | None = None) -> ReadDate:
    """Read one date value; ``declared``: the order a header declared (``DECLARED``).

    Raises
    ------
    InvalidInput
        The value is no date in any form read here (the message lists them), or names a day
        that does not exist.
    """
    text = value.strip()
    low = text.lower()
    if low in _UNKNOWN_WORDS or re.fullmatch(r"0{4}(?:[-./]0{1,2}){0,2}", text):
        return ReadDate(None, UNKNOWN)
    if low in _STILL_WORDS or re.fullmatch(r"9{4}(?:[-./]9{1,2}){0,2}", text):
        return ReadDate(None, STILL)
    if _YEAR.match(text):
        return ReadDate(_checked(text), ISO)
    if m := _SEPARATED.match(text):
        year, sep, month, day = m[1], m[2], m[3], m[4]
        form = {"-": ISO, ".": DOTTED, "/": SLASHED}[sep]
        if sep == "-" and len(month) == 2 and (day is None or len(day) == 2) and month != "00" and day != "00":
            return ReadDate(_checked(text), ISO)
        if month in ("0", "00"):
            if day not in (None, "0", "00"):
                raise InvalidInput(f"not a date: {text!r} has a day but no month")
            return ReadDate(_checked(year), MONTH_UNKNOWN if sep == "-" else form)
        if day in ("0", "00"):
            return ReadDate(_checked(f"{year}-{int(month):02d}"), DAY_UNKNOWN if sep == "-" else form)
        return ReadDate(_ymd(year, month, day), form)
    if m := _CHINESE.match(text):
        return ReadDate(_ymd(m[1], m[2], m[3]), CHINESE)
    if m := _COMPACT.match(text):
        return ReadDate(_ymd(m[1], m[2], m[3]), COMPACT)
    if m := _DAY_MONTH.match(text):
        if declared is None:
            raise InvalidInput(
                f"not a date: {text!r} could be day/month/year or month/day/year; declare the order in "
                "the column's header, e.g. start(DD/MM/YYYY)"
            )
        day, month = (m[1], m[2]) if declared == DAY_FIRST else (m[2], m[1])
        return ReadDate(_ymd(m[3], month, day), declared)
    raise InvalidInput(
        f"not a date: {text!r}; rtc reads YYYY, YYYY-MM, YYYY-MM-DD, YYYY.MM, YYYY/MM/DD, YYYY年MM月DD日, "
        "YYYYMM, YYYYMMDD, YYYY-00 (month unknown), 不详 or 0000-00 (unknown), 至今 or 9999-99 (still in office)"
    )


def _ymd(year: str, month: str | None, day: str | None) -> str:
    text = (
        year
        if month is None
        else f"{year}-{int(month):02d}"
        if day is None
        else f"{year}-{int(month):02d}-{int(day):02d}"
    )
    return _checked(text)


def _checked(text: str) -> str:
    """``text`` if it names a real day, month or year (PDate says why not)."""
    return PDate(text).text


def declared_order(suffix: str) -> str | None:
    """The date order a header's suffix declares (``DD/MM/YYYY``), if it declares one."""
    return DECLARED.get(suffix.strip().upper().replace(" ", ""))


def last_day(date: str) -> int:
    """The ordinal of the last day a date of its precision may mean (``2004``: 2004-12-31)."""
    return PDate(date).last_ordinal
