"""Scoring through rerank servers: the same numbers as the local engine, and what happens when a
server fails (the local protocol server injects the faults; tests/backends drives a real server)."""

from __future__ import annotations

import math

import pytest

from workbench.engine.loading import LoadOptions, ModelLoadError, load_scorer
from workbench.engine.ranking import Ranker
from workbench.engine.remote import connect
from workbench.engine.remote.pool import PoolSettings
from workbench.engine.scorer import Cancelled, ScoringError
from workbench.engine.types import ChunkSettings, Document
from workbench.testing.protocol_server import ProtocolServer, VllmLikeModel

QUERY = "how long are backups kept"
DOCS = [
    Document("a", "Backups are kept for thirty days and then deleted. " * 6),
    Document("b", "The cafeteria opens at nine and serves soup on Fridays. " * 5),
    Document("c", "Retention: nightly snapshots are stored for one year in cold storage. " * 4),
]
FAST = PoolSettings(concurrency=2, timeout_s=60.0, attempts=4, backoff_s=0.01, max_backoff_s=0.05)


@pytest.fixture
def served(tiny_hf, tiny_model_dir):
    model, tokenizer = tiny_hf
    backend = VllmLikeModel(model, tokenizer)
    with ProtocolServer(backend, model="Qwen/Qwen3-Reranker-0.6B", root=str(tiny_model_dir)) as server:
        server.backend = backend
        yield server


def _remote(urls, tiny_model_dir, api="auto", settings=FAST, scores="probability"):
    from transformers import AutoTokenizer

    return connect(tuple(urls), api, scores, str(tiny_model_dir), 8192, AutoTokenizer.from_pretrained, settings)


def _chunk_scores(result):
    return {(c.doc_id, c.chunk.index): c.score for d in result.documents for c in d.chunks}


def test_vllm_scores_equal_the_local_engine_and_the_server_sees_the_same_tokens(served, tiny_model_dir, tiny_scorer):
    remote = _remote([served.url], tiny_model_dir)
    assert remote.info.kind == "remote-reranker" and remote.api == "vllm"
    assert remote.info.backend == f"vllm 0.0.test at {served.url}"
    chunking = ChunkSettings(tokens=24, overlap=4)
    there = Ranker(remote).rank(QUERY, "Find retention rules", DOCS, chunking)
    here = Ranker(tiny_scorer).rank(QUERY, "Find retention rules", DOCS, chunking)
    assert [d.doc_id for d in there.documents] == [d.doc_id for d in here.documents]
    local, far = _chunk_scores(here), _chunk_scores(there)
    assert local.keys() == far.keys() and len(local) > 6
    assert max(abs(local[k] - far[k]) for k in local) < 1e-5
    # The exact prompt crossed the wire: the ids the server built equal the local engine's.
    ranker = Ranker(tiny_scorer)
    texts = [span.text_of(d.text) for d in DOCS for span in ranker.chunk(d, chunking)]
    assert set(served.backend.seen_ids) == {p.ids for p in tiny_scorer.build_prompts("Find retention rules", QUERY, texts)}


def test_score_endpoint_and_raw_rerank_api(served, tiny_model_dir):
    remote = _remote([served.url], tiny_model_dir, api="vllm-score")
    result = Ranker(remote).rank(QUERY, "x", DOCS, ChunkSettings(tokens=0))
    assert all("text_1" in r for r in served.requests) and len(result.documents) == 3
    served.requests.clear()
    raw = _remote([served.url], tiny_model_dir, api="rerank")
    Ranker(raw).rank(QUERY, "ignored by raw servers", DOCS, ChunkSettings(tokens=0))
    assert {r["query"] for r in served.requests} == {QUERY}  # no template around a raw query
    assert sorted(d for r in served.requests for d in r["documents"]) == sorted(d.text for d in DOCS)


def test_retries_500s_429s_and_partial_answers_and_loses_nothing(served, tiny_model_dir, tiny_scorer):
    remote = _remote([served.url], tiny_model_dir)
    served.faults = ["500", "429", "partial", "garbage"][:3]
    result = Ranker(remote).rank(QUERY, "i", DOCS, ChunkSettings(tokens=24, overlap=4))
    expected = _chunk_scores(Ranker(tiny_scorer).rank(QUERY, "i", DOCS, ChunkSettings(tokens=24, overlap=4)))
    got = _chunk_scores(result)
    assert got.keys() == expected.keys() and not result.cancelled
    assert max(abs(got[k] - expected[k]) for k in got) < 1e-5
    assert remote.pool.retries == 3


