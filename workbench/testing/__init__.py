"""Offline test and benchmark helpers: a real Qwen3 tokenizer and tiny random Qwen3 models."""
