"""Exact Shapley values of a dot-product score, at branch level and at input level.

Both games are small, so both values are exact and *efficient*: the values of a (user, item)
pair add up to ``score − v(∅)`` to float precision.

Branch level. The embeddings are sums of named branches, ``h_u = Σ_a u_a`` and
``h_i = Σ_b i_b``. With ``G_ab = u_a · i_b`` and ``v(S) = Σ_{a,b ∈ S} G_ab`` the game is
quadratic, and its Shapley value has the closed form

    φ_m = G_mm + ½ Σ_{k≠m} (G_mk + G_km),        v(∅) = 0.

Input level. The players are the model's inputs (``id``, ``image``, ``text`` and an opaque
``fused``). ``v(S)`` is the score of the model run with every player outside ``S`` removed
(:meth:`Recommender.compute_embeddings` with ``drop``); the value is the classic weighted sum
over the ``2^n`` coalitions,

    φ_m = Σ_{S ⊆ N∖{m}} |S|! (n − |S| − 1)! / n! · (v(S ∪ {m}) − v(S)).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np


def branch_shapley(user_branches: np.ndarray, item_branches: np.ndarray) -> np.ndarray:
    """Closed-form Shapley values of the branch game.

    ``user_branches`` is ``B×d`` (one user's branches) and ``item_branches`` is ``B×I×d``
    (the same ``B`` branches of ``I`` items, zero where a side lacks a branch). Returns the
    ``B×I`` values; their column sums equal the scores ``h_u · h_i``.
    """
    gram = np.einsum("ad,bid->abi", user_branches, item_branches)  # G[a, b, i] = u_a · i_b
    diagonal = np.einsum("mmi->mi", gram)
    row = gram.sum(axis=1) - diagonal  # Σ_{k≠m} G_mk
    col = gram.sum(axis=0) - diagonal  # Σ_{k≠m} G_km
    return diagonal + 0.5 * (row + col)


def branch_game_value(
    user_branches: np.ndarray, item_branches: np.ndarray, members: Sequence[int]
) -> np.ndarray:
    """``v(S) = Σ_{a,b ∈ S} u_a · i_b`` for every item: the game the closed form solves."""
    if not members:
        return np.zeros(item_branches.shape[1], dtype=np.float64)
    idx = list(members)
    return np.einsum("d,id->i", user_branches[idx].sum(axis=0), item_branches[idx].sum(axis=0))


def coalitions(players: Sequence[str]) -> list[frozenset[str]]:
    """All ``2^n`` subsets of ``players``, smallest first (``∅`` is index 0, ``N`` the last)."""
    out: list[frozenset[str]] = []
    for size in range(len(players) + 1):
        out.extend(frozenset(c) for c in itertools.combinations(players, size))
    return out


def shapley_weight_matrix(players: Sequence[str], subsets: Sequence[frozenset[str]]) -> np.ndarray:
    """The ``n × 2^n`` matrix ``W`` with ``φ = W @ v`` for a value vector ``v`` over ``subsets``.

    ``W[m, S] = +w(|S|−1)`` when ``m ∈ S`` and ``−w(|S|)`` when ``m ∉ S``, with
    ``w(s) = s! (n−s−1)! / n!``.
    """
    n = len(players)

    def weight(s: int) -> float:
        return math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)

    matrix = np.zeros((n, len(subsets)), dtype=np.float64)
    for j, subset in enumerate(subsets):
        for m, player in enumerate(players):
            if player in subset:
                matrix[m, j] = weight(len(subset) - 1)
            else:
                matrix[m, j] = -weight(len(subset))
    return matrix


def marginal_terms(
    players: Sequence[str], subsets: Sequence[frozenset[str]]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per player ``m``: the indices of ``S ∪ {m}`` and ``S`` for every ``S ∌ m``, and ``w(|S|)``.

    ``φ_m = Σ w · (v[with] − v[without])`` (:func:`shapley_from_values`) is the same value as
    ``W @ v`` but sums *differences*, so a player that never changes ``v`` gets exactly 0.
    """
    n = len(players)
    index = {frozenset(s): j for j, s in enumerate(subsets)}
    out = []
    for player in players:
        with_, without, weights = [], [], []
        for subset in subsets:
            if player in subset:
                continue
            with_.append(index[frozenset(subset) | {player}])
            without.append(index[frozenset(subset)])
            s = len(subset)
            weights.append(math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n))
        out.append((np.asarray(with_), np.asarray(without), np.asarray(weights)))
    return out


def shapley_from_values(
    terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]], values: np.ndarray
) -> np.ndarray:
    """Shapley values (``n × …``) from ``v`` over the subsets (``2^n × …``), by differences."""
    values = np.asarray(values, dtype=np.float64)
    phi = np.zeros((len(terms), *values.shape[1:]), dtype=np.float64)
    for m, (with_, without, weights) in enumerate(terms):
        diff = values[with_] - values[without]
        phi[m] = np.tensordot(weights, diff, axes=(0, 0))
    return phi


def shapley_by_enumeration(
    players: Sequence[str], value: dict[frozenset[str], np.ndarray]
) -> np.ndarray:
    """Shapley values from the textbook permutation definition (slow; a reference for tests).

    Averages the marginal contribution of each player over all ``n!`` orders of arrival.
    """
    n = len(players)
    some_value = next(iter(value.values()))
    phi = np.zeros((n, *np.shape(some_value)), dtype=np.float64)
    orders = list(itertools.permutations(range(n)))
    for order in orders:
        present: set[str] = set()
        for m in order:
            before = value[frozenset(present)]
            present.add(players[m])
            phi[m] += value[frozenset(present)] - before
    return phi / len(orders)


def abs_shares(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """``|φ_m| / Σ|φ|`` along ``axis`` (0 where every value is 0)."""
    magnitude = np.abs(values)
    total = magnitude.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(total > 0, magnitude / np.where(total > 0, total, 1.0), 0.0)
    return shares
