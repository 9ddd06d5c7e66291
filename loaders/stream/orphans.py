"""Processes a streamed load forks end with it: one killed with SIGKILL must not leave them
running, holding the import lock and the working folder they inherited."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # prctl(2), Linux


def die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux). Elsewhere ``orphaned``,
    called while it works or waits, notices."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    orphaned(parent)  # the parent may have died before the call


def orphaned(parent: int) -> None:
    """End this process if ``parent`` is gone."""
    if os.getppid() != parent:
        os._exit(1)  # nothing of its own to clean: the load's folders are swept by the next load
