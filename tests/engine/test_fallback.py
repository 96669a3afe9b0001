"""The offline fallback (all-MiniLM-L6-v2) chunks by its own tokenizer and within its own window:
long unbroken text is read, not turned into one unknown token; no chunk is cut again when scored;
text the model cannot see is marked truncated, never silently dropped."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from workbench.engine.fallback import FIRST_BATCH, MAX_LENGTH, EmbeddingFallback, fallback_model_dir
from workbench.engine.ranking import Ranker
from workbench.engine.types import ChunkSettings, Document

WINDOW = MAX_LENGTH - 2  # [CLS] and [SEP] take two of the model's 256 positions


@pytest.fixture(scope="module")
def fallback() -> EmbeddingFallback:
    return EmbeddingFallback()  # from the installed package: offline, a few seconds on a CPU


@pytest.fixture
def ranker(fallback) -> Ranker:
    return Ranker(fallback)


def word_limit(fallback) -> int:
    """WordPiece's longest word: anything longer was one [UNK] (100 for this model)."""
    return fallback.tokenizer.backend_tokenizer.model.max_input_chars_per_word


def long_words_text(n_words: int = 3000) -> str:
    """Prose-like text without sentence ends (no boundary to snap to, so chunk ends fall inside
    runs of long words that WordPiece splits into several pieces)."""
    rng = random.Random(7)
    vocabulary = ["internationalization", "counterrevolutionaries", "electroencephalography", "tide",
                  "photosynthesis", "the", "backup", "key", "rotation", "uncharacteristically", "moon"]
    return " ".join(rng.choice(vocabulary) for _ in range(n_words))


def check_covered(text: str, chunks) -> None:
    """In document order, each chunk starts after the previous one and reaches at least its end."""
    spans = [c.chunk for c in chunks]
    assert spans[0].start == 0 and spans[-1].end == len(text)
    for a, b in zip(spans, spans[1:]):
        assert a.start < b.start <= a.end, (a, b)


def test_a_two_million_character_line_without_spaces_is_read_in_chunks_that_fit(ranker, fallback):
    # A repeating pattern keeps scoring quick (identical chunks are embedded once); chunking and
    # prompt building still run over all 2,000,000 characters.
    line = "abcdefghij" * 200_000
    result = ranker.rank("the letters of the alphabet", "", [Document("line.txt", line)])
    chunks = result.documents[0].chunks
    check_covered(line, chunks)
    # the model reads the line: no token stands for more than WordPiece's longest word
    assert all(len(c.chunk.text_of(line)) <= word_limit(fallback) * c.chunk.tokens for c in chunks)
    assert all(c.chunk.tokens <= WINDOW for c in chunks)
    assert not any(c.truncated for c in chunks)


def test_chunks_of_a_long_text_fit_the_window_so_nothing_is_cut(ranker, fallback):
    text = long_words_text()
    result = ranker.rank("key rotation", "", [Document("long.txt", text)], chunking=ChunkSettings(256, 32))
    chunks = result.documents[0].chunks
    assert len(chunks) > 10
    check_covered(text, chunks)
    for c in chunks:
        assert c.chunk.tokens <= WINDOW
        seen = fallback.tokenizer(c.chunk.text_of(text))["input_ids"]  # tokenised as when scored
        assert len(seen) <= MAX_LENGTH and not c.truncated, (c.chunk, len(seen))


def test_a_whole_document_is_marked_cut_where_the_window_ends(ranker):
    text = long_words_text()
    (chunk,) = ranker.rank("key rotation", "", [Document("long.txt", text)], chunking=ChunkSettings(0)).documents[0].chunks
    assert chunk.truncated
    view = ranker.explain("", "key rotation", text)
    assert view.truncated and 0 < view.kept_chars < len(text)


