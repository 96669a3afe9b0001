"""Fixtures for the adapter tests: the real frameworks, the offline MiniLM embedding model (mean
pooled, as sentence-transformers does it) for their in-memory vector stores, and the tiny reranker."""

from __future__ import annotations

import os

import pytest



@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "wb-data"))
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "wb-config"))
    for key in list(os.environ):
        if key.startswith("WORKBENCH_") and key not in ("WORKBENCH_DATA_DIR", "WORKBENCH_CONFIG_DIR"):
            monkeypatch.delenv(key)


class MiniLM:
    """all-MiniLM-L6-v2 from the offline package: mean-pooled, normalised sentence embeddings."""

    def __init__(self) -> None:
        from transformers import AutoModel, AutoTokenizer

        from workbench.engine.fallback import fallback_model_dir

        self.tokenizer = AutoTokenizer.from_pretrained(fallback_model_dir())
        self.model = AutoModel.from_pretrained(fallback_model_dir()).eval()

    def __call__(self, texts: list[str]) -> list[list[float]]:
        import torch

        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
        with torch.no_grad():
            out = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1)
        return torch.nn.functional.normalize(pooled, dim=-1).tolist()


@pytest.fixture(scope="session")
def minilm() -> MiniLM:
    return MiniLM()


@pytest.fixture(scope="session")
def tiny_setup(tiny_model_dir) -> dict:
    return {"model": str(tiny_model_dir), "instruction": "Find the retention rules", "chunk_tokens": 24,
            "chunk_overlap": 4, "aggregate": "max"}


@pytest.fixture(scope="session")
def tiny_reranker(tiny_setup):
    import workbench

    return workbench.load_setup(tiny_setup, eager=True)
