"""Dataset.user_items: a shopper's items in one split, without reading CSR internals."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import make_tiny_dataset


def test_user_items_lists_each_split_of_a_user():
    ds = make_tiny_dataset(n_users=12, n_items=20)
    for user in range(ds.n_users):
        for split in ("train", "valid", "test"):
            dense = ds.split(split)[user].toarray().ravel()
            got = ds.user_items(user, split)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, np.flatnonzero(dense))
    with pytest.raises(ValueError, match="unknown split"):
        ds.user_items(0, "later")
