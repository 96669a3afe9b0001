"""BM25 over chunk texts, through the bm25s library (Lucene's BM25 variant, k1=1.5, b=0.75)."""

from __future__ import annotations

from collections.abc import Sequence

# bm25s's own tokenizer (lower-cased words of two or more letters or digits) with its English
# stopword list, and no stemmer: that is the library's documented default pipeline, so anyone can
# repeat our numbers with three bm25s calls, and it is the usual untuned BM25 baseline a RAG
# retriever starts from. Dropping stopwords matters for chunks: without it "the" and "of" would
# rank long chunks of prose above short ones that hold the query's real words. (No stemmer: it
# would add a dependency, and "cats" vs "cat" is exactly the kind of miss the reranker should fix.)
STOPWORDS = "en"


def bm25_scores(query: str, texts: Sequence[str]) -> list[float]:
    """One BM25 score per text for `query`, the texts being the whole corpus (0.0: no query word)."""
    import bm25s

    if not texts:
        return []
    corpus = bm25s.tokenize(list(texts), stopwords=STOPWORDS, show_progress=False)
    index = bm25s.BM25()
    index.index(corpus, show_progress=False)
    words = bm25s.tokenize([query], stopwords=STOPWORDS, return_ids=False, show_progress=False)[0]
    if not words:  # only stopwords or punctuation: nothing to match (bm25s fails on an empty query)
        return [0.0] * len(texts)
    return [float(s) for s in index.get_scores(words)]
