"""LlamaIndex: a node postprocessor that reranks with a workbench setup.

    from workbench.integrations.llamaindex import WorkbenchPostprocessor

    query_engine = index.as_query_engine(
        similarity_top_k=30,
        node_postprocessors=[WorkbenchPostprocessor(setup="setup.toml", top_n=5)],
    )

The node's text (without metadata) is ranked; the score (0..1) goes on NodeWithScore.score, and
the node comes back as a copy whose metadata adds `relevance_score`, `relevance_logit` and the
best chunk's `best_chunk_start` / `best_chunk_end` (offsets into the node's text). Those keys are
kept out of what the LLM and the embedder see. Async (`apostprocess_nodes`) is LlamaIndex's own:
it runs this in a thread.
"""

from __future__ import annotations

from typing import Any, List, Optional

try:
    from llama_index.core.bridge.pydantic import Field, PrivateAttr, model_validator
    from llama_index.core.postprocessor.types import BaseNodePostprocessor
    from llama_index.core.schema import ImageNode, MetadataMode, NodeWithScore, QueryBundle, TextNode
except ImportError as e:
    from .common import missing_framework

    raise missing_framework(__name__, "LlamaIndex (llama-index-core)", "llamaindex") from e

from workbench.api import Reranker

from .common import METADATA_KEYS, hit_metadata, reranker_of

__all__ = ["WorkbenchPostprocessor"]


class WorkbenchPostprocessor(BaseNodePostprocessor):
    """Rerank retrieved nodes with a workbench setup; keep the best `top_n` (None: all)."""

    setup: Any = Field(description="A setup file (TOML/JSON), a dict of setup keys, a Setup, or a loaded Reranker")
    top_n: Optional[int] = Field(default=2, ge=1, description="Nodes to return (LlamaIndex's rerankers keep 2)")
    _reranker: Reranker = PrivateAttr()

    @model_validator(mode="after")
    def _load_setup(self) -> WorkbenchPostprocessor:
        # The file is read and checked here; the model itself loads on the first call.
        self._reranker = reranker_of(self.setup)
        return self

    @classmethod
    def class_name(cls) -> str:
        return "WorkbenchPostprocessor"

    @property
    def reranker(self) -> Reranker:
        """The workbench Reranker behind this postprocessor (shareable with other adapters)."""
        return self._reranker

    def _postprocess_nodes(
        self, nodes: List[NodeWithScore], query_bundle: Optional[QueryBundle] = None
    ) -> List[NodeWithScore]:
        if query_bundle is None:
            raise ValueError("Missing query bundle in extra info.")  # LlamaIndex's rerankers say so
        texts = [_text(n, item) for n, item in enumerate(nodes)]
        if not texts:
            return []
        out = []
        for hit in self._reranker.rerank(query_bundle.query_str, texts, self.top_n):
            node = nodes[hit.index].node
            copy = node.model_copy(update={
                "metadata": {**node.metadata, **hit_metadata(hit)},
                "excluded_llm_metadata_keys": _with_ours(node.excluded_llm_metadata_keys),
                "excluded_embed_metadata_keys": _with_ours(node.excluded_embed_metadata_keys),
            })
            out.append(NodeWithScore(node=copy, score=hit.score))
        return out


def _text(n: int, item: Any) -> str:
    node = getattr(item, "node", None)
    if not isinstance(node, TextNode) or (isinstance(node, ImageNode) and not node.text):
        what = type(node).__name__ if node is not None else type(item).__name__
        raise ValueError(f"node {n} ({what}) has no text: the workbench reranks text nodes")
    return node.get_content(metadata_mode=MetadataMode.NONE)


def _with_ours(keys: list[str]) -> list[str]:
    return list(dict.fromkeys([*keys, *METADATA_KEYS]))  # once each, however often reranked