def test_text_the_model_cannot_see_is_marked_not_scored_as_if_read(ranker):
    invisible = "\u200b" * 300  # zero-width spaces: the tokenizer drops them all
    result = ranker.rank("anything", "", [Document("blank.txt", invisible), Document("real.txt", "The moon moves the tides.")])
    by_id = {d.doc_id: d.chunks for d in result.documents}
    (blank,) = by_id["blank.txt"]
    assert blank.truncated
    assert ranker.explain("", "anything", invisible).kept_chars == 0
    assert not any(c.truncated for c in by_id["real.txt"])


def test_tokens_per_second_counts_only_what_was_embedded():
    """Chunk embeddings are kept: a second query embeds only itself, and the rate says so."""
    from workbench.engine.fallback import EmbeddingFallback
    from workbench.engine.ranking import Ranker
    from workbench.engine.types import Document

    ranker = Ranker(EmbeddingFallback())
    docs = [Document("a", "Backups are kept for thirty days. " * 20), Document("b", "Espresso needs a fine grind. " * 20)]
    first = ranker.rank("how long are backups kept", "", docs).stats
    second = ranker.rank("espresso grind size", "", docs).stats
    assert first.model_tokens > 100 and first.model_tokens <= first.prompt_tokens
    query_tokens = len(ranker.scorer.tokenizer.encode("espresso grind size"))
    assert second.model_tokens == query_tokens < second.prompt_tokens


# --- precision: bf16 (autocast) is the fast path on CPUs with native bf16 -----------------------

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
# Small sample documents and the judged queries they answer (sample_data/queries.jsonl), plus the
# launch's starter query: a first screen in miniature, quick to score in both precisions.
SMALL_DOCS = ("backup_retention_policy.md", "faq_home_wifi.md", "note_visitor_parking.txt",
              "recipes_weeknight_and_weekend.md", "red_planet_vs_venus.md")
JUDGED = {
    "how long are backups kept": "backup_retention_policy.md",
    "Why is Venus hotter than Mercury even though Mercury is closer to the Sun?": "red_planet_vs_venus.md",
    "What is the atmospheric pressure at the surface of Mars compared with Earth?": "red_planet_vs_venus.md",
    "How do you make an affogato with espresso and ice cream?": "recipes_weeknight_and_weekend.md",
    "My Wi-Fi keeps dropping whenever the microwave is on": "faq_home_wifi.md",
    "Where can visitors park at the office on a Saturday?": "note_visitor_parking.txt",
}


def load(dtype: str):
    from workbench.engine.loading import LoadOptions, load_fallback

    return load_fallback(LoadOptions(device="cpu", dtype=dtype), reason="testing")


@pytest.fixture(scope="module")
def small_docs() -> list[Document]:
    return [Document(name, (SAMPLE / "docs" / name).read_text(encoding="utf-8")) for name in SMALL_DOCS]


@pytest.fixture(scope="module")
def bf16_fallback():
    return load("bf16")


def rankings(scorer, docs):
    ranker = Ranker(scorer)
    return {q: ranker.rank(q, "", docs) for q in JUDGED}


def test_bf16_ranks_the_judged_document_first_and_shows_the_same_top_passage_as_fp32(small_docs, fallback, bf16_fallback):
    fp32, bf16 = rankings(fallback, small_docs), rankings(bf16_fallback, small_docs)
    for query, answer in JUDGED.items():
        assert bf16[query].documents[0].doc_id == answer, query
        assert fp32[query].documents[0].doc_id == answer, query
        top = [(c.doc_id, c.chunk.index) for c in bf16[query].ranked_chunks()[:1]]
        assert top == [(c.doc_id, c.chunk.index) for c in fp32[query].ranked_chunks()[:1]], query
        scores32 = {(c.doc_id, c.chunk.index): c.score for d in fp32[query].documents for c in d.chunks}
        for d in bf16[query].documents:  # a stand-in's scores, but the same numbers to the eye
            assert all(abs(c.score - scores32[c.doc_id, c.chunk.index]) < 0.01 for c in d.chunks)


