"""On a CPU with several torch threads the reranker runs its batches one per core, each
single-threaded (engine/core_pool.py), after a first small batch on every thread (the first rows
of a live run, at once). Faster; it must change no score, no order, and leave the caller's thread
count as it was."""

from __future__ import annotations

import threading

import pytest
import torch

from device_under_test import DEVICE
from workbench.engine.batching import spread
from workbench.engine.ranking import Ranker
from workbench.engine.types import ChunkSettings, Document

# Passes per core are how a CPU runs batches; a GPU runs each batch as one pass.
pytestmark = pytest.mark.skipif(DEVICE != "cpu", reason="CPU passes only")

QUERY = "How do I rotate the backup encryption key?"
INSTR = "Given a web search query, retrieve relevant passages that answer the query"
TEXT = (
    "Backups are encrypted with a key kept in the vault. To rotate it, run backup rotate-key and "
    "re-run the nightly job. The cafeteria opens at eight and lunch is served from noon. Disk "
    "quotas are per team; ask the storage group to raise one. Photosynthesis happens in leaves. "
)


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def watch_passes(scorer, monkeypatch) -> list:
    """Each forward pass, in the order they start: (thread name, torch threads it has, its tokens)."""
    where = []
    forward = scorer._forward

    def watched(rows, head=None):
        where.append((threading.current_thread().name, torch.get_num_threads(), len(rows) * max(map(len, rows))))
        return forward(rows, head)

    monkeypatch.setattr(scorer, "_forward", watched)
    return where


def _score_growing_texts(scorer, budget: int) -> list:
    """The batches of one scoring call over 12 texts of growing length (prompt i is longer than i-1)."""
    scorer.token_budget, old = budget, scorer.token_budget
    try:
        prompts = scorer.build_prompts(INSTR, QUERY, [TEXT[: 40 + 25 * i] for i in range(12)])
        return list(scorer.score_prompts(prompts))
    finally:
        scorer.token_budget = old


def _rank(scorer, per_core: bool, budget: int = 300):
    scorer.pass_per_core = per_core
    scorer.token_budget, old = budget, scorer.token_budget
    try:
        # Every sentence marked with its document and repetition: no chunk repeats another (a run
        # scores a repeated prompt once, and these tests need many batches).
        docs = [Document(id=f"d{i}", text="".join(TEXT.replace(". ", f" ({i}.{j}). ") for j in range(1 + i)))
                for i in range(4)]
        return Ranker(scorer).rank(QUERY, INSTR, docs, ChunkSettings(tokens=40, overlap=8))
    finally:
        scorer.token_budget = old
        scorer.pass_per_core = True


def test_batches_on_every_core_score_as_one_pass_at_a_time(tiny_scorer, two_threads, monkeypatch):
    one_at_a_time = _rank(tiny_scorer, per_core=False)
    where = watch_passes(tiny_scorer, monkeypatch)
    per_core = _rank(tiny_scorer, per_core=True)
    first, *rest = where
    assert first[:2] == (threading.current_thread().name, 2)  # the first batch on every thread...
    assert {name for name, _, _ in rest} == {"torch-core_0", "torch-core_1"}  # ...then both cores...
    assert {threads for _, threads, _ in rest} == {1}  # ...each on one thread, not a team over every core
    assert torch.get_num_threads() == 2  # the caller keeps its count

    def chunks(result):
        return {(c.doc_id, c.chunk.index): c.logit for c in result.ranked_chunks()}

    want, got = chunks(one_at_a_time), chunks(per_core)
    assert got.keys() == want.keys() and len(got) > 10
    assert list(got.values()) == pytest.approx(list(want.values()), abs=1e-5)
    # The same order, up to documents tied by identical text (their scores differ by rounding only).
    score = {d.doc_id: d.score for d in one_at_a_time.documents}
    order = [d.doc_id for d in per_core.documents]
    assert sorted(order) == sorted(score)
    assert not [(a, b) for k, a in enumerate(order) for b in order[k + 1:] if score[b] - score[a] > 1e-5]
    assert score[order[-1]] < score[order[0]] - 1e-3  # the texts do rank apart: the check can fail


