"""Tests of the notebook corpus (reference/corpus)."""
