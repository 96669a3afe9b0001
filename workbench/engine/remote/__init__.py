"""Scoring through rerank servers (vLLM, and Cohere/Jina-style /rerank servers) instead of a
local model: `connect` builds a Scorer the rest of the workbench uses like a local one."""

from .connect import BackendUnavailable, check_urls, connect

__all__ = ["BackendUnavailable", "check_urls", "connect"]
