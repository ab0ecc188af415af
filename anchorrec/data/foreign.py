"""What the RecBole and Cornac readers share: token ids to contiguous ids, the splits, the
:class:`Dataset` they build.

Both formats name users and items by tokens (any text); the models need ids ``0..n-1``. Ids
are given in order of first appearance in the interactions (as RecBole remaps tokens), and
the tokens are kept: ``items.csv``'s ``original_item_id`` column and the id maps that
``convert`` writes, so the dashboard shows the original ids beside ours.

Splits (every rule is per user, and the dataset's :attr:`~Dataset.source` states the one used):

* ``recbole``: RecBole's default ``eval_args`` — group by user, order ``RO`` (a seeded random
  order; our own draw, not RecBole's), split ``RS`` 0.8 / 0.1 / 0.1 with RecBole's rounding
  (valid and test get ``int(0.1·n)`` each, the rest is train, and a user with too few
  interactions for a held-out share still gets one test, then one valid, interaction while
  at least two stay in train);
* ``recbole-temporal``: the same ratios in timestamp order (RecBole's ``order: TO``);
* ``mmrec``: MMRec's rule (:func:`~anchorrec.data.dataset.mmrec_split`), chronological when
  timestamps exist, else seeded random — what ``import-catalog`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from anchorrec.data.dataset import (
    SPLIT_NAMES,
    TEST,
    TRAIN,
    VALID,
    Dataset,
    drop_users_without_train,
    mmrec_split,
    split_matrices,
)
from anchorrec.errors import DatasetError

SplitRule = Literal["recbole", "recbole-temporal", "mmrec"]
SPLIT_RULES: tuple[str, ...] = ("recbole", "recbole-temporal", "mmrec")
#: RecBole's default ``eval_args.split``: ``{'RS': [0.8, 0.1, 0.1]}``.
RECBOLE_RATIOS: tuple[float, float, float] = (0.8, 0.1, 0.1)
#: RecBole's default ``seed``.
RECBOLE_SEED = 2020


@dataclass(frozen=True)
class Interactions:
    """Interactions as read from a file: original tokens, and the line each row came from."""

    path: Path
    users: np.ndarray  # str tokens
    items: np.ndarray  # str tokens
    lines: np.ndarray  # 1-based line number in ``path`` of every row
    timestamps: np.ndarray | None = None  # float64


def check_float_column(path: Path, values: np.ndarray, lines: np.ndarray, field: str) -> np.ndarray:
    """``values`` (text) as float64; an empty or non-numeric value is a DatasetError naming
    its line and field."""
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64
    )
    bad = ~np.isfinite(numbers)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        value = str(values[r])
        what = "is empty" if not value.strip() else f"is {value[:40]!r}, not a number"
        raise DatasetError(
            f"{path}, line {int(lines[r])}, field {field}: {what}; every {field} must be a "
            "finite number (fix the line or remove the column)."
        )
    return numbers


def check_tokens(path: Path, values: np.ndarray, lines: np.ndarray, field: str) -> np.ndarray:
    """Stripped tokens; an empty one is a DatasetError naming its line and field."""
    tokens = np.asarray([str(v).strip() for v in values], dtype=object)
    empty = np.flatnonzero(tokens == "")
    if empty.size:
        raise DatasetError(
            f"{path}, line {int(lines[empty[0]])}, field {field}: is empty; every interaction "
            f"needs a {field}."
        )
    return tokens


def codes(tokens: np.ndarray, known: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ids in order of first appearance (after the tokens of ``known``, when given), and the
    token of every id."""
    values = tokens if known is None else np.concatenate([known, tokens])
    ids, uniques = pd.factorize(pd.Series(values, dtype=object), sort=False)
    ids = np.asarray(ids, dtype=np.int64)
    return (ids if known is None else ids[len(known) :]), np.asarray(uniques, dtype=object)


def recbole_split(
    users: np.ndarray,
    *,
    seed: int = RECBOLE_SEED,
    timestamps: np.ndarray | None = None,
    ratios: tuple[float, float, float] = RECBOLE_RATIOS,
) -> np.ndarray:
    """Split labels (0 train / 1 valid / 2 test) by RecBole's ``RS`` rule grouped by user.

    Each user's interactions are ordered at random (seeded) or by ``timestamps`` (ties in
    file order); the last ``int(ratio·n)`` go to test, the ``int(ratio·n)`` before them to
    valid, and, as RecBole's ``_calcu_split_ids`` does, a part whose share is between 0 and
    1 interaction gets one while train keeps at least two (test first, then valid).
    """
    users = np.asarray(users, dtype=np.int64)
    n = len(users)
    labels = np.zeros(n, dtype=np.int8)
    if n == 0:
        return labels
    if timestamps is None:
        perm = np.random.default_rng(seed).permutation(n)
        order = perm[np.argsort(users[perm], kind="stable")]
    else:
        order = np.lexsort((np.arange(n), np.asarray(timestamps, dtype=np.float64), users))
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    sizes = np.diff(np.r_[starts, n])
    total = float(sum(ratios))
    share_valid, share_test = ratios[1] / total * sizes, ratios[2] / total * sizes
    n_valid = share_valid.astype(np.int64)
    n_test = share_test.astype(np.int64)
    n_train = sizes - n_valid - n_test
    for share, part in ((share_test, n_test), (share_valid, n_valid)):
        bump = (n_train > 1) & (share > 0) & (share < 1)
        part += bump
        n_train -= bump
    group = np.repeat(np.arange(len(starts)), sizes)
    position = np.arange(n) - starts[group]
    sorted_labels = np.where(
        position < n_train[group],
        TRAIN,
        np.where(position < (n_train + n_valid)[group], VALID, TEST),
    ).astype(np.int8)
    labels[order] = sorted_labels
    return labels


