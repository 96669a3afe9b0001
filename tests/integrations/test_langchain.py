"""The LangChain adapter in a real retriever: LangChain's InMemoryVectorStore with offline MiniLM
embeddings, behind ContextualCompressionRetriever with WorkbenchCompressor and the tiny reranker."""

from __future__ import annotations

import subprocess
import sys

import pytest
from integration_data import QUERY, TEXTS

pytest.importorskip("langchain_core")
pytest.importorskip("langchain_classic")

from langchain_classic.retrievers import ContextualCompressionRetriever  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from langchain_core.vectorstores import InMemoryVectorStore  # noqa: E402

from workbench.integrations.langchain import WorkbenchCompressor  # noqa: E402


class MiniLMEmbeddings(Embeddings):
    def __init__(self, encode) -> None:
        self.encode = encode

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0]


@pytest.fixture(scope="module")
def store(minilm):
    vectors = InMemoryVectorStore(MiniLMEmbeddings(minilm))
    vectors.add_documents([Document(page_content=t, metadata={"source": f"doc{n}"}) for n, t in enumerate(TEXTS)])
    return vectors


def test_retriever_ranks_as_the_api_does(store, tiny_reranker):
    base = store.as_retriever(search_kwargs={"k": 5})
    retrieved = base.invoke(QUERY)
    assert len(retrieved) == 5
    retriever = ContextualCompressionRetriever(base_compressor=WorkbenchCompressor(setup=tiny_reranker, top_n=3),
                                               base_retriever=base)
    got = retriever.invoke(QUERY)
    expected = tiny_reranker.rerank(QUERY, [d.page_content for d in retrieved], top_n=3)
    assert [d.page_content for d in got] == [h.text for h in expected]
    for doc, hit in zip(got, expected):
        assert doc.metadata["relevance_score"] == hit.score and doc.metadata["relevance_logit"] == hit.logit
        assert doc.page_content[doc.metadata["best_chunk_start"]:doc.metadata["best_chunk_end"]].strip()
        assert doc.metadata["best_chunk_end"] - doc.metadata["best_chunk_start"] <= len(doc.page_content)
        assert doc.metadata["source"] == retrieved[hit.index].metadata["source"]
    assert all("relevance_score" not in d.metadata for d in retrieved)  # copies: the store's are untouched


async def test_async_compression_equals_sync(tiny_reranker):
    docs = [Document(page_content=t) for t in TEXTS]
    compressor = WorkbenchCompressor(setup=tiny_reranker, top_n=None)
    sync = compressor.compress_documents(docs, QUERY)
    assert len(sync) == len(TEXTS)
    assert await compressor.acompress_documents(docs, QUERY) == sync


def test_a_setup_file_and_bad_input(tiny_setup, tmp_path, tiny_reranker):
    from workbench.setup_file import read_setup, write_setup

    path = write_setup(read_setup(tiny_setup), tmp_path / "setup.toml")
    compressor = WorkbenchCompressor(setup=str(path))  # LangChain's rerankers keep 3 by default
    docs = [Document(page_content=t) for t in TEXTS]
    assert [d.page_content for d in compressor.compress_documents(docs, QUERY)] == \
        [h.text for h in tiny_reranker.rerank(QUERY, TEXTS, top_n=3)]
    assert compressor.compress_documents([], QUERY) == []
    with pytest.raises(ValueError, match=r"document 1 \(str\) has no text"):
        compressor.compress_documents([docs[0], "plain text"], QUERY)
    with pytest.raises(ValueError, match="setup file not found: .*missing.toml"):
        WorkbenchCompressor(setup=str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="unknown key 'chunk_size'"):
        WorkbenchCompressor(setup={"chunk_size": 100})


def test_without_langchain_the_import_says_which_extra_to_install():
    code = ("import sys; sys.modules['langchain_core'] = None\n"
            "try:\n    import workbench.integrations.langchain\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'rerank-workbench[langchain]'" in out.stdout
