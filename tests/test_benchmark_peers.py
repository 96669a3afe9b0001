"""The engine benchmark's peers (benchmarks/peers.py) must compute what the engine computes, or
the benchmark compares speeds of different things: the official snippet's way and
sentence-transformers' CrossEncoder, texts in, give the engine's raw logits."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from workbench.engine.loading import LoadOptions
from workbench.engine.reranker import Qwen3Reranker

_spec = importlib.util.spec_from_file_location(
    "benchmark_peers", Path(__file__).resolve().parents[1] / "benchmarks" / "peers.py"
)
peers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peers)

MAX_LENGTH = 160  # small, so the long document below is cut
QUERY = "Which planet is known as the Red Planet?"
# Not the default instruction (a peer falling back to it would show), with characters that
# a template could mangle.
INSTRUCTION = 'Judge whether the passage names the "red" planet {exactly}; ignore \\ and 🪐'
DOCS = [
    "Venus is often called Earth's twin. " * 3,
    "",
    "Mercury is the smallest planet and the closest to the Sun. " * 30,  # over MAX_LENGTH
    "Mars, known for its reddish appearance, is often referred to as the Red Planet.",
    "火星因其表面的氧化铁而呈红色，被称为红色星球。",
]
LONG = 2


@pytest.fixture
def engine(shared_scorer, tiny_model_dir):
    scorer = shared_scorer(LoadOptions(model=str(tiny_model_dir)))
    return Qwen3Reranker(scorer.model, scorer.tokenizer, replace(scorer.info, max_length=MAX_LENGTH))


def _engine_logits(scorer: Qwen3Reranker) -> list[float]:
    prompts = scorer.build_prompts(INSTRUCTION, QUERY, DOCS)
    assert prompts[LONG].truncated and not prompts[0].truncated  # the cut really is exercised
    logits = [0.0] * len(prompts)
    for batch in scorer.score_prompts(prompts):
        for i, value in batch:
            logits[i] = value
    return logits


def test_official_snippet_peer_gives_the_engine_logits(engine):
    got = peers.official_logits(engine.model, engine.tokenizer, INSTRUCTION, QUERY, DOCS, 2, max_length=MAX_LENGTH)
    assert got.dtype == torch.float32
    assert got.tolist() == pytest.approx(_engine_logits(engine), abs=1e-4)


def test_cross_encoder_peer_gives_the_engine_logits(engine, tiny_model_dir):
    # In the lock (the `bench` extra); scripts/check-versions' environments may lack it.
    pytest.importorskip("sentence_transformers")
    ce = peers.load_cross_encoder(tiny_model_dir, INSTRUCTION, "cpu", torch.float32, max_length=MAX_LENGTH)
    got = peers.cross_encoder_logits(ce, QUERY, DOCS, batch_size=2)
    assert got.dtype == torch.float32
    assert got.tolist() == pytest.approx(_engine_logits(engine), abs=1e-4)


_measure_spec = importlib.util.spec_from_file_location(
    "benchmark_measure", Path(__file__).resolve().parents[1] / "benchmarks" / "support" / "measure.py"
)
measure = sys.modules["benchmark_measure"] = importlib.util.module_from_spec(_measure_spec)  # dataclasses look it up
_measure_spec.loader.exec_module(measure)


def test_work_count_is_what_each_method_computes(engine):
    """The benchmark splits a speed-up into less work and faster work: the work must be what ran."""
    tokens = [p.tokens for p in engine.build_prompts(INSTRUCTION, QUERY, DOCS)]
    layers = engine.model.config.num_hidden_layers

    official = measure.count_work(
        lambda: peers.official_logits(engine.model, engine.tokenizer, INSTRUCTION, QUERY, DOCS, 2, MAX_LENGTH),
        [engine.model],
    )
    padded = sum(len(b) * max(b) for b in (tokens[i : i + 2] for i in range(0, len(tokens), 2)))
    assert official.layer_tokens == layers * padded  # batches of two in the given order, left-padded
    assert official.vocab_rows == padded  # the whole vocabulary at every position

    engine.pass_per_core = False  # one batch: the count below is then simple to state
    ours = measure.count_work(lambda: _engine_logits(engine), [engine.model])
    shared = engine._shared_length(engine.build_prompts(INSTRUCTION, QUERY, DOCS))
    assert shared > 16
    assert ours.layer_tokens == layers * (shared + len(tokens) * max(t - shared for t in tokens))
    assert ours.vocab_rows == 0  # two rows of the head, taken by hand
    assert official.flops > 3 * ours.flops

    # The hooks are gone: timed runs carry none.
    assert not any(m._forward_pre_hooks for m in engine.model.modules())
