"""The coalition cache keeps every user's moments and stores them: an explanation read from the
store equals a fresh one, under both games; old, foreign and newer files are never misread."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from anchorrec.analysis import attribution as at
from anchorrec.analysis.attribution import (
    CACHE_FORMAT,
    GAMES,
    attribute,
    build_coalition_cache,
    coalition_cache,
    explain_user,
    rank_values,
)
from anchorrec.analysis.attribution.cache import train_fingerprint


def _stored(loaded, tmp_path, game):
    """``loaded`` with a model directory of its own, and nothing of it kept in memory."""
    stored = replace(loaded, model_dir=tmp_path)
    at._CACHES.pop(stored.model, None)
    return stored


def _file(tmp_path):
    files = list((tmp_path / "attribution").glob("coalitions-*.npz"))
    assert len(files) == 1
    return files[0]


def _rewrite(path, change):
    """Rewrite the stored file with ``change(arrays, meta)`` applied (arrays by name)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "meta"}
        meta = json.loads(str(z["meta"][()]))
    change(arrays, meta)
    buf = io.BytesIO()
    np.savez(buf, meta=np.asarray(json.dumps(meta)), **arrays)
    path.write_bytes(buf.getvalue())


def _z(cache, user, drop, items):
    """The items' z-scores among ``user``'s unseen items with ``drop`` removed (0: all tie)."""
    unseen = np.setdiff1d(np.arange(cache.n_items), cache.seen(user))
    s = cache.scores(user, drop).astype(np.float64)
    spread = s[unseen].std()
    return (s[items] - s[unseen].mean()) / spread if spread > 1e-9 else 0.0 * s[items]


@pytest.mark.parametrize("game", GAMES)
def test_kept_moments_equal_the_moments_of_scoring_every_item(tiny_model, game):
    cache = build_coalition_cache(tiny_model, game=game)
    assert cache.moments is not None
    users = np.arange(cache.n_users)
    scored = cache._scored_moments(users, 16, None)
    for kept, fresh in zip(cache.moments, scored, strict=True):
        np.testing.assert_allclose(kept, fresh, rtol=1e-5, atol=1e-6)
    # a lookup now, and the same numbers for a few users as for all
    some = np.array([5, 2, 5])
    for part, whole in zip(cache.coalition_moments(some), cache.moments, strict=True):
        np.testing.assert_array_equal(part, whole[:, some])


