"""Synthetic history plots and the benchmark of the history-plot reader."""
