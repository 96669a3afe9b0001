"""Unit tests of the UI's plain-Python parts: presets file, colour scale, text wrapping."""

from __future__ import annotations

import pytest

from workbench.engine.prompt import DEFAULT_INSTRUCTION
from workbench.ui.heat import RAMP, heat_index, legend, score_bar
from workbench.ui.presets import PresetError, StorePresets
from workbench.ui.widgets.document_view import wrap_lines
from workbench.ui.widgets.status_bar import human_bytes, short_model_id


def test_presets_start_with_the_official_instruction_and_persist(tmp_path):
    presets = StorePresets(tmp_path / "p.db")
    assert any(text == DEFAULT_INSTRUCTION for _, text in presets.list())
    presets.save("legal", "Find clauses")
    presets.save("legal", "Find contract clauses")  # same name replaces
    assert dict(presets.list())["legal"] == "Find contract clauses"
    # Another process (a new app) sees the same presets: they live in the database.
    again = StorePresets(tmp_path / "p.db")
    assert dict(again.list())["legal"] == "Find contract clauses"
    again.delete("legal")
    assert "legal" not in dict(presets.list())
    with pytest.raises(PresetError):
        presets.save("  ", "x")


def test_unusable_preset_storage_is_reported_not_crashed_on(tmp_path):
    (tmp_path / "not-a-dir").write_text("x")
    with pytest.raises(PresetError):
        StorePresets(tmp_path / "not-a-dir" / "p.db").list()


def test_the_colour_scale_is_fixed_and_covers_0_to_1():
    assert heat_index(0.0) == 0 and heat_index(1.0) == len(RAMP) - 1
    assert heat_index(-3) == 0 and heat_index(7) == len(RAMP) - 1
    assert [heat_index(i / 10 + 0.01) for i in range(10)] == list(range(10))
    assert score_bar(0.5, 8).cell_len == 8 and score_bar(1.0, 8).plain == "█" * 8
    assert "not scored" in legend().plain


def test_wrapped_lines_cover_the_text_and_fit_the_width():
    text = "word " * 50 + "\n\n" + "x" * 95 + "\n" + "短文本" * 20
    lines = wrap_lines(text, 30)
    assert all(end - start <= 30 for start, end in lines[:-1] if text[start:end].isascii())
    rebuilt = "".join(text[s:e] for s, e in lines).replace("\n", "")
    assert rebuilt == text.replace("\n", "")
    assert lines[0][0] == 0 and lines[-1][1] == len(text)


def test_status_bar_formats():
    assert short_model_id("/tmp/x/tiny-qwen3") == "tiny-qwen3"
    assert short_model_id("Qwen/Qwen3-Reranker-0.6B") == "Qwen/Qwen3-Reranker-0.6B"
    assert human_bytes(3 << 30) == "3.0 GiB" and human_bytes(5 << 20) == "5 MiB" and human_bytes(None) == "?"
