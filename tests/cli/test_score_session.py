"""`workbench score` through the session controller: --session, and settings from every source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import listed_sessions
from typer.testing import CliRunner

from workbench.cli import app
from workbench.engine.types import DEFAULT_CHUNK_TOKENS

pytestmark = pytest.mark.usefixtures("shared_scorer")

runner = CliRunner()


@pytest.fixture
def score(tiny_model_dir):
    def run(*args) -> dict:
        result = runner.invoke(app, ["score", *map(str, args), "--model", str(tiny_model_dir), "-f", "json"])
        assert result.exit_code == 0, f"{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout)

    return run


def sessions(db: Path) -> list[tuple[str, int]]:
    listed = runner.invoke(app, ["sessions", "list", "--db", str(db)])
    assert listed.exit_code == 0, listed.output
    return listed_sessions(listed.stdout)


def test_score_session_records_into_the_named_session(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    score(corpus, "-q", "capital of France", "--db", db, "--session", "tuning")
    score(corpus, "-q", "bread", "--db", db, "--session", "tuning")
    assert sessions(db) == [("tuning", 2)]

    score(corpus, "-q", "tides", "--db", db)  # no --session: a new session of its own
    listed = dict(sessions(db))
    assert listed.pop("tuning") == 2
    ((name, runs),) = listed.items()
    assert name.startswith("score ") and runs == 1


def test_score_session_with_no_log_records_nothing(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    score(corpus, "-q", "Paris", "--db", db, "--session", "tuning", "--no-log")
    assert sessions(db) == []


@pytest.mark.parametrize(
    ("in_config", "in_env", "flag", "expected"),
    [(None, None, None, DEFAULT_CHUNK_TOKENS), (64, None, None, 64), (64, 48, None, 48), (64, 48, 40, 40)],
)
def test_chunk_tokens_flag_over_env_over_config_over_default(
    score, long_doc, cli_env, monkeypatch, in_config, in_env, flag, expected
):
    if in_config is not None:
        path = Path(cli_env["WORKBENCH_CONFIG_DIR"]) / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"chunk_tokens = {in_config}\nchunk_overlap = 8\n", encoding="utf-8")
    if in_env is not None:
        monkeypatch.setenv("WORKBENCH_CHUNK_TOKENS", str(in_env))
    flags = ["--chunk-tokens", flag] if flag is not None else []
    out = score(long_doc, "-q", "tides", "--no-log", *flags)
    assert out["settings"]["chunk_tokens"] == expected
