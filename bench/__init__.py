"""Benchmarks: ``python -m bench`` prints a table of figures beside their targets and
writes ``bench/results/<preset>-embedded.json``."""
