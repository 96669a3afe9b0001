"""Shared pytest fixtures.

Nothing in the test suite may touch the network (model hubs are unreachable here and in CI), so
the Hugging Face offline switches are set at import time: conftest.py is imported before any test
module imports transformers or huggingface_hub, which read these variables when first imported.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# The suite runs on the CPU on every machine: with a GPU visible, `--device auto` would load bf16
# there, and tolerances written for fp32 would fail on a user's GPU box for no fault of the code.
# WORKBENCH_TEST_DEVICE=cuda keeps the GPU visible for the engine's GPU run (device_under_test.py).
from device_under_test import DEVICE  # noqa: E402  (tests/ is on sys.path: its conftest's folder)

if DEVICE == "cpu":
    os.environ["CUDA_VISIBLE_DEVICES"] = ""

import pytest  # noqa: E402

# --------------------------------------------------------------------------------------------
# Real Qwen3 tokenizer and tiny random Qwen3 reranker (workbench.testing.tiny_qwen)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def qwen_tokenizer():
    """The real Qwen3 tokenizer rebuilt from dashscope's vocabulary. Shared: do not mutate it
    (use ``workbench.testing.tiny_qwen.new_qwen3_tokenizer()`` for a private copy)."""
    from workbench.testing.tiny_qwen import build_qwen3_tokenizer

    return build_qwen3_tokenizer()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A directory holding a tiny random Qwen3ForCausalLM (fp32, seed 0) plus the real tokenizer,
    loadable with AutoModelForCausalLM / AutoTokenizer.from_pretrained like a Hub checkpoint."""
    from workbench.testing.tiny_qwen import save_tiny_qwen3_reranker

    return save_tiny_qwen3_reranker(tmp_path_factory.mktemp("tiny-qwen3-reranker"))


# --------------------------------------------------------------------------------------------
# Engine / store / UI fixtures: add below, one section per area.
# --------------------------------------------------------------------------------------------


_LOADED: dict = {}


@pytest.fixture
def shared_scorer(monkeypatch):
    """Load each distinct model configuration once per test session.

    Parsing the real Qwen tokenizer costs ~3 s per load; every `score` invocation would pay it.
    Successful loads are memoised by their (frozen, hashable) LoadOptions; failures are not, so
    error paths (missing dir, --device cuda) still run the real loader every time. Subprocess
    tests load for real."""
    from workbench.engine import loading

    real = loading.load_scorer

    def load_once(options, progress=None):
        if options not in _LOADED:
            _LOADED[options] = real(options, progress)
        return _LOADED[options]

    monkeypatch.setattr(loading, "load_scorer", load_once)
    return load_once
