"""One trainer per run folder.

Two ``ssn train`` processes writing one folder overwrite each other's checkpoints, so the
first takes an exclusive lock on ``run_dir/.lock`` and holds it until it ends; a second one
is refused with a message naming the holder (pid, host, start time). The lock is an
``fcntl.flock`` on an open file, so the operating system releases it when its process dies,
even by ``kill -9``: a crashed run never leaves a stale lock. (On a system without ``fcntl``
the lock is skipped with a warning.) The processes of one ``torchrun`` job share one lock,
taken by rank 0, the only one that writes.
"""

from __future__ import annotations

import datetime
import os
import socket
import warnings
from pathlib import Path

from ssnlib.errors import SSNError

LOCK_NAME = ".lock"
_HELD: dict[Path, tuple[int, int]] = {}         # path -> (fd, holders in this process)


class RunLockedError(SSNError, RuntimeError):
    """Another live process trains in this run folder."""


def lock_run_dir(run_dir: str | Path) -> Path | None:
    """Lock ``run_dir`` for this process (re-entrant within it); returns the lock path, to be
    given to :func:`unlock_run_dir`, or None where locks are not supported."""
    try:
        import fcntl
    except ImportError:                         # pragma: no cover - not POSIX
        warnings.warn("no fcntl: the run folder is not locked against a second trainer",
                      stacklevel=2)
        return None
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = (run_dir / LOCK_NAME).resolve()
    if path in _HELD:
        fd, count = _HELD[path]
        _HELD[path] = (fd, count + 1)
        return path
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunLockedError(f"{run_dir} is in use by another training run ({holder}); wait "
                             f"for it to end, stop it, or choose another run_dir=") from None
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n".encode(), 0)
    _HELD[path] = (fd, 1)
    return path


def unlock_run_dir(path: Path | None) -> None:
    """Release one hold of a lock taken by :func:`lock_run_dir` (the file stays; only the
    lock matters)."""
    if path is None or path not in _HELD:
        return
    fd, count = _HELD.pop(path)
    if count > 1:
        _HELD[path] = (fd, count - 1)
        return
    os.close(fd)                                # closing releases the flock
