"""Working folders of a streamed load, in the system's temporary folder.

A load killed with SIGKILL cannot remove its own (a nation's holds gigabytes), so each folder
holds an owner file, flock'd for the folder's life (forked helpers inherit the lock), and
every new folder is made after removing those whose owner is gone.
"""

from __future__ import annotations

import fcntl
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType

OWNER = ".owner"
# Between making a folder and locking its owner file, a folder looks abandoned: one this
# young is left alone.
WORK_DIR_GRACE = 5.0


class WorkDir:
    """A temporary folder named ``prefix...``, removed by ``close`` or by the next load once
    this process is gone."""

    def __init__(self, prefix: str) -> None:
        sweep(prefix)
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self.owner = open(self.path / OWNER, "w")  # noqa: SIM115 - held open for the lock
        fcntl.flock(self.owner.fileno(), fcntl.LOCK_EX)

    def close(self) -> None:
        remove(self.path)
        self.owner.close()

    def __enter__(self) -> WorkDir:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def sweep(prefix: str) -> None:
    """Remove the folders named ``prefix...`` whose owner file nobody holds."""
    for path in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            if time.time() - path.stat().st_mtime < WORK_DIR_GRACE:
                continue
            with open(path / OWNER) as owner:  # none: not made by this module, not ours to remove
                fcntl.flock(owner.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                remove(path)
        except OSError:  # held by a running load, or removed meanwhile
            continue


def remove(path: Path) -> None:
    """Remove a working folder, its owner file last: a load killed meanwhile leaves a folder
    that still has one, which the next load's sweep removes."""
    try:
        children = list(path.iterdir())
    except OSError:  # removed meanwhile
        return
    for child in children:
        if child.name != OWNER:
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
    shutil.rmtree(path, ignore_errors=True)
