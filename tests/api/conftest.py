"""Fixtures for the Python API tests: isolated data/config dirs, a setup for the tiny model, and
one Reranker loaded once and shared (loading the real Qwen tokenizer costs seconds)."""

from __future__ import annotations

import os

import pytest



@pytest.fixture(autouse=True)
def api_env(tmp_path, monkeypatch) -> dict[str, str]:
    """Own data and config dirs; no WORKBENCH_* of the user's leaks in. Returns the environment."""
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "wb-data"))
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "wb-config"))
    for key in list(os.environ):
        if key.startswith("WORKBENCH_") and key not in ("WORKBENCH_DATA_DIR", "WORKBENCH_CONFIG_DIR"):
            monkeypatch.delenv(key)
    return dict(os.environ)


@pytest.fixture(scope="session")
def tiny_setup(tiny_model_dir) -> dict:
    """A setup that chunks the test documents into several pieces and averages the best two."""
    return {"model": str(tiny_model_dir), "instruction": "Find the retention rules", "chunk_tokens": 24,
            "chunk_overlap": 4, "aggregate": "topk", "top_k": 2}


@pytest.fixture(scope="session")
def tiny_reranker(tiny_setup):
    import workbench

    return workbench.load_setup(tiny_setup, eager=True)
