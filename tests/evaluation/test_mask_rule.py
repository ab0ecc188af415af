"""The test split's mask rule: MMRec's (train only) by default, train + valid on request."""

from __future__ import annotations

import numpy as np
import pytest

from anchorrec.evaluation import DEFAULT_MASK, MASK_RULES, evaluate, per_user_metrics
from anchorrec.evaluation.metrics import seen_items
from anchorrec.models import build_model, preset_config


def test_default_masks_only_train_items_when_testing(tiny_dataset):
    assert DEFAULT_MASK == "train" and set(MASK_RULES) == {"train", "train+valid"}
    train_only = seen_items(tiny_dataset, "test")
    assert (train_only != tiny_dataset.train).nnz == 0
    both = seen_items(tiny_dataset, "test", "train+valid")
    assert both.nnz == tiny_dataset.train.nnz + tiny_dataset.valid.nnz
    # valid ranking always masks train only
    assert (seen_items(tiny_dataset, "valid", "train+valid") != tiny_dataset.train).nnz == 0


def test_the_stricter_rule_can_only_raise_recall(tiny_dataset):
    model = build_model("ease", tiny_dataset, preset_config(variant="ease"))
    model.fit()
    mmrec = evaluate(model, tiny_dataset, "test")
    strict = evaluate(model, tiny_dataset, "test", mask="train+valid")
    assert strict["recall@20"] >= mmrec["recall@20"]
    a = per_user_metrics(model, tiny_dataset, k=3, mask="train")["recall@3"]
    b = per_user_metrics(model, tiny_dataset, k=3, mask="train+valid")["recall@3"]
    assert (b >= a - 1e-12).all() and not np.array_equal(a, b)


def test_an_unknown_rule_is_refused(tiny_dataset):
    with pytest.raises(ValueError, match="train, train\\+valid"):
        seen_items(tiny_dataset, "test", "valid")