def test_bf16_scores_repeat_exactly_from_a_fresh_load(small_docs):
    # Fresh loads: a chunk embedded in another batch (other rows, other padding) may differ in
    # the last bits, in fp32 too; the same inputs on the same machine must not.
    query, docs = next(iter(JUDGED)), [small_docs[0], small_docs[2]]  # six chunks: quick in emulated bf16
    first = Ranker(load("bf16")).rank(query, "", docs)
    again = Ranker(load("bf16")).rank(query, "", docs)
    assert [c.logit for c in first.ranked_chunks()] == [c.logit for c in again.ranked_chunks()]


def test_the_score_cache_never_answers_bf16_with_fp32_scores(small_docs, fallback, bf16_fallback):
    from workbench.engine.cache import MemoryScoreCache

    cache = MemoryScoreCache()
    query, docs = next(iter(JUDGED)), small_docs[:2]
    Ranker(fallback, cache=cache).rank(query, "", docs)
    result = Ranker(bf16_fallback, cache=cache).rank(query, "", docs)
    assert result.model.dtype == "bf16"
    assert result.stats.cached == 0 and result.stats.scored == result.stats.pairs
    assert Ranker(bf16_fallback, cache=cache).rank(query, "", docs).stats.cached == result.stats.pairs


@pytest.mark.parametrize("flags, native", [
    ("fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni", True),
    ("fpu sse2 avx2 amx_bf16 amx_tile", True),
    ("fpu sse2 avx2 avx512f avx512bw", False),  # bf16 would be emulated: slower than fp32
])
def test_auto_picks_bf16_only_where_the_cpu_computes_it_natively(tmp_path, monkeypatch, flags, native):
    from workbench.engine import fallback as fb

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert fb.native_bf16_cpu(str(cpuinfo)) is native
    assert fb.native_bf16_cpu(str(tmp_path / "missing")) is False  # not Linux: cannot tell, so fp32
    monkeypatch.setattr(fb, "native_bf16_cpu", lambda: native)
    dtype, why = fb.fallback_dtype("auto", "cpu")
    assert dtype == ("bf16" if native else "fp32") and "native bf16" in why
    assert fb.fallback_dtype("fp32", "cpu")[0] == "fp32"  # asked for: honoured either way


def test_the_chosen_precision_and_why_are_shown_with_the_model(bf16_fallback):
    assert bf16_fallback.info.dtype == "bf16"
    assert any("bf16" in line for line in bf16_fallback.info.choices)
    fp16 = load("fp16")  # no fp16 path: runs fp32 and says so, never a silent mismatch
    assert fp16.info.dtype == "fp32" and any("no fp16" in line for line in fp16.info.choices)
    # How it runs on a CPU is said too: passes one per core, in either precision.
    per_core = "chunks embedded in passes of at most 1,024 tokens, one per core"
    assert any(line.startswith(per_core) for line in bf16_fallback.info.choices)
    assert any(line.startswith(per_core) for line in fp16.info.choices)


# --- On the CPU: pieces of a batch embedded on a core each ---------------------------------------

@pytest.fixture
def threads():
    import torch

    before = torch.get_num_threads()
    yield torch
    torch.set_num_threads(before)


def prompts_of_a_long_text(scorer) -> list:
    # 12 chunks of about 190 tokens: three passes of at most PIECE_TOKENS (5, 5 and 2 rows), which
    # two cores share unevenly; few enough that bf16, emulated on CPUs without it, takes seconds.
    text = long_words_text(800)
    return scorer.build_prompts("", "key rotation", [text[i : i + 900] for i in range(0, len(text), 900)])


@pytest.mark.parametrize("dtype", ["bf16", "fp32"])
def test_scores_are_the_same_whether_one_core_or_two_embed_them(threads, fallback, dtype):
    # Each piece runs single-threaded, on the calling thread or on one of the pool's: the same
    # rows in the same pieces, so a machine's core count cannot change a score or a tie.
    prompts = prompts_of_a_long_text(fallback)
    scores = {}
    for n in (1, 2):
        threads.set_num_threads(n)
        scorer = load(dtype)
        scores[n] = sorted(x for batch in scorer.score_prompts(prompts) for x in batch)
        assert threads.get_num_threads() == n  # the count the run was given is back for the next one
    assert len(scores[1]) == len(prompts) and scores[1] == scores[2]


