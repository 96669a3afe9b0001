"""LangChain: a document compressor that reranks with a workbench setup.

    from langchain_classic.retrievers import ContextualCompressionRetriever
    from workbench.integrations.langchain import WorkbenchCompressor

    retriever = ContextualCompressionRetriever(
        base_compressor=WorkbenchCompressor(setup="setup.toml", top_n=5),
        base_retriever=vector_store.as_retriever(search_kwargs={"k": 30}),
    )

Each returned Document is a copy with `relevance_score` (0..1), `relevance_logit` and the best
chunk's `best_chunk_start` / `best_chunk_end` (character offsets into page_content) added to its
metadata. `acompress_documents` is LangChain's own: it runs the compressor in an executor.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from typing import Any, Optional

try:
    from langchain_core.callbacks import Callbacks
    from langchain_core.documents import BaseDocumentCompressor, Document
    from pydantic import ConfigDict, Field, PrivateAttr, model_validator
except ImportError as e:
    from .common import missing_framework

    raise missing_framework(__name__, "LangChain (langchain-core)", "langchain") from e

from workbench.api import Reranker

from .common import hit_metadata, reranker_of

__all__ = ["WorkbenchCompressor"]


class WorkbenchCompressor(BaseDocumentCompressor):
    """Rerank retrieved documents with a workbench setup; keep the best `top_n` (None: all)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    setup: Any = Field(description="A setup file (TOML/JSON), a dict of setup keys, a Setup, or a loaded Reranker")
    top_n: Optional[int] = Field(default=3, ge=1, description="Documents to return (LangChain's rerankers keep 3)")
    _reranker: Reranker = PrivateAttr()

    @model_validator(mode="after")
    def _load_setup(self) -> WorkbenchCompressor:
        # The file is read and checked here (a bad one is a ValidationError naming the key); the
        # model itself loads on the first call.
        self._reranker = reranker_of(self.setup)
        return self

    @property
    def reranker(self) -> Reranker:
        """The workbench Reranker behind this compressor (shareable with other adapters)."""
        return self._reranker

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """`documents` reranked for `query`, best first, scores in their metadata."""
        texts = []
        for n, doc in enumerate(documents):
            text = getattr(doc, "page_content", None)
            if not isinstance(text, str):
                raise ValueError(f"document {n} ({type(doc).__name__}) has no text (page_content): "
                                 "the workbench reranks text documents")
            texts.append(text)
        if not texts:
            return []
        out = []
        for hit in self._reranker.rerank(query, texts, self.top_n):
            doc = documents[hit.index]
            out.append(Document(page_content=doc.page_content, metadata={**deepcopy(doc.metadata), **hit_metadata(hit)},
                                id=doc.id))
        return out
