"""Which device the engine's tests load the tiny model on: the CPU unless WORKBENCH_TEST_DEVICE
says otherwise (tests/conftest.py hides any GPU from the rest of the suite).

`WORKBENCH_TEST_DEVICE=cuda python -m pytest tests/engine` runs the engine's tests on a GPU in
fp32, held to the same tolerances as on the CPU, plus the bf16 checks in tests/engine/test_gpu.py.
"""

from __future__ import annotations

import os

DEVICE = os.environ.get("WORKBENCH_TEST_DEVICE", "cpu")


def load_options(**fields):
    """LoadOptions for the device under test, fp32 unless a test asks otherwise: the tolerances
    against the official reference (computed in fp32 on the CPU) are fp32 tolerances."""
    from workbench.engine.loading import LoadOptions

    fields.setdefault("device", DEVICE)
    fields.setdefault("dtype", "fp32")
    return LoadOptions(**fields)
