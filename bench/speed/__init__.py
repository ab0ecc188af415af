"""Speed and scale benchmarks. Each script appends one row to ``bench/results/``."""
