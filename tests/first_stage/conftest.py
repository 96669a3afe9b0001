"""Fixtures for the first-stage tests: isolated data/config dirs, the tiny reranker loaded once,
and a small corpus on disk whose documents share few words, so BM25's order is clear."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from first_stage_docs import DOCS


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Never the user's data or config directories; no hub; wide rich tables."""
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "wb-data"))
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "wb-config"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COLUMNS", "200")
    for key in list(os.environ):  # a user's WORKBENCH_MODEL etc. must not leak into the tests
        if key.startswith("WORKBENCH_") and key not in ("WORKBENCH_DATA_DIR", "WORKBENCH_CONFIG_DIR"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir):
    from workbench.engine.loading import LoadOptions, load_scorer

    return load_scorer(LoadOptions(model=str(tiny_model_dir)))


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root
