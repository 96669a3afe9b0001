"""The LlamaIndex adapter in a real pipeline: an in-memory VectorStoreIndex with offline MiniLM
embeddings, its retriever and query engine postprocessed by WorkbenchPostprocessor (tiny reranker)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from integration_data import QUERY, TEXTS

pytest.importorskip("llama_index.core")

from llama_index.core import VectorStoreIndex  # noqa: E402
from llama_index.core.embeddings import BaseEmbedding  # noqa: E402
from llama_index.core.llms.mock import MockLLM  # noqa: E402
from llama_index.core.schema import ImageNode, MetadataMode, NodeWithScore, QueryBundle, TextNode  # noqa: E402

from workbench.integrations.llamaindex import WorkbenchPostprocessor  # noqa: E402


class MiniLMEmbedding(BaseEmbedding):
    encode: object = None

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.encode([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.encode([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


@pytest.fixture(scope="module")
def index(minilm):
    nodes = [TextNode(text=t, metadata={"source": f"doc{n}"}) for n, t in enumerate(TEXTS)]
    return VectorStoreIndex(nodes, embed_model=MiniLMEmbedding(encode=minilm))


def test_retriever_nodes_rank_as_the_api_does(index, tiny_reranker):
    retrieved = index.as_retriever(similarity_top_k=5).retrieve(QUERY)
    assert len(retrieved) == 5
    post = WorkbenchPostprocessor(setup=tiny_reranker, top_n=3)
    got = post.postprocess_nodes(retrieved, query_str=QUERY)
    expected = tiny_reranker.rerank(QUERY, [n.node.get_content(MetadataMode.NONE) for n in retrieved], top_n=3)
    assert [n.node.text for n in got] == [h.text for h in expected]
    for node, hit in zip(got, expected):
        assert node.score == hit.score and node.node.metadata["relevance_logit"] == hit.logit
        assert node.node.node_id == retrieved[hit.index].node.node_id
        start, end = node.node.metadata["best_chunk_start"], node.node.metadata["best_chunk_end"]
        assert 0 <= start < end <= len(node.node.text)
        # our keys stay out of what the LLM reads
        assert "relevance_score" not in node.node.get_content(MetadataMode.LLM)
        assert "source: doc" in node.node.get_content(MetadataMode.LLM)
    assert all("relevance_score" not in n.node.metadata for n in retrieved)  # copies


def test_in_a_query_engine_and_async(index, tiny_reranker):
    post = WorkbenchPostprocessor(setup=tiny_reranker, top_n=2)
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=5, node_postprocessors=[post])
    response = engine.query(QUERY)
    retrieved = index.as_retriever(similarity_top_k=5).retrieve(QUERY)
    expected = tiny_reranker.rerank(QUERY, [n.node.text for n in retrieved], top_n=2)
    assert [n.node.text for n in response.source_nodes] == [h.text for h in expected]


async def test_async_equals_sync(tiny_reranker):
    nodes = [NodeWithScore(node=TextNode(text=t), score=0.5) for t in TEXTS]
    post = WorkbenchPostprocessor(setup=tiny_reranker, top_n=None)
    sync = post.postprocess_nodes(nodes, QueryBundle(QUERY))
    assert len(sync) == len(TEXTS)
    got = await post.apostprocess_nodes(nodes, query_str=QUERY)
    assert [(n.node.text, n.score) for n in got] == [(n.node.text, n.score) for n in sync]


def test_bad_input(tiny_setup, tmp_path):
    post = WorkbenchPostprocessor(setup=tiny_setup)
    nodes = [NodeWithScore(node=TextNode(text=t)) for t in TEXTS[:2]]
    with pytest.raises(ValueError, match="Missing query bundle"):
        post.postprocess_nodes(nodes)
    assert post.postprocess_nodes([], query_str=QUERY) == []
    with pytest.raises(ValueError, match=r"node 1 \(ImageNode\) has no text"):
        post.postprocess_nodes([nodes[0], NodeWithScore(node=ImageNode(image="aGk="))], query_str=QUERY)
    with pytest.raises(ValueError, match="setup file not found: .*missing.toml"):
        WorkbenchPostprocessor(setup=tmp_path / "missing.toml")
    with pytest.raises(ValueError, match="aggregate must be one of"):
        WorkbenchPostprocessor(setup={"aggregate": "median"})


def test_without_llamaindex_the_import_says_which_extra_to_install():
    code = ("import sys; sys.modules['llama_index'] = None\n"
            "try:\n    import workbench.integrations.llamaindex\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'rerank-workbench[llamaindex]'" in out.stdout
