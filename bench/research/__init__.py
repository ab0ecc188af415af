"""Research experiments: what the models and the sample show, recorded in ``bench/results/``."""