@pytest.mark.parametrize("game", GAMES)
def test_an_explanation_read_from_the_store_equals_a_fresh_one(tiny_model, tmp_path, game):
    loaded = _stored(tiny_model, tmp_path, game)
    built = coalition_cache(loaded, persist=True, game=game)
    with np.load(_file(tmp_path), allow_pickle=False) as z:
        assert json.loads(str(z["meta"][()]))["format"] == CACHE_FORMAT
        np.testing.assert_array_equal(z["moment_mean"], built.moments[0])
        np.testing.assert_array_equal(z["moment_std"], built.moments[1])
    at._CACHES.pop(loaded.model, None)
    read = coalition_cache(loaded, persist=True, game=game)
    assert read is not built and read.game == game
    for u in (0, 7, 31):
        fresh, again = explain_user(built, u, 10), explain_user(read, u, 10)
        pd.testing.assert_frame_equal(again.items, fresh.items)  # bit for bit
        t = again.items
        phi = t[[f"phi_{p}" for p in again.players]].sum(axis=1)
        np.testing.assert_allclose(t["baseline"] + phi, t["score"], rtol=1e-9, atol=1e-9)
        # the standardised game: Σφ_z is the item's z-score among the unseen items with
        # every input less the one with none (0 where that coalition's scores all tie)
        items = t["item"].to_numpy()
        expected = _z(read, u, frozenset(), items) - _z(read, u, frozenset(read.players), items)
        zphi = t[[f"zphi_{p}" for p in again.players]].sum(axis=1)
        np.testing.assert_allclose(zphi, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("game", GAMES)
def test_a_file_without_moments_is_read_and_completed(tiny_model, tmp_path, game):
    loaded = _stored(tiny_model, tmp_path, game)
    built = coalition_cache(loaded, persist=True, game=game)
    path = _file(tmp_path)

    def as_format_1(arrays, meta):  # what the code before the moments wrote
        del arrays["moment_mean"], arrays["moment_std"], meta["format"], meta["train"]

    _rewrite(path, as_format_1)
    at._CACHES.pop(loaded.model, None)
    read = coalition_cache(loaded, persist=True, game=game)
    np.testing.assert_array_equal(read.items, built.items)
    for a, b in zip(read.moments, built.moments, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    with np.load(path, allow_pickle=False) as z:  # rewritten in the current format
        assert json.loads(str(z["meta"][()]))["format"] == CACHE_FORMAT
        assert "moment_mean" in z.files


def test_moments_of_another_train_matrix_are_not_read(tiny_model, tmp_path):
    loaded = _stored(tiny_model, tmp_path, "mean")
    built = coalition_cache(loaded, persist=True)
    path = _file(tmp_path)

    def foreign(arrays, meta):  # moments taken over other purchases
        arrays["moment_mean"] = arrays["moment_mean"] + 1.0
        meta["train"] = "0" * 16

    _rewrite(path, foreign)
    assert train_fingerprint(loaded.dataset.train) != "0" * 16
    at._CACHES.pop(loaded.model, None)
    read = coalition_cache(loaded, persist=True)
    np.testing.assert_allclose(read.moments[0], built.moments[0], rtol=1e-12, atol=1e-12)


def test_a_file_of_a_newer_format_is_never_read(tiny_model, tmp_path):
    loaded = _stored(tiny_model, tmp_path, "mean")
    built = coalition_cache(loaded, persist=True)
    path = _file(tmp_path)

    def newer(arrays, meta):
        arrays["items"] = np.zeros_like(arrays["items"])  # what this code cannot tell apart
        meta["format"] = CACHE_FORMAT + 1

    _rewrite(path, newer)
    at._CACHES.pop(loaded.model, None)
    read = coalition_cache(loaded, persist=True)  # rebuilt from the model
    np.testing.assert_array_equal(read.items, built.items)


@pytest.mark.parametrize("game", GAMES)
def test_one_shoppers_paths_read_one_row(tiny_model, game):
    cache = build_coalition_cache(tiny_model, game=game)
    user = 9
    row = cache.coalition_scores(user)
    assert not row.flags.writeable
    expected = np.einsum("sid,sd->si", cache.items, cache.users[:, user])
    np.testing.assert_allclose(row, expected, rtol=1e-5, atol=1e-6)
    items = np.array([3, 0, 17])
    one = attribute(cache, user, items)
    np.testing.assert_array_equal(one.scores, row[-1, items].astype(np.float64))
    # the branch values of one shopper equal those of the pairs' general path, and both the
    # textbook form φ_m = G_mm + ½ Σ_{k≠m} (G_mk + G_km), G_ab = u_a · i_b
    pair_users = np.array([user, 1, user])
    pairs = cache.pair_branch_values(pair_users, items)
    np.testing.assert_allclose(one.branch_values[:, [0, 2]], pairs[:, [0, 2]], rtol=1e-9)
    ubr = cache.user_branches[:, pair_users].astype(np.float64)
    ibr = cache.item_branches[:, items].astype(np.float64)
    gram = np.einsum("apd,bpd->abp", ubr, ibr)
    diag = np.einsum("mmp->mp", gram)
    textbook = diag + 0.5 * ((gram.sum(axis=1) - diag) + (gram.sum(axis=0) - diag))
    np.testing.assert_allclose(pairs, textbook, rtol=1e-9, atol=1e-12)
    # another shopper's row is not the kept one
    assert not np.array_equal(cache.coalition_scores(2), row)


@pytest.mark.parametrize("game", GAMES)
def test_a_few_items_rank_as_in_the_whole_catalogue(tiny_model, game):
    cache = build_coalition_cache(tiny_model, game=game)
    user = 4
    many = np.arange(cache.n_items)  # over 64 items: sorted scores, full ranking
    few = np.array([1, 8, 30, 2])
    whole = rank_values(cache, user, many, k=5)
    part = rank_values(cache, user, few, k=5)
    np.testing.assert_array_equal(part.ranks, whole.ranks[few])
    np.testing.assert_array_equal(part.ranks, cache.ranks(user)[few])
    np.testing.assert_allclose(part.values, whole.values[:, few], rtol=0, atol=1e-15)
    assert part.efficiency_error() < 1e-12
