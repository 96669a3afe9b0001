"""Adapters that put a workbench setup into retrieval frameworks, each behind its optional extra:

- `workbench.integrations.langchain.WorkbenchCompressor` (pip install 'rerank-workbench[langchain]')
- `workbench.integrations.llamaindex.WorkbenchPostprocessor` (pip install 'rerank-workbench[llamaindex]')

Importing this package imports neither framework.
"""
