"""`make bench`: the figures of BENCHMARKS.md, measured on this machine (see bench/run.py)."""