def test_a_timeout_is_retried(served, tiny_model_dir):
    served.hang_s = 1.0
    served.score = lambda q, docs: [0.5] * len(docs)  # instant: only the injected hang takes time
    remote = _remote([served.url], tiny_model_dir, settings=PoolSettings(timeout_s=0.3, backoff_s=0.01))
    served.faults = ["timeout"]
    result = Ranker(remote).rank(QUERY, "i", DOCS, ChunkSettings(tokens=0))
    assert len(result.documents) == 3 and remote.pool.retries == 1


def test_a_server_that_keeps_failing_gives_a_clear_error_and_keeps_what_was_scored(served, tiny_model_dir):
    remote = _remote([served.url], tiny_model_dir, settings=PoolSettings(concurrency=1, attempts=2, backoff_s=0.01))
    remote.docs_per_request = 4
    ranker = Ranker(remote)
    # The first request succeeds; every later one fails twice (its last try).
    served.faults = ["slow:0"] + ["500"] * 40
    with pytest.raises(ScoringError) as failure:
        ranker.rank(QUERY, "i", DOCS, ChunkSettings(tokens=24, overlap=4))
    assert "answered 500" in str(failure.value) and served.url in str(failure.value) and "2 tries" in str(failure.value)
    served.faults.clear()
    before = served.documents_scored()
    result = ranker.rank(QUERY, "i", DOCS, ChunkSettings(tokens=24, overlap=4))
    assert result.stats.cached == 4  # the first answer was kept (cached), not asked again
    assert served.documents_scored() - before == result.stats.pairs - 4


def test_replicas_share_the_work_and_one_down_replica_is_worked_around(served, tiny_hf, tiny_model_dir):
    model, tokenizer = tiny_hf
    with ProtocolServer(VllmLikeModel(model, tokenizer), model="Qwen/Qwen3-Reranker-0.6B", root=str(tiny_model_dir)) as other:
        remote = _remote([served.url, other.url], tiny_model_dir)
        remote.docs_per_request = 2
        result = Ranker(remote).rank(QUERY, "i", DOCS, ChunkSettings(tokens=24, overlap=4))
        assert served.requests and other.requests
        assert result.stats.scored == result.stats.pairs
        other.stop()  # one replica goes away: its share moves to the other
        ranker = Ranker(remote)
        again = ranker.rank(QUERY, "another query", DOCS, ChunkSettings(tokens=24, overlap=4))
        assert again.stats.scored == again.stats.pairs and not again.cancelled


def test_cancel_stops_between_answers(served, tiny_model_dir):
    remote = _remote([served.url], tiny_model_dir)
    remote.docs_per_request = 1
    seen = []
    prompts = remote.build_prompts("i", QUERY, [d.text for d in DOCS] * 4)
    with pytest.raises(Cancelled):
        for batch in remote.score_prompts(prompts, should_cancel=lambda: bool(seen)):
            seen.extend(batch)
    assert 0 < len(seen) < len(prompts)


def test_unreachable_server_is_a_clear_load_error():
    with pytest.raises(ModelLoadError, match=r"cannot reach the rerank server at http://127.0.0.1:9 \(connection refused\)"):
        load_scorer(LoadOptions(backend=("http://127.0.0.1:9",), model="unused"))


def test_replicas_of_different_models_are_refused(served, tiny_hf, tiny_model_dir):
    model, tokenizer = tiny_hf
    with ProtocolServer(VllmLikeModel(model, tokenizer), model="someone/else") as other:
        with pytest.raises(ModelLoadError, match="different models"):
            load_scorer(LoadOptions(backend=(served.url, other.url), model=str(tiny_model_dir)))


def test_the_tokenizer_defaults_to_the_model_the_server_reports(served, tiny_model_dir):
    scorer = load_scorer(LoadOptions(backend=(served.url,)))  # root = the tiny model's directory
    assert scorer.info.model_id == "Qwen/Qwen3-Reranker-0.6B" and scorer.info.revision == str(tiny_model_dir)
    assert "tokens counted with the tokenizer of " + str(tiny_model_dir) in scorer.info.choices


def test_logit_servers_and_saturated_probabilities(served, tiny_model_dir):
    served.score = lambda q, docs: [3.5 - i for i in range(len(docs))]  # a server answering logits
    remote = _remote([served.url], tiny_model_dir, api="rerank", scores="logit")
    result = Ranker(remote).rank(QUERY, "i", DOCS, ChunkSettings(tokens=0))
    assert [d.doc_id for d in result.documents] == ["a", "b", "c"]
    assert result.documents[0].chunks[0].logit == 3.5
    served.score = lambda q, docs: [1.0, 0.0, 0.5][: len(docs)]
    saturated = Ranker(_remote([served.url], tiny_model_dir)).rank(QUERY, "i", DOCS, ChunkSettings(tokens=0))
    assert all(math.isfinite(c.logit) for d in saturated.documents for c in d.chunks)
    assert [d.doc_id for d in saturated.documents] == ["a", "c", "b"]
