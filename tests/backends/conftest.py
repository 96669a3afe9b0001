"""Fixtures for tests against a real rerank server process (see real_server.py)."""

from __future__ import annotations

import pytest
from real_server import RunningServer, build_tiny_cross_encoder, infinity_server, require_server_env


@pytest.fixture(scope="session")
def server_env() -> None:
    """Skip before any model is built when .venv-server is missing (fail in CI)."""
    require_server_env()


@pytest.fixture(scope="session")
def cross_encoder_dir(tmp_path_factory):
    """A tiny random BERT cross-encoder with the real MiniLM tokenizer (what the server serves)."""
    return build_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-cross-encoder"))


@pytest.fixture(scope="session")
def rerank_server(server_env, cross_encoder_dir, tmp_path_factory) -> RunningServer:
    """Infinity serving `cross_encoder_dir` at http://127.0.0.1:<free port>, stopped at the end.
    Skips when .venv-server is missing (scripts/setup-test-server makes it)."""
    log = tmp_path_factory.mktemp("rerank-server") / "server.log"
    with infinity_server(cross_encoder_dir, log) as server:
        yield server
