"""The errors rtc raises on purpose, one hierarchy (as networkx's ``exception.py``): callers
catch a meaning, not ``KeyError``. The API maps each to a status once (``api.errors``) and
the CLI to an exit code once (``rtc.cli``); anything else that escapes is a bug (500, a
traceback in the log)."""

from __future__ import annotations


class RtcError(Exception):
    """Base of every error rtc raises on purpose."""


class NotFound(RtcError, KeyError):
    """An id that is not in the store (or not in the caller's jurisdiction): HTTP 404, exit 1.

    A ``KeyError`` too, for callers written before this hierarchy."""

    def __str__(self) -> str:  # KeyError's own would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidInput(RtcError, ValueError):
    """A value the caller gave that cannot be used (a date, a window, a category): HTTP 422, exit 2."""


class StoreError(RtcError, RuntimeError):
    """A store could not be opened, read or written; the message names the URL: HTTP 503, exit 2."""


class StoreBusy(StoreError):
    """Another import held the store longer than this one would wait (``LOCK_WAIT_SECONDS``)."""