def test_a_new_thread_after_a_run_gets_the_callers_thread_count(tiny_scorer, two_threads):
    # The pool's threads run torch single-threaded, but a new thread starts from the count set last
    # anywhere: the app's next scoring worker (a new thread) must not inherit the pool's 1.
    _rank(tiny_scorer, per_core=True)
    seen = []
    later = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    later.start()
    later.join()
    assert seen == [2]


def test_one_thread_runs_every_pass_on_the_caller(tiny_scorer, monkeypatch):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    where = watch_passes(tiny_scorer, monkeypatch)
    try:
        _rank(tiny_scorer, per_core=True)
    finally:
        torch.set_num_threads(before)
    assert {(name, threads) for name, threads, _ in where} == {(threading.current_thread().name, 1)}


def test_the_first_rows_come_from_the_smallest_batch_on_every_thread(tiny_scorer, two_threads, monkeypatch):
    """A live run shows rows as soon as one small pass on every core allows, not after a whole batch
    on one core; the other batches are then cut so the cores finish together."""
    where = watch_passes(tiny_scorer, monkeypatch)
    batches = _score_growing_texts(tiny_scorer, budget=300)
    assert where[0][:2] == (threading.current_thread().name, 2)
    assert where[0][2] == min(tokens for _, _, tokens in where)  # the smallest batch went first...
    assert max(i for i, _ in batches[0]) < 6  # ...the short documents' (prompts grow with i)
    assert len(where) - 1 >= 2 and (len(where) - 1) % 2 == 0  # the rest: an even share per core
    assert sorted(i for b in batches for i, _ in b) == list(range(12))


