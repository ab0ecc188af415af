"""Full-ranking evaluation, with the metrics defined as MMRec defines them.

Every user with at least one item in the evaluated split is ranked against all items; items
the user already has in train are masked. When testing, the *mask rule* says whether the
valid items are masked too: ``"train"`` (the default, MMRec's rule, so figures compare with
published ones) masks only the train items; ``"train+valid"`` masks both (it adds about
+0.009 Recall@20 on the bundled sample). Every metrics file records the rule it used. For a
user with
ground truth G and top-K list r_1..r_K (rel_k = 1 if r_k ∈ G):

- Recall@K = Σ rel / |G|;  Precision@K = Σ rel / K;  HitRate@K = 1 if any rel
- NDCG@K = Σ_k rel_k / log2(k+1)  /  Σ_{k ≤ min(|G|, K)} 1 / log2(k+1)
- MAP@K = Σ_k rel_k · Precision@k / min(|G|, K)
- MRR@K = 1 / (rank of the first relevant item in the top K), 0 when none (RecBole's MRR)

averaged over the evaluated users. Catalogue coverage@K is the fraction of all items that
appear in at least one top-K list; mean popularity@K the mean train-interaction count of the
recommended items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from anchorrec.data.dataset import Dataset
from anchorrec.evaluation.segments import segment_means, user_segments  # noqa: F401 - re-exported
from anchorrec.models.base import Embeddings, Recommender
from anchorrec.models.config import DEFAULT_MASK, LEGACY_MASK, MASK_RULES  # noqa: F401 - re-exported
from anchorrec.models.ranking import top_k_items

DEFAULT_KS: tuple[int, ...] = (5, 10, 20, 50)


def check_mask(mask: str) -> str:
    """``mask`` if it is a known rule, else ValueError naming the rules."""
    if mask not in MASK_RULES:
        raise ValueError(f"unknown mask rule {mask!r}; use one of {', '.join(MASK_RULES)}")
    return mask


def seen_items(dataset: Dataset, split: str, mask: str = DEFAULT_MASK) -> sp.csr_matrix:
    """Items masked when ranking for ``split``: train for valid; for test, train under the
    ``"train"`` rule and train + valid under ``"train+valid"``."""
    check_mask(mask)
    if split == "valid":
        return dataset.train
    if split == "test":
        if mask == "train":
            return dataset.train
        return (dataset.train + dataset.valid).tocsr()
    if split == "train":
        return sp.csr_matrix(dataset.train.shape, dtype=np.float32)
    raise ValueError(f"unknown split {split!r}; use valid or test")


def _embeddings_of(model_or_embeddings: object) -> Embeddings:
    if isinstance(model_or_embeddings, Embeddings):
        return model_or_embeddings
    model = getattr(model_or_embeddings, "model", model_or_embeddings)  # a LoadedModel
    if model is not model_or_embeddings and isinstance(model, Recommender):
        from anchorrec.models.cold_start import ranking_embeddings

        return ranking_embeddings(model_or_embeddings)  # type: ignore[arg-type]
    if isinstance(model, Recommender):
        return model.eval_embeddings()
    raise TypeError(f"cannot evaluate a {type(model_or_embeddings).__name__}")


def _relevance(
    top: np.ndarray, truth: sp.csr_matrix, users: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``rel[u, r]``: whether ``top[u, r]`` is in ``users[u]``'s truth; and each truth's size."""
    n_items = truth.shape[1]
    truth_rows = truth[users]
    truth_rows.sort_indices()
    row_of = np.repeat(np.arange(len(users), dtype=np.int64), np.diff(truth_rows.indptr))
    truth_keys = row_of * n_items + truth_rows.indices.astype(np.int64)  # sorted
    top_keys = np.arange(len(users), dtype=np.int64)[:, None] * n_items + top
    pos = np.minimum(np.searchsorted(truth_keys, top_keys), max(len(truth_keys) - 1, 0))
    rel = truth_keys[pos] == top_keys if len(truth_keys) else np.zeros(top.shape, bool)
    return rel, np.diff(truth_rows.indptr).astype(np.float64)


