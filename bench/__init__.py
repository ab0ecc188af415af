"""Benchmarks, research experiments and the scripts that rebuild shipped files.

- ``bench.speed``: speed and scale benchmarks;
- ``bench.research``: research experiments (what the models and the sample show);
- ``bench.rebuild``: scripts that rebuild shipped files (models, diagnostics, screenshots, the
  generated tables of ``docs/``);
- ``bench.common``: helpers the others share (provenance of a result row, the Baby graph, the
  results files).

Run a script from the repository root as a module, ``python -m bench.speed.train_speed_baby``,
or as a file, ``python bench/speed/train_speed_baby.py``. Results go to ``bench/results/``.
"""
