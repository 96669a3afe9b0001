"""Calling code that might block forever opening a FIFO, so that a regression fails the test
instead of hanging the suite (pytest-timeout is not installed)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest


def release_fifo(fifo: Path) -> None:
    """Let a reader blocked opening `fifo` go: a writer that opens and closes it hands the reader
    an end-of-file. Does nothing when nobody is waiting to read it."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # ENXIO: no reader has it open
        return
    os.close(fd)


def call_within(seconds: float, fifo: Path, fn, *args, **kwargs):
    """fn(*args, **kwargs) on a thread; fail when it has not returned after `seconds`."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        release_fifo(fifo)
        thread.join(10)
        pytest.fail(f"still running after {seconds} s: it was blocked reading the FIFO {fifo}")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