def per_user_metrics(
    model_or_embeddings: object,
    dataset: Dataset,
    split: str = "test",
    k: int = 20,
    *,
    mask: str = DEFAULT_MASK,
) -> dict[str, np.ndarray]:
    """Recall@k and NDCG@k of every evaluated user, as :func:`evaluate` averages them.

    Returns ``{"users": ids, "recall@k": values, "ndcg@k": values}`` (one entry per user with
    an interaction in ``split``, sorted by id), for paired comparisons between models.
    """
    users, top = _ranked(model_or_embeddings, dataset, split, k, mask=mask)
    per_user = _per_user_ranking_metrics(top, dataset.split(split), users, [k])
    return {
        "users": users,
        f"recall@{k}": per_user[f"recall@{k}"],
        f"ndcg@{k}": per_user[f"ndcg@{k}"],
    }


def _per_user_ranking_metrics(
    top: np.ndarray, truth: sp.csr_matrix, users: np.ndarray, ks: Sequence[int]
) -> dict[str, np.ndarray]:
    """Recall, NDCG, Precision, MAP, HitRate and MRR at each K, one value per user."""
    rel, n_true = _relevance(top, truth, users)
    max_k = top.shape[1]
    ranks = np.arange(1, max_k + 1, dtype=np.float64)
    discount = 1.0 / np.log2(ranks + 1)
    cum_hits = np.cumsum(rel, axis=1)
    precision_at = cum_hits / ranks
    ap_sum = np.cumsum(precision_at * rel, axis=1)
    idcg_table = np.cumsum(discount)
    dcg = np.cumsum(rel * discount, axis=1)
    first_hit = np.argmax(rel, axis=1) if max_k else np.zeros(len(rel), dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for k in ks:
        kk = min(k, max_k)
        hits = cum_hits[:, kk - 1]
        ideal = np.minimum(n_true, kk).astype(int)
        out[f"recall@{k}"] = hits / n_true
        out[f"ndcg@{k}"] = dcg[:, kk - 1] / idcg_table[ideal - 1]
        out[f"precision@{k}"] = hits / k
        out[f"map@{k}"] = ap_sum[:, kk - 1] / ideal
        out[f"hitrate@{k}"] = hits > 0
        out[f"mrr@{k}"] = np.where(hits > 0, 1.0 / (first_hit + 1), 0.0)
    return out


def ranking_metrics(
    top: np.ndarray,
    truth: sp.csr_matrix,
    users: np.ndarray,
    ks: Sequence[int],
    popularity: np.ndarray,
) -> dict[str, float]:
    """Metrics of top-K lists ``top`` (one row per user in ``users``) against ``truth``."""
    n_items = truth.shape[1]
    per_user = _per_user_ranking_metrics(top, truth, users, ks)
    out: dict[str, float] = {}
    for k in ks:
        for name in ("recall", "ndcg", "mrr", "precision", "map", "hitrate"):
            out[f"{name}@{k}"] = float(np.mean(per_user[f"{name}@{k}"]))
        listed = top[:, : min(k, top.shape[1])]
        out[f"coverage@{k}"] = float(len(np.unique(listed)) / n_items)
        out[f"mean_popularity@{k}"] = float(popularity[listed].mean())
    return out


def evaluated_users(
    dataset: Dataset, split: str, users: Sequence[int] | np.ndarray | None = None
) -> np.ndarray:
    """The sorted ids of ``users`` (default: everyone) with an interaction in ``split``.

    Raises ValueError naming the valid range when an id is not a user of ``dataset``.
    """
    has_truth = np.diff(dataset.split(split).indptr) > 0
    if users is None:
        return np.flatnonzero(has_truth)
    ids = np.unique(np.asarray(users, dtype=np.int64))
    if len(ids) and (ids.min() < 0 or ids.max() >= dataset.n_users):
        raise ValueError(f"users must be ids in 0..{dataset.n_users - 1} of {dataset.name!r}")
    return ids[has_truth[ids]]


def evaluate(
    model_or_embeddings: object,
    dataset: Dataset,
    split: str = "test",
    ks: Sequence[int] = DEFAULT_KS,
    users: Sequence[int] | np.ndarray | None = None,
    *,
    mask: str = DEFAULT_MASK,
) -> dict[str, float]:
    """Full-ranking metrics of a model (or its :class:`Embeddings`) on ``split``.

    Keys are lower case, e.g. ``"recall@20"``, ``"ndcg@20"``, ``"coverage@20"``; ``"users"``
    is the number of evaluated users. ``users`` restricts the evaluation to those user ids (a
    segment, e.g. one group of shoppers); users without an interaction in ``split`` are skipped
    as always. ``mask`` is the rule for the test split (see the module docstring).
    """
    users, top = _ranked(model_or_embeddings, dataset, split, max(ks), users, mask=mask)
    popularity = dataset.item_popularity().astype(np.float64)
    metrics = ranking_metrics(top, dataset.split(split), users, ks, popularity)
    metrics["users"] = float(len(users))
    return metrics


def _ranked(
    model_or_embeddings: object,
    dataset: Dataset,
    split: str,
    k: int,
    users: Sequence[int] | np.ndarray | None = None,
    *,
    mask: str = DEFAULT_MASK,
) -> tuple[np.ndarray, np.ndarray]:
    """The evaluated users of ``split`` and their top-``k`` items (seen items masked)."""
    users = evaluated_users(dataset, split, users)
    if len(users) == 0:
        raise ValueError(f"split {split!r} of {dataset.name!r} has no interactions to evaluate")
    seen = seen_items(dataset, split, mask)
    top, _ = top_k_items(_embeddings_of(model_or_embeddings), users, k, seen)
    return users, top


def evaluate_segments(
    model_or_embeddings: object,
    dataset: Dataset,
    segments: Mapping[str, Sequence[int] | np.ndarray],
    split: str = "test",
    ks: Sequence[int] = DEFAULT_KS,
    *,
    mask: str = DEFAULT_MASK,
) -> dict[str, dict[str, float]]:
    """:func:`evaluate` of each segment of users (name → user ids), from one forward pass.

    A segment whose users have no interaction in ``split`` is left out of the result.
    """
    emb = _embeddings_of(model_or_embeddings)
    out: dict[str, dict[str, float]] = {}
    for name, users in segments.items():
        if len(evaluated_users(dataset, split, users)):
            out[name] = evaluate(emb, dataset, split, ks, users=users, mask=mask)
    return out


def evaluate_item_buckets(
    model_or_embeddings: object,
    dataset: Dataset,
    buckets: dict[str, np.ndarray],
    split: str = "test",
    ks: Sequence[int] = DEFAULT_KS,
    *,
    mask: str = DEFAULT_MASK,
) -> dict[str, dict[str, float]]:
    """Metrics of the full ranking against each bucket of items (name → item ids).

    Every evaluated user is ranked once against all items; a bucket's metrics count only its
    items as the truth, over the users with at least one ``split`` item in it (``users``).
    So Recall@K of the tail bucket is the share of each user's held-out tail items that
    reached the top K. A bucket without such users is left out.
    """
    users, top = _ranked(model_or_embeddings, dataset, split, max(ks), mask=mask)
    truth = dataset.split(split)
    popularity = dataset.item_popularity().astype(np.float64)
    out: dict[str, dict[str, float]] = {}
    for name, items in buckets.items():
        keep = np.zeros(dataset.n_items, dtype=np.float32)
        keep[np.asarray(items, dtype=np.int64)] = 1.0
        part = sp.csr_matrix(truth @ sp.diags(keep))
        part.eliminate_zeros()
        has = np.diff(part.indptr)[users] > 0
        if not has.any():
            continue
        metrics = ranking_metrics(top[has], part, users[has], ks, popularity)
        metrics["users"] = float(has.sum())
        metrics["items"] = float(len(items))
        out[name] = metrics
    return out
