"""Item feature rules shared by the importer and the models.

The fused (``mm``) feature of an item is the concatenation of its L2-normalised image
feature and its L2-normalised text feature, so that neither modality dominates by scale.
Every part of AnchorRec Studio that needs a fused feature (the catalogue importer, a model
trained on a dataset without ``fused_feat.npy``) calls :func:`build_fused_features`.
"""

from __future__ import annotations

import numpy as np

#: Rows with a norm below this are left as zeros instead of being divided by ~0.
NORM_EPS = 1e-12


def l2_normalise_rows(x: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (all-zero rows stay zero); float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(norms > NORM_EPS, x / np.maximum(norms, NORM_EPS), 0.0).astype(np.float32)


def build_fused_features(image: np.ndarray, text: np.ndarray) -> np.ndarray:
    """The fused item feature: ``[image / ‖image‖, text / ‖text‖]`` per row (float32).

    ``image`` is ``(n_items, d_v)`` and ``text`` is ``(n_items, d_t)``; the result is
    ``(n_items, d_v + d_t)``.
    """
    image = np.asarray(image)
    text = np.asarray(text)
    if image.ndim != 2 or text.ndim != 2:
        raise ValueError(f"features must be 2-D, got image {image.shape} and text {text.shape}")
    if image.shape[0] != text.shape[0]:
        raise ValueError(
            f"image has {image.shape[0]} rows but text has {text.shape[0]}; one row per item"
        )
    return np.concatenate([l2_normalise_rows(image), l2_normalise_rows(text)], axis=1)
