"""The real `workbench` program in a real terminal (tmux), driven by keys as a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

DOCS = {
    "espresso.md": "Espresso extraction: grind finer when the shot runs fast and tastes sour.\n\n" * 3,
    "mars.md": "Mars is called the Red Planet because of the iron oxide dust on its surface.\n\n" * 3,
    "backup.md": "Rotate the backup key with bkctl key rotate, then verify the restore.\n\n" * 3,
}


def _screen(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def _wait_for(session: str, predicate, timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(session)
        if predicate(screen):
            return screen
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; the screen was:\n{screen}")


def test_type_a_query_and_read_the_ranking_off_the_screen(tmp_path, tiny_model_dir):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text)
    workbench = Path(sys.executable).with_name("workbench")
    session = f"wb-e2e-{os.getpid()}"
    env = {
        "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
        "WORKBENCH_CONFIG_DIR": str(tmp_path / "config"),
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm-256color",
    }
    command = " ".join(
        [f"{k}={v}" for k, v in env.items()] + [str(workbench), "--model", str(tiny_model_dir), str(docs)]
    )
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
    try:
        _wait_for(session, lambda s: "Type a query" in s, 90, "the model to load")
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", "red planet"], check=True)
        screen = _wait_for(session, lambda s: "last run" in s and "mars.md" in s, 90, "the ranking")
        assert all(name in screen for name in DOCS)  # every document is ranked on screen
        assert "red planet" in screen
        # The run was logged: quitting leaves it in the database.
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0:
            time.sleep(0.3)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    listed = subprocess.run(
        [str(workbench), "sessions", "list"], capture_output=True, text=True, env={**os.environ, **env}
    )
    assert listed.returncode == 0 and "1" in listed.stdout
