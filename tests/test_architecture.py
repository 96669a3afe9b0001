"""The engine and the store are headless: importing them must not pull in Textual."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    ["workbench.engine.ranking", "workbench.engine.loading", "workbench.store", "workbench.session", "workbench.session.sqlite_recorder", "workbench.session.live_metrics",
     "workbench.evaluation.metrics", "workbench.ab_compare", "workbench.calibration",
     "workbench.cli", "workbench.run_format", "workbench.documents"],
)
def test_module_does_not_import_textual(module):
    code = f"import sys, {module}; print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_app_draws_its_window_before_torch_is_imported():
    """torch and transformers take seconds to import on a small CPU; the app imports them in its
    model-loading worker, after the window is up, so nothing before the window may import them."""
    code = ("import sys, workbench.ui.app, workbench.cli; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
