"""Runs whose process died: a run left 'running' by a killed process is shown, and where the
database is writable marked, 'interrupted' the next time runs are listed or loaded.

A run records its writer (pid, host, and on Linux a token of the process). The writer is gone
only when that is certain: same host and pid namespace, and the pid is free, belongs to a newer
process, or the machine has rebooted since. Runs from other hosts, or without a writer (logged
before writers were recorded), stay 'running': nothing here can tell.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from functools import lru_cache

from workbench.store.database import Store
from workbench.store.errors import StoreError
from workbench.store.schema import WRITER_COLUMNS_VERSION


@dataclass(frozen=True)
class Writer:
    pid: int
    host: str
    process: str | None  # "<boot id> <pid namespace> <start time>", Linux only


def this_writer() -> Writer:
    pid = os.getpid()
    return Writer(pid, socket.gethostname(), _process_token(pid))


def writer_is_gone(writer: Writer) -> bool:
    """True only when the writer certainly no longer runs (see the module docstring)."""
    me = this_writer()
    if writer.host != me.host or sys.platform == "win32":  # os.kill(pid, 0) kills on Windows
        return False
    theirs, ours = _split(writer.process), _split(me.process)
    if theirs and ours:
        boot, namespace, _ = theirs
        if namespace != ours[1]:
            return False  # another container: its pids are not ours to look up
        if boot != ours[0]:
            return True  # rebooted since: every process of that boot is gone
    try:
        os.kill(writer.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, but another user's
    except OSError:
        return False
    stat = _proc_stat(writer.pid)
    if stat is None:
        return False
    state, started = stat
    if state == "Z":
        return True  # killed, not yet reaped by its parent
    return theirs is not None and started != theirs[2]  # the pid now belongs to a newer process


def interrupted_runs(store: Store) -> set[int]:
    """Ids of 'running' runs whose writer is gone; marked 'interrupted' when the store can write.

    Readers show the returned ids as interrupted whether or not the mark could be written (a
    read-only store, or one locked by another process past its timeout).
    """
    if store.schema_version < WRITER_COLUMNS_VERSION:
        return set()  # an old database read as it is: its runs record no writer
    with store.read() as db:
        rows = db.execute(
            "SELECT id, writer_pid, writer_host, writer_process FROM runs "
            "WHERE status = 'running' AND writer_pid IS NOT NULL"
        ).fetchall()
    gone = {run_id for run_id, *writer in rows if writer_is_gone(Writer(*writer))}
    if gone and not store.readonly:
        marks = ", ".join("?" * len(gone))
        try:
            with store.write() as db:
                db.execute(
                    f"UPDATE runs SET status = 'interrupted' WHERE status = 'running' AND id IN ({marks})",
                    sorted(gone),
                )
        except StoreError:
            pass  # shown as interrupted anyway; a later listing writes the mark
    return gone


def shown_status(run_id: int, status: str, gone: set[int]) -> str:
    return "interrupted" if status == "running" and run_id in gone else status


def _split(token: str | None) -> tuple[str, str, str] | None:
    parts = (token or "").split(" ")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def _process_token(pid: int) -> str | None:
    boot, namespace = _boot_and_namespace()
    stat = _proc_stat(pid)
    if boot is None or namespace is None or stat is None:
        return None
    return f"{boot} {namespace} {stat[1]}"


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) from /proc/<pid>/stat; None without /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # Fields 3 (state) and 22 (start time); the command name before them may hold spaces and
    # parentheses, so count from the last ')'.
    fields = stat.rpartition(")")[2].split()
    return (fields[0], fields[19]) if len(fields) > 19 else None


@lru_cache(maxsize=1)
def _boot_and_namespace() -> tuple[str | None, str | None]:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            boot = f.read().strip()
        namespace = os.readlink("/proc/self/ns/pid").replace(" ", "")
    except OSError:
        return None, None
    return boot, namespace
