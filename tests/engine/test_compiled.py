"""The compiled forward (compiled.py) is an optimisation only: same scores as the eager pass, a
bounded set of shapes to compile, and a compile that fails costs one warning, never a run."""

from __future__ import annotations

import logging
import random
import shutil

import pytest
import torch

from workbench.engine.batching import plan_batches
from workbench.engine.compiled import HEAD_STEP, bucket_shape, pad_rows
from workbench.engine.reranker import Qwen3Reranker
from workbench.engine.shared_prefix import SharedPrefix

QUERY = "How do I rotate the backup encryption key?"
INSTR = "Given a web search query, retrieve relevant passages that answer the query"
# Documents of 1 to ~90 tokens. With the shared head and a budget of 300 tokens: a batch of 3
# rows (87 tokens -> 96 wide) and one of 9 (-> 10 rows, one of them a dummy); without the head,
# one batch of 12 rows (151 -> 160 wide). Few shapes: each costs a compile.
TEXTS = [
    "Backups are encrypted with a key kept in the vault. " * 3,
    "The cafeteria opens at eight. Lunch is served from noon until two. " * 5,
    "x",
    "To rotate it, run `backup rotate-key`.",
    "Disk quotas are per team.",
    "短文档：备份密钥每九十天轮换一次。",
    "Keys rotate every ninety days.",
    "Ask the storage group.",
    "The vault is audited yearly.",
    "Re-run the nightly job.",
    "Archives are re-encrypted.",
    "Keys live in the vault.",
]


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    yield
    torch._dynamo.reset()  # drop this test's graphs: later tests compile from scratch


def _scorer(tiny_scorer, backend=None, budget=300) -> Qwen3Reranker:
    scorer = Qwen3Reranker(tiny_scorer.model, tiny_scorer.tokenizer, tiny_scorer.info, token_budget=budget)
    if backend is not None:
        scorer.compile, scorer.compile_backend = True, backend
    return scorer


def _logits(scorer, share: bool = True) -> list[float]:
    scorer.share_prefix = share
    prompts = scorer.build_prompts(INSTR, QUERY, TEXTS)
    out = [float("nan")] * len(prompts)
    for batch in scorer.score_prompts(prompts):
        for i, value in batch:
            out[i] = value
    return out


# ------------------------------------------------------------------------------------- buckets


def test_bucketing_bounds_the_shapes_a_run_compiles():
    """Random workloads planned as the engine plans them: thousands of distinct batch shapes
    fall on a fixed grid of a few hundred (24 row counts up to 128, 29 widths up to 2048), each
    at most a quarter wider and a quarter more rows."""
    rng = random.Random(0)
    raw, bucketed = set(), set()
    for _ in range(300):
        lengths = [rng.randint(1, rng.choice([64, 512, 2048])) for _ in range(rng.randint(1, 200))]
        budget = rng.choice([160, 1170, 4096, 32768])
        for batch in plan_batches(lengths, budget, rng.choice([8, 32, 1024, None])):
            rows, width = len(batch), max(lengths[i] for i in batch)
            n, w = bucket_shape(rows, width)
            assert rows <= n <= rows * 1.25 and width <= w <= max(width * 1.25, 16)
            raw.add((rows, width))
            bucketed.add((n, w))
    assert len(raw) > 4000
    assert len({n for n, _ in bucketed}) <= 24 and len({w for _, w in bucketed}) <= 29
    assert len(bucketed) < len(raw) / 10


