"""The lists the shop shows through the cold-start path, beside the audited ones."""

from __future__ import annotations

import numpy as np
import pytest

from anchorrec.analysis.cold_explain import explain_routed
from anchorrec.analysis.shown_lists import ShownLists, shown_lists
from anchorrec.models.checkpoint import load_model
from anchorrec.models.cold_start import ranking_embeddings, routed_mask, with_cold_start
from anchorrec.models.ranking import top_k_items
from anchorrec.workspace import MODELS_DIR, SAMPLE_DATASET_DIR

USERS = np.arange(0, 3965, 13)


@pytest.fixture(scope="module")
def anchor():
    loaded = load_model(SAMPLE_DATASET_DIR / MODELS_DIR / "anchor")
    assert loaded.cold_start is not None, "the sample ships anchor with a cold-start path"
    return loaded


def test_the_shown_lists_count_what_the_path_placed(anchor):
    shown = shown_lists(anchor, 10, USERS)
    assert shown is not None
    top, _ = top_k_items(ranking_embeddings(anchor), USERS, 10, anchor.dataset.train)
    routed = routed_mask(anchor)
    assert shown.recommendations == top.size == 10 * len(USERS)
    assert shown.routed_slots == int(routed[top].sum())
    assert shown.routed_items == len(np.unique(top[routed[top]]))
    # the published lists hardly show them; the path does
    assert shown.routed_slots > 10 * shown.published_routed_slots
    assert 0.0 < shown.coverage <= 1.0 and 0.0 <= shown.exposure_gini <= 1.0
    assert shown.threshold == anchor.cold_start.threshold
    assert shown.image_share is not None and 0.0 < shown.image_share < 1.0
    again = ShownLists(**shown.to_json())
    assert again == shown and "ranked by photo and copy" in again.sentence()


def test_the_image_share_of_one_slot_is_its_explanations(anchor):
    top, _ = top_k_items(ranking_embeddings(anchor), USERS, 10, anchor.dataset.train)
    routed = routed_mask(anchor)
    r = int(np.argwhere(routed[top])[0][0])
    user = int(USERS[r])
    one = shown_lists(anchor, 10, np.array([user]))
    assert one is not None and one.routed_slots >= 1
    reasons = [explain_routed(anchor, np.array([user]), int(i))[0] for i in top[r][routed[top[r]]]]
    assert one.image_share == pytest.approx(np.mean([x.image_share for x in reasons]), abs=1e-5)


def test_no_path_no_shown_lists(anchor):
    assert shown_lists(with_cold_start(anchor, False), 10, USERS) is None
