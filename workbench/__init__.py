"""rerank workbench: tune a reranker setup in the app, then use it from Python.

`workbench.load_setup(path_or_dict)` returns a Reranker (see workbench/api.py). The names below
are imported on first use, so `import workbench` stays cheap (no torch until a model loads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it (imported on first access, PEP 562)
_LAZY = {
    "load_setup": "workbench.api",
    "Reranker": "workbench.api",
    "RerankedDocument": "workbench.api",
    "BestChunk": "workbench.api",
    "Setup": "workbench.setup_file",
    "SetupError": "workbench.setup_file",
    "read_setup": "workbench.setup_file",
    "write_setup": "workbench.setup_file",
}
__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:
    from .api import BestChunk, RerankedDocument, Reranker, load_setup
    from .setup_file import Setup, SetupError, read_setup, write_setup


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
