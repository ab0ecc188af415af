"""The standardised game's moments over each user's unseen items, two ways: by scoring every
item (a few users) and from each coalition's mean item and centred Gram matrix (many)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from anchorrec.analysis.attribution import coalition_cache
from tests.analysis.conftest import FakeLoadedModel


@pytest.mark.parametrize("game", ["mean", "background"])
def test_the_gram_moments_equal_the_scored_ones(tiny_model, game):
    cache = coalition_cache(tiny_model, game=game)
    users = np.arange(cache.n_users)
    assert cache._item_moments  # computed once: from now on every call takes the Gram path
    scored = cache._scored_moments(users, 16, None)
    gram = cache.coalition_moments(users)
    for a, b in zip(scored, gram, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)  # scored: float32 products


def test_a_coalition_whose_items_all_score_alike_has_no_spread(tiny_model):
    cache = coalition_cache(FakeLoadedModel(model=tiny_model.model, dataset=tiny_model.dataset))
    items = cache.items.copy()
    items[0] = items[0, :1] * 3.7  # every item the same vector under the first coalition
    tied = dataclasses.replace(cache, items=items)
    assert tied._item_moments
    mean, std = tied.coalition_moments(np.arange(tied.n_users))
    assert np.all(std[0] <= 1e-9)  # the z-score game treats it as tied (0), not as noise
    np.testing.assert_allclose(mean[0], tied.users[0] @ items[0, 0], rtol=1e-6, atol=1e-9)
    assert np.all(std[-1] > 1e-6)