def test_bf16_embedding_on_every_core_leaves_later_runs_their_thread_count(threads, bf16_fallback):
    # The pool's threads run torch single-threaded, but torch's count is per thread and a new
    # thread starts from the last count set anywhere: the app's next scoring worker is a new thread.
    import threading

    threads.set_num_threads(2)
    scorer = load("bf16")
    list(scorer.score_prompts(prompts_of_a_long_text(scorer)))
    seen = []
    later = threading.Thread(target=lambda: seen.append(threads.get_num_threads()))
    later.start()
    later.join()
    assert threads.get_num_threads() == 2 and seen == [2]


def test_a_query_longer_than_the_window_is_cut_as_the_tokenizer_would_cut_it(fallback):
    # The fallback cuts the query by hand (the tokenizer's own truncation is a setting shared with
    # other threads); the model must still see what truncation would give it.
    query = "backup retention " * 400  # ~800 tokens: beyond the 256-token window
    prompt = fallback.build_prompts("", query, ["nightly backups are kept"])[0]
    cut = prompt.ids.index(0)  # the query/document boundary
    reference = AutoTokenizer.from_pretrained(fallback_model_dir())  # transformers' own truncation
    assert list(prompt.ids[:cut]) == reference.encode(query, truncation=True, max_length=256)


def test_chunks_embedded_before_the_query_leave_the_first_query_only_itself_to_embed(fallback):
    ranker = Ranker(fallback)
    docs = [Document("kiln.md", "The kiln fires stoneware at cone six over nine hours. " * 30),
            Document("glaze.md", "A celadon glaze turns green in a reducing atmosphere. " * 30)]
    for d in docs:
        ranker.prepare(d, ChunkSettings())
    stats = ranker.rank("which glaze turns green", "", docs).stats
    assert stats.scored == stats.pairs > 2
    assert stats.model_tokens == len(fallback.tokenizer.encode("which glaze turns green"))


def test_embedding_ahead_stops_when_told_and_the_run_embeds_the_rest(fallback):
    ranker = Ranker(fallback)
    small = ChunkSettings(tokens=32, overlap=0)  # many cheap chunks: more than one batch of them
    docs = [Document("tides.md", " ".join(f"Tide note {i}: the ebb at pier {i} turns at {i % 12} o'clock." for i in range(400)))]
    assert len(ranker.chunk(docs[0], small)) > 2 * FIRST_BATCH
    asked = []
    ranker.prepare(docs[0], small, should_stop=lambda: asked.append(1) or len(asked) > 1)  # after one batch
    result = ranker.rank("when does the ebb turn", "", docs, small)
    query = len(fallback.tokenizer.encode("when does the ebb turn"))
    chunk_tokens = sum(c.prompt_tokens - query - 1 for c in result.ranked_chunks())  # a prompt: query, a mark, chunk
    # The run embedded the query and some chunks, not all: the rest were embedded ahead.
    assert query < result.stats.model_tokens < query + chunk_tokens


def test_a_run_shows_chunks_embedded_before_at_once_then_a_small_first_batch(fallback):
    texts = [f"Ledger entry {i}: the auditor checked invoice {i * 13} against receipt {i * 7}." for i in range(40)]
    fallback.prepare_texts(texts[:10])
    prompts = fallback.build_prompts("", "which invoice was checked", texts)
    batches = [sorted(i for i, _ in batch) for batch in fallback.score_prompts(prompts)]
    assert batches[0] == list(range(10))  # embedded before: only cosines, shown first and together
    assert len(batches[1]) == FIRST_BATCH < len(batches[2])  # then a small batch, so rows come soon
    assert sorted(i for batch in batches for i in batch) == list(range(40))