def test_with_one_thread_the_first_rows_still_come_from_the_smallest_batch(tiny_scorer, monkeypatch):
    """The app's later runs leave a core to the interface: one torch thread, one pass at a time.
    The smallest batch still goes first: the first rows of a changed query come after it, not
    after a whole batch of the longest rows; every pair is still scored once."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    where = watch_passes(tiny_scorer, monkeypatch)
    try:
        batches = _score_growing_texts(tiny_scorer, budget=150)
    finally:
        torch.set_num_threads(before)
    tokens = [t for _, _, t in where]
    assert len(tokens) >= 3 and tokens[0] == min(tokens) < max(tokens)
    assert max(i for i, _ in batches[0]) < 6  # the short documents' (prompts grow with i)
    assert sorted(i for b in batches for i, _ in b) == list(range(12))


def test_spread_gives_each_core_a_batch_of_the_same_width():
    lengths = [90, 80, 70, 60, 50]
    halves = spread([[0, 1, 2, 3, 4]], 2)
    assert sorted(i for b in halves for i in b) == [0, 1, 2, 3, 4] and len(halves) == 2
    assert all(max(lengths[i] for i in b) >= 80 for b in halves)  # alternate rows: widths stay close
    assert spread([[0], [1, 2]], 4) == [[0], [1], [2]]  # no batch is split below one row
    assert spread([[0, 1], [2]], 1) == [[0, 1], [2]]


def test_fewer_batches_than_cores_run_as_one_pass_on_every_thread(tiny_scorer, two_threads, monkeypatch):
    # A live edit's single pair on one core would take longer than on all of them together.
    where = watch_passes(tiny_scorer, monkeypatch)
    prompt = tiny_scorer.build_prompts(INSTR, QUERY, [TEXT])
    assert len([pair for batch in tiny_scorer.score_prompts(prompt) for pair in batch]) == 1
    assert {(name, threads) for name, threads, _ in where} == {(threading.current_thread().name, 2)}


def test_asked_for_single_threaded_passes_every_pass_runs_on_a_core_of_its_own(tiny_scorer, two_threads):
    """While the user types, the app gives a run every core and asks for single-threaded passes
    (ui/cpu.py): the shared head's, the quick first batch's and a lone pair's too, none on a team
    of threads that would wait at its barriers for the core the interface takes. Same scores."""
    passes = []
    hook = tiny_scorer.backbone.register_forward_pre_hook(
        lambda *_: passes.append((threading.current_thread().name, torch.get_num_threads())))
    prompts = tiny_scorer.build_prompts(INSTR, "which key encrypts the backups", [TEXT[: 40 + 25 * i] for i in range(12)])
    lone = tiny_scorer.build_prompts(INSTR, "who opens the cafeteria", [TEXT])
    try:
        assert tiny_scorer.run_single_threaded_passes(True)
        tiny_scorer.forget_texts()  # the head is run again, not taken from the last call
        single = dict(pair for batch in tiny_scorer.score_prompts(prompts) for pair in batch)
        first_rows = len(passes)
        assert dict(pair for batch in tiny_scorer.score_prompts(lone) for pair in batch).keys() == {0}
        assert not tiny_scorer.run_single_threaded_passes(False)
        tiny_scorer.forget_texts()
        passes_before = len(passes)
        multi = dict(pair for batch in tiny_scorer.score_prompts(prompts) for pair in batch)
    finally:
        hook.remove()
        tiny_scorer.run_single_threaded_passes(False)
    asked, lone_pass, usual = passes[:first_rows], passes[first_rows:passes_before], passes[passes_before:]
    assert len(asked) >= 4  # the head and several batches
    assert {threads for _, threads in asked + lone_pass} == {1}
    assert {name for name, _ in asked} == {"torch-core_0", "torch-core_1"}
    assert lone_pass and all(name.startswith("torch-core") for name, _ in lone_pass)  # on one core, not two
    assert usual[0] == (threading.current_thread().name, 2)  # not asked: the head on every thread
    assert torch.get_num_threads() == 2  # the caller keeps its count
    assert list(single.values()) == pytest.approx([multi[i] for i in single], abs=1e-5) and len(single) == 12


def test_a_scorer_that_runs_one_pass_at_a_time_cannot_be_asked_for_single_threaded_passes(tiny_scorer, two_threads):
    tiny_scorer.pass_per_core = False
    try:
        assert not tiny_scorer.run_single_threaded_passes(True)
    finally:
        tiny_scorer.pass_per_core = True
        tiny_scorer.run_single_threaded_passes(False)


def test_without_the_quick_first_batch_every_batch_runs_on_a_core_of_its_own(tiny_scorer, two_threads, monkeypatch):
    # What benchmarks/first_rows.py compares against: the same scores, whole batches per core.
    quick = _rank(tiny_scorer, per_core=True)
    where = watch_passes(tiny_scorer, monkeypatch)
    tiny_scorer.quick_first_batch = False
    try:
        whole = _rank(tiny_scorer, per_core=True)
    finally:
        tiny_scorer.quick_first_batch = True
    assert {(name, threads) for name, threads, _ in where} == {("torch-core_0", 1), ("torch-core_1", 1)}
    want = {(c.doc_id, c.chunk.index): c.logit for c in quick.ranked_chunks()}
    got = {(c.doc_id, c.chunk.index): c.logit for c in whole.ranked_chunks()}
    assert list(got.values()) == pytest.approx([want[k] for k in got], abs=1e-5)


def test_the_costliest_batches_start_first_so_the_cores_finish_together(tiny_scorer, two_threads, monkeypatch):
    """Each core takes the next batch as it frees up. Longest rows first would start a batch of
    several short rows last, costlier than the single long rows before it, and the other core
    would wait for it; costliest first, the last batches to start are the cheapest."""
    launched = []
    launch = tiny_scorer._launch

    def watched(rows, head, cores):
        launched.append((len(rows), max(map(len, rows))))
        return launch(rows, head, cores)

    monkeypatch.setattr(tiny_scorer, "_launch", watched)
    tiny_scorer.quick_first_batch, tiny_scorer.token_budget, old = False, 2 * 200, tiny_scorer.token_budget
    try:
        # Two long documents (130 tokens after the shared head) that fill a core's pass alone,
        # five short ones (35) that share one: 175 tokens, the costliest pass.
        texts = [f"Note {i}. {text}" for i, text in enumerate([TEXT * 2] * 2 + [TEXT[:100]] * 5)]
        scored = [pair for batch in tiny_scorer.score_prompts(tiny_scorer.build_prompts(INSTR, QUERY, texts))
                  for pair in batch]
    finally:
        tiny_scorer.quick_first_batch, tiny_scorer.token_budget = True, old
    assert sorted(i for i, _ in scored) == list(range(7))
    costs = [rows * width for rows, width in launched]
    assert launched[0][0] > 1 and launched[0][1] < max(width for _, width in launched)  # short rows, yet first
    assert costs == sorted(costs, reverse=True)
