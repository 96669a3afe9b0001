"""Engine fixtures: the tiny reranker loaded once through the same code users run."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir):
    from device_under_test import load_options
    from workbench.engine.loading import load_scorer

    return load_scorer(load_options(model=str(tiny_model_dir)))


@pytest.fixture(scope="session")
def tiny_hf(tiny_model_dir):
    """The same tiny model loaded plainly with transformers, for the official reference."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    return model, tokenizer
