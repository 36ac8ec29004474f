"""Benchmarks: each prints figures and ratios against a reference measured in the same run
(``uv run python -m benchmarks.NAME``)."""
