"""`workbench score --backend URL`: the same ranking as the local model, through a server that
speaks vLLM's API; clear failures when the server is down or keeps failing."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.testing.protocol_server import ProtocolServer, VllmLikeModel

runner = CliRunner()


@pytest.fixture
def server(tiny_model_dir):
    score = VllmLikeModel.from_dir(tiny_model_dir)
    with ProtocolServer(score, model="Qwen/Qwen3-Reranker-0.6B", root=str(tiny_model_dir)) as s:
        yield s


def _score(*args):
    return runner.invoke(app, ["score", *map(str, args)])


def test_backend_ranks_like_the_local_model_and_says_which_server_answered(server, corpus, tiny_model_dir):
    common = ["-q", "when are the tides highest", corpus, "--chunk-tokens", "32", "--chunk-overlap", "4", "-f", "json"]
    remote = _score(*common, "--backend", server.url, "--model", tiny_model_dir)
    assert remote.exit_code == 0, remote.stderr
    local = _score(*common, "--model", tiny_model_dir)
    there, here = json.loads(remote.stdout), json.loads(local.stdout)
    assert there["model"]["backend"] == f"vllm 0.0.test at {server.url}"
    assert there["model"]["kind"] == "remote-reranker"
    assert [d["id"] for d in there["documents"]] == [d["id"] for d in here["documents"]]
    for a, b in zip(there["documents"], here["documents"]):
        assert [c["start"] for c in a["chunks"]] == [c["start"] for c in b["chunks"]]  # same chunks
        assert max(abs(x["score"] - y["score"]) for x, y in zip(a["chunks"], b["chunks"])) < 1e-5


def test_second_run_reads_the_persistent_cache_not_the_server(server, corpus, tiny_model_dir):
    args = ["-q", "tides", corpus, "--backend", server.url, "--model", tiny_model_dir, "-f", "json"]
    first = _score(*args)
    asked = server.documents_scored()
    second = _score(*args)
    assert first.exit_code == 0 and second.exit_code == 0, second.stderr
    assert server.documents_scored() == asked  # every pair came from the cache
    assert json.loads(second.stdout)["stats"]["cached"] == json.loads(first.stdout)["stats"]["pairs"]


def test_a_server_that_is_down_is_one_clear_line(corpus):
    result = _score("-q", "tides", corpus, "--backend", "http://127.0.0.1:9", "--model", "unused")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "cannot reach the rerank server at http://127.0.0.1:9 (connection refused)" in result.stderr


def test_a_server_that_keeps_failing_mid_run_is_a_clear_error(server, corpus, tiny_model_dir):
    server.faults = ["500"] * 100
    result = _score("-q", "tides", corpus, "--backend", server.url, "--model", tiny_model_dir)
    assert result.exit_code == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"rerank server failed: {server.url} answered 500" in result.stderr
    assert "gave up after 4 tries" in result.stderr


def test_a_bad_backend_address_is_a_usage_error(corpus):
    result = _score("-q", "tides", corpus, "--backend", "localhost:8000")
    assert result.exit_code == 2 and "--backend needs a server address like http://127.0.0.1:8000" in result.stderr
