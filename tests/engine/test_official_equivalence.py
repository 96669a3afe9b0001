"""With chunking off, the engine must feed the model the official snippet's exact ids and return
its scores, whatever the batch size or order of the documents."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from official_reference import _encode_batch, format_instruction, official_logit_diffs, official_scores
from workbench.engine.ranking import Ranker
from workbench.engine.reranker import Qwen3Reranker
from workbench.engine.types import ChunkSettings, Document

QUERY = "Which planet is known as the Red Planet?"
INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
DOCS = [
    "Venus is often called Earth's twin because of its similar size and proximity.",
    "Mars, known for its reddish appearance, is often referred to as the Red Planet.",
    "火星因其表面的氧化铁而呈红色，被称为红色星球。它有两颗小卫星。",
    "",
    "Saturn is famous for its rings. " * 60,  # over-long: truncated at a small max_length
    "Jupiter, the largest planet in our solar system, has a prominent red spot.\n\nIt has many moons.",
]


def _engine_scores(scorer, docs, token_budget=None):
    old = scorer.token_budget
    if token_budget:
        scorer.token_budget = token_budget
    try:
        ranker = Ranker(scorer)  # fresh in-memory cache: every pair is computed
        result = ranker.rank(QUERY, INSTRUCTION, [Document(str(i), d) for i, d in enumerate(docs)],
                             chunking=ChunkSettings(tokens=0))
    finally:
        scorer.token_budget = old
    by_id = {d.doc_id: d.chunks[0] for d in result.documents}
    return [by_id[str(i)] for i in range(len(docs))]


def test_prompt_ids_match_the_official_tokenisation(tiny_scorer, tiny_hf):
    _, tokenizer = tiny_hf
    for max_length in (8192, 256):
        scorer = Qwen3Reranker(tiny_scorer.model, tokenizer, replace(tiny_scorer.info, max_length=max_length))
        ours = scorer.build_prompts(INSTRUCTION, QUERY, DOCS)
        bodies = [format_instruction(INSTRUCTION, QUERY, d) for d in DOCS]
        for prompt, body in zip(ours, bodies):
            official = _encode_batch(tokenizer, [body], max_length)["input_ids"][0].tolist()
            assert list(prompt.ids) == official
    # The over-long document is cut at 256 tokens in total, and says so.
    assert ours[4].truncated and ours[4].tokens == 256
    assert not ours[1].truncated


@pytest.mark.parametrize("token_budget", [None, 300, 5000])
def test_scores_equal_the_official_way(tiny_scorer, tiny_hf, token_budget):
    model, tokenizer = tiny_hf
    # The official way materialises batch x length x 151669 logits: keep its batches small.
    expected = official_scores(model, tokenizer, INSTRUCTION, QUERY, DOCS, batch_size=2)
    got = _engine_scores(tiny_scorer, DOCS, token_budget)
    assert [c.score for c in got] == pytest.approx(expected, abs=1e-5)
    diffs = official_logit_diffs(model, tokenizer, INSTRUCTION, QUERY, DOCS, batch_size=2)
    assert [c.logit for c in got] == pytest.approx(diffs, abs=1e-4)


def test_order_and_batching_do_not_change_scores(tiny_scorer, tiny_hf):
    model, tokenizer = tiny_hf
    docs = DOCS[:4] + [d + " extra words" * i for i, d in enumerate(DOCS[:3])]
    expected = official_scores(model, tokenizer, INSTRUCTION, QUERY, docs, batch_size=1)
    rng = random.Random(7)
    for budget in (64, 700, None):
        order = list(range(len(docs)))
        rng.shuffle(order)
        got = _engine_scores(tiny_scorer, [docs[i] for i in order], budget)
        assert [c.score for c in got] == pytest.approx([expected[i] for i in order], abs=1e-5)


def test_truncation_is_reported_with_surviving_characters(tiny_model_dir, tiny_hf):
    from device_under_test import load_options
    from workbench.engine.loading import load_scorer

    scorer = load_scorer(load_options(model=str(tiny_model_dir), max_length=128))
    model, tokenizer = tiny_hf
    long_doc = DOCS[4]
    chunk = _engine_scores(scorer, [long_doc])[0]
    assert chunk.truncated and chunk.prompt_tokens == 128
    assert chunk.score == pytest.approx(official_scores(model, tokenizer, INSTRUCTION, QUERY, [long_doc], max_length=128)[0], abs=1e-5)
    prompt = scorer.build_prompts(INSTRUCTION, QUERY, [long_doc])[0]
    assert 0 < prompt.kept_chars < len(long_doc)
    assert long_doc.startswith("Saturn is famous")
    # The kept text is what the model saw: decoding the prompt shows it, and no more.
    assert long_doc[: prompt.kept_chars].strip()[-20:] in scorer.decode(prompt)


def test_reranker_class_is_what_loads(tiny_scorer):
    assert isinstance(tiny_scorer, Qwen3Reranker)
    assert tiny_scorer.info.kind == "qwen3-reranker" and not tiny_scorer.info.is_fallback
