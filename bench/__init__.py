"""Benchmarks: `make bench` runs every bench/bench_*.py and writes docs/performance.md.

Each module has ``TITLE`` and ``run() -> str`` returning a Markdown section: the figures for the
hub and, measured in the same run on the same harness, for a bare baseline, with their ratio.
Timings never go in tests; they go here.
"""
