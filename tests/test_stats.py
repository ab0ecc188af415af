"""The Gini coefficient behind exposure concentration (audit) and popularity skew (sample)."""

from __future__ import annotations

import numpy as np
import pytest

from anchorrec.stats import gini


def test_gini_extremes():
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.r_[np.zeros(99), 1.0]) == pytest.approx(0.99)
    assert gini(np.zeros(5)) == 0.0
