"""Small statistics shared by the analysis and the sample builder: how unevenly counts are spread
(recommendation exposure, item popularity)."""

from __future__ import annotations

import numpy as np


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative ``counts`` (0 = all equal, → 1 = one takes all)."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    cum = np.cumsum(x)
    return float((n + 1 - 2 * (cum / cum[-1]).sum()) / n)


def sample_rows(n: int, max_rows: int | None, seed: int = 0) -> np.ndarray:
    """All row indices when ``n ≤ max_rows``, else a seeded sorted sample of ``max_rows``."""
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))
