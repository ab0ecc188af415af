"""What the analysis reads from a loaded model: the recommender, its dataset, its directory.

Every analysis function takes the object returned by ``anchorrec.models.load_model`` (a
``LoadedModel``) or anything with the same attributes. This module is the one place that
knows where those live, so the rest of the package never guesses.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from anchorrec.data.dataset import Dataset
from anchorrec.errors import CheckpointError
from anchorrec.models.base import Recommender
from anchorrec.models.model_dir import ModelDir


def recommender_of(loaded: Any) -> Recommender:
    """The :class:`Recommender` inside ``loaded`` (or ``loaded`` itself)."""
    if isinstance(loaded, Recommender):
        return loaded
    model = getattr(loaded, "model", None)
    if not isinstance(model, Recommender):
        raise TypeError(f"expected a LoadedModel or a Recommender, got {type(loaded).__name__}")
    return model


def dataset_of(loaded: Any) -> Dataset:
    """The dataset the model was trained on (``loaded.dataset`` or ``loaded.model.dataset``)."""
    for owner in (loaded, getattr(loaded, "model", None)):
        ds = getattr(owner, "dataset", None)
        if isinstance(ds, Dataset):
            return ds
    raise CheckpointError(
        "this model carries no dataset; load it with load_model(model_dir, dataset=...) "
        "so the analysis can read its interactions and features."
    )


def model_dir_of(loaded: Any) -> Path | None:
    """The directory the model was loaded from, when known."""
    for attr in ("model_dir", "path", "directory"):
        value = getattr(loaded, attr, None)
        if isinstance(value, str | Path):
            return Path(value)
    return None


def variant_of(loaded: Any) -> str:
    """The variant name (``anchor``, ``direct`` …)."""
    config = getattr(loaded, "config", None)
    for source in (config, loaded):
        value = getattr(source, "variant", None)
        if isinstance(value, str):
            return value
        if isinstance(source, dict) and isinstance(source.get("variant"), str):
            return source["variant"]
    return getattr(recommender_of(loaded), "variant", "model")


def model_fingerprint(loaded: Any) -> str:
    """A stable 16-hex-digit hash of the model: its weight and config files, else its tensors.

    Projection caches are keyed by it, so a retrained model never reads stale layouts.
    """
    model_dir = model_dir_of(loaded)
    if model_dir is not None and model_dir.is_dir():
        digest = model_dir_fingerprint(model_dir)
        if digest:
            return digest
    h = hashlib.sha256(b"anchorrec-model-v1")
    for name, tensor in sorted(recommender_of(loaded).state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def model_dir_fingerprint(model_dir: Path) -> str:
    """Hash of the model in ``model_dir`` ('' when none): :meth:`ModelDir.fingerprint`."""
    return ModelDir(model_dir).fingerprint()


def item_popularity(loaded: Any) -> np.ndarray:
    return dataset_of(loaded).item_popularity()