def split_labels(
    users: np.ndarray, rule: str, seed: int | None, timestamps: np.ndarray | None, path: Path
) -> tuple[np.ndarray, str]:
    """The labels of ``rule`` and a sentence that states it."""
    if rule == "recbole":
        s = RECBOLE_SEED if seed is None else seed
        return recbole_split(users, seed=s), (
            f"RecBole's default split: per user, random order (seed {s}), 80/10/10"
        )
    if rule == "recbole-temporal":
        if timestamps is None:
            raise DatasetError(
                f"{path}: the temporal split needs a timestamp field; add one or use the "
                "default (random-order) split."
            )
        return recbole_split(users, timestamps=timestamps), (
            "RecBole's split in timestamp order (order TO): per user, 80/10/10, latest held out"
        )
    if rule == "mmrec":
        s = 0 if seed is None else seed
        labels = mmrec_split(users, np.zeros_like(users), seed=s, timestamps=timestamps)
        how = "chronological" if timestamps is not None else f"random order (seed {s})"
        return labels, f"MMRec's per-user split, {how}"
    raise DatasetError(f"split {rule!r} is unknown; use one of {', '.join(SPLIT_RULES)}.")


def drop_repeats(
    inter: Interactions, user_ids: np.ndarray, item_ids: np.ndarray, n_items: int
) -> tuple[np.ndarray, str | None]:
    """Which rows to keep when a (user, item) pair repeats: the first (the earliest when
    there are timestamps), and a warning naming the first repeated line."""
    key = user_ids * max(n_items, 1) + item_ids
    if inter.timestamps is not None:
        order = np.lexsort((np.arange(len(key)), inter.timestamps))
    else:
        order = np.arange(len(key))
    _, first = np.unique(key[order], return_index=True)
    keep = np.zeros(len(key), dtype=bool)
    keep[order[first]] = True
    if keep.all():
        return keep, None
    r = int(np.flatnonzero(~keep)[0])
    return keep, (
        f"{inter.path.name}: {int((~keep).sum())} repeated (user, item) interaction(s), first "
        f"at line {int(inter.lines[r])} (user {inter.users[r]!r}, item {inter.items[r]!r}); "
        "each pair was kept once (the first, or the earliest by timestamp)."
    )


def check_splits(path: Path, labels: np.ndarray, how: str) -> None:
    for label in (TRAIN, VALID, TEST):
        if not (labels == label).any():
            raise DatasetError(
                f"{path}: the {SPLIT_NAMES[label]} split is empty under {how}; the users have "
                "too few interactions to hold any out. Add interactions or give split files."
            )


def _compact(ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``ids`` renumbered over the ids in use, and the old id of every new one."""
    used = np.flatnonzero(np.bincount(ids, minlength=n) > 0)
    if len(used) == n:
        return ids, np.arange(n)
    new = np.full(n, -1, dtype=np.int64)
    new[used] = np.arange(len(used))
    return new[ids], used


def build_dataset(
    *,
    name: str,
    path: Path,
    users: np.ndarray,
    items: np.ndarray,
    labels: np.ndarray,
    user_tokens: np.ndarray,
    item_tokens: np.ndarray,
    source: str,
    warnings: list[str],
    items_frame: pd.DataFrame | None = None,
    users_frame: pd.DataFrame | None = None,
) -> Dataset:
    """The :class:`Dataset` of contiguous ``users``/``items`` ids labelled by split.

    As MMRec does, valid/test interactions of users without a train interaction are dropped.
    ``items.csv`` gets ``item_id`` and ``original_item_id`` (the token) before any column of
    ``items_frame`` (one row per id, in id order); ``users.csv`` likewise ``user_id`` and
    ``original_user_id``.
    """
    n_users, n_items = len(user_tokens), len(item_tokens)
    kept = drop_users_without_train(users, items, labels, n_users)
    users, items, labels, dropped = kept.users, kept.items, kept.labels, kept.dropped_users
    if (note := kept.warning()) is not None:
        warnings.append(note)
    # ids left without any interaction are renumbered away (ids stay contiguous from 0)
    users, kept_users = _compact(users, n_users)
    items, kept_items = _compact(items, n_items)
    user_tokens, item_tokens = user_tokens[kept_users], item_tokens[kept_items]
    if users_frame is not None:
        users_frame = users_frame.iloc[kept_users]
    if items_frame is not None:
        items_frame = items_frame.iloc[kept_items]
    n_users, n_items = len(user_tokens), len(item_tokens)
    check_splits(path, labels, source)
    train, valid, test = split_matrices(users, items, labels, n_users, n_items)
    item_meta = pd.DataFrame({"item_id": np.arange(n_items), "original_item_id": item_tokens})
    if items_frame is not None:
        extra = items_frame.drop(
            columns=[c for c in ("item_id", "original_item_id") if c in items_frame]
        ).reset_index(drop=True)
        item_meta = pd.concat([item_meta, extra], axis=1)
    user_meta = pd.DataFrame({"user_id": np.arange(n_users), "original_user_id": user_tokens})
    if users_frame is not None:
        extra = users_frame.drop(
            columns=[c for c in ("user_id", "original_user_id") if c in users_frame]
        ).reset_index(drop=True)
        user_meta = pd.concat([user_meta, extra], axis=1)
    return Dataset(
        name=name,
        n_users=n_users,
        n_items=n_items,
        train=train,
        valid=valid,
        test=test,
        items=item_meta,
        users=user_meta,
        path=path,
        dropped_users=dropped,
        warnings=tuple(warnings),
        source=source,
    )
