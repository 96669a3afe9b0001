"""End to end in a real terminal: the installed program in tmux, driven by keys, read off the screen."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid

import pytest
from ui_helpers import BACKUPS, ESPRESSO, MARS

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_screen(session: str, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = screen(session)
        if text in shown:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen(session)}")


def test_the_real_program_in_tmux(tiny_model_dir, tmp_path):
    for name, text in (("espresso.md", ESPRESSO), ("mars.md", MARS), ("backups.txt", BACKUPS)):
        (tmp_path / name).write_text(text)
    session = f"wb-test-{uuid.uuid4().hex[:8]}"
    env = {
        "HF_HUB_OFFLINE": "1",
        "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
        "WORKBENCH_CONFIG_DIR": str(tmp_path / "config"),
        "WORKBENCH_CHUNK_TOKENS": "48",
        "WORKBENCH_CHUNK_OVERLAP": "8",
        "TERM": "screen-256color",
    }
    command = f"{sys.executable} -m workbench.cli --model {tiny_model_dir} {tmp_path}"
    args = ["new-session", "-d", "-s", session, "-x", "100", "-y", "30"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    tmux(*args, command)
    try:
        wait_screen(session, "tiny-qwen3", timeout=90)  # the status bar: model loaded
        tmux("send-keys", "-t", session, "-l", "how fine should the grind be")
        shown = wait_screen(session, "Ranked 3 documents", timeout=60)
        assert "espresso.md" in shown and "OFFLINE FALLBACK" not in shown
        tmux("send-keys", "-t", session, "F3")
        tmux("send-keys", "-t", session, "Right")
        shown = wait_screen(session, "chunk #0 of")
        assert "not scored yet" in shown  # the legend
        tmux("send-keys", "-t", session, "F1")
        wait_screen(session, "Keys (escape closes)")
        tmux("send-keys", "-t", session, "Escape")
        time.sleep(0.3)
        tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 20
        while session in tmux("list-sessions", "-F", "#{session_name}") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert session not in tmux("list-sessions", "-F", "#{session_name}"), "ctrl+q did not quit"
    finally:
        tmux("kill-session", "-t", session)
    # Quitting loses no logged work: the ranking typed above is in the run log, complete.
    from workbench.store import RunLog, open_store

    with open_store(tmp_path / "data" / "workbench.db") as store:
        runs = RunLog(store).history_page()
    done = [r for r in runs if r.status == "done"]
    assert done and done[0].query == "how fine should the grind be"