@pytest.mark.parametrize("share", [True, False])
def test_padding_rows_and_width_changes_no_real_row(tiny_scorer, share):
    """Dummy rows and extra width on the right leave the real rows' last hidden states alone
    (eager, so this holds whatever torch.compile does)."""
    backbone, device = tiny_scorer.backbone, tiny_scorer.device
    rng = random.Random(1)
    rows = [tuple(rng.randrange(1000, 150000) for _ in range(n)) for n in (37, 5, 20)]
    head_ids = [rng.randrange(1000, 150000) for _ in range(2 * HEAD_STEP)]
    head = SharedPrefix(backbone, head_ids, device) if share else None

    def last_hidden(n_rows, width):
        ids, last = pad_rows(rows, tiny_scorer.pad_id, n_rows, width)
        extra = head.forward_kwargs(n_rows) if head is not None else {}
        with torch.inference_mode():
            hidden = backbone(input_ids=ids, use_cache=False, **extra).last_hidden_state
        return hidden[torch.arange(n_rows), last][: len(rows)]

    exact = last_hidden(3, 37)
    for n_rows, width in [bucket_shape(3, 37), (8, 64), (3, 160)]:
        assert torch.allclose(last_hidden(n_rows, width), exact, atol=1e-5, rtol=0)


# ------------------------------------------------------------------------------ compiled scores


@pytest.mark.parametrize("share", [True, False])
def test_compiled_scores_equal_eager_scores(tiny_scorer, share):
    """aot_eager needs no C compiler, so the bucketing and the head's cache through dynamo are
    exercised on every machine."""
    budget = 300 if share else 4096
    expected = _logits(_scorer(tiny_scorer, budget=budget), share)
    compiled = _scorer(tiny_scorer, "aot_eager", budget)
    got = _logits(compiled, share)
    assert got == pytest.approx(expected, abs=1e-5)
    assert compiled.compile and compiled.compile_off_reason is None
    shapes = compiled._compiled.shapes
    assert len(shapes) == (2 if share else 1)
    assert all(head % HEAD_STEP == 0 and (head > 0) == share for _, _, head in shapes)


@pytest.mark.skipif(not (shutil.which("c++") or shutil.which("g++")), reason="inductor on a CPU needs a C++ compiler")
def test_inductor_scores_equal_eager_scores(tiny_scorer):
    """The real code generator (what `compile` uses by default), shared head on. One shape (12
    rows, the default budget): an inductor compile takes 20-40 s on a 2-core CPU, cold."""
    scorer = _scorer(tiny_scorer, budget=4096)
    expected = _logits(scorer)
    scorer.compile = True
    got = _logits(scorer)
    assert got == pytest.approx(expected, abs=1e-5)
    assert scorer.compile and scorer.compile_off_reason is None and len(scorer._compiled.shapes) == 1


def test_a_compile_that_fails_scores_eagerly_with_one_warning(tiny_scorer, caplog):
    def broken_backend(graph, example_inputs):
        raise RuntimeError("no C compiler found")

    expected = _logits(_scorer(tiny_scorer))
    scorer = _scorer(tiny_scorer, broken_backend)
    with caplog.at_level(logging.WARNING, logger="workbench.engine.compiled"):
        first = _logits(scorer)
        second = _logits(scorer)
    assert first == pytest.approx(expected, abs=1e-5) and second == pytest.approx(expected, abs=1e-5)
    warnings = [r for r in caplog.records if "compiled forward unavailable" in r.getMessage()]
    assert len(warnings) == 1 and "no C compiler found" in warnings[0].getMessage()
    assert not scorer.compile


def test_a_new_shape_says_it_is_compiling_while_it_compiles(tiny_scorer):
    """A first call of a shape takes seconds to minutes; the status line can say why (the app
    reads `activity` while the batch runs). Seen from inside the compile itself."""
    seen = []

    def watching_backend(graph, example_inputs):
        seen.append(scorer.activity())
        return graph.forward

    scorer = _scorer(tiny_scorer, watching_backend)
    assert scorer.activity() is None
    _logits(scorer)
    named = {f"({rows} rows x {width} tokens)" for rows, width, _ in scorer._compiled.shapes}
    assert len(seen) == len(named) == 2
    assert all(s.startswith("compiling a new batch shape (") for s in seen)
    assert {s[s.index("("): s.index(")") + 1] for s in seen} == named
    assert scorer.activity() is None  # done: just scoring again
    seen.clear()
    _logits(scorer)  # the same shapes: nothing compiles, nothing is said
    assert seen == [] and scorer.activity() is None
