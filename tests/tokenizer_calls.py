"""What a tokenizer is asked to encode: how tests see that work was done ahead, or not twice."""

from __future__ import annotations

from workbench.engine.types import Document


def tokenised_texts(monkeypatch, tokenizer) -> list[str]:
    """Every text the tokenizer is called on from now on (chunking and prompt building both call it)."""
    seen: list[str] = []
    real = type(tokenizer).__call__

    def recording(self, text, *args, **kwargs):
        seen.extend([text] if isinstance(text, str) else text)
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(type(tokenizer), "__call__", recording)
    return seen


def unseen_documents(tag: str) -> list[Document]:
    """Texts no other test shows the tests' shared tiny scorer, which remembers the token ids of
    texts it has seen: each mentions a kiln, which nothing else does."""
    return [Document(f"{tag}{i}.md", f"Note {tag}{i} about kiln {i} and glaze batch {tag}{i * 7}. " * 12) for i in range(4)]
