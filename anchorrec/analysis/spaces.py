"""The named embedding spaces of a trained model, as one uniform type.

A :class:`Space` is a matrix with one row per item (or per user), its name and a one-line
description. :func:`model_spaces` collects every space a model exposes (raw features, ID
view, modality views, final vectors, anchor domain) with one forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from anchorrec.device import no_grad
from anchorrec.errors import ConfigError

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

#: Names and one-line descriptions of the item spaces a model may expose.
SPACE_DESCRIPTIONS: dict[str, str] = {
    "raw_image": "Input image features x^v (e.g. EfficientNet-Lite0).",
    "raw_text": "Input text features x^t (all-MiniLM-L6-v2).",
    "raw_fused": "Input fused image+text features x^mm.",
    "id_view": "ID view H: LightGCN over the interaction graph.",
    "image_view": "Image modality view Z^v (graph-propagated, ID-gated).",
    "text_view": "Text modality view Z^t (graph-propagated, ID-gated).",
    "fused_view": "Fused modality view Z^mm (graph-propagated, ID-gated).",
    "final": "Final item vectors h that rank.",
    "anchor_id": "Anchor domain: P_id(H), the ID view projected.",
    "anchor_fused": "Anchor domain: P_mm(Z^mm), the anchor itself.",
    "anchor_image": "Anchor domain: P_v(x^v), raw image projected.",
    "anchor_text": "Anchor domain: P_t(x^t), raw text projected.",
    "anchor_mixup": "Anchor domain: 0.25·P_v(x^v) + 0.75·P_t(x^t).",
}

#: Display order of the item spaces (the ones a model lacks are skipped).
SPACE_ORDER: tuple[str, ...] = tuple(SPACE_DESCRIPTIONS)

#: Spaces of the anchor domain, plotted together (one joint projection).
ANCHOR_SPACES: tuple[str, ...] = tuple(s for s in SPACE_DESCRIPTIONS if s.startswith("anchor_"))

#: The two spaces of the paper's Figure 1 (positional collapse).
COEMBEDDING_SPACES: tuple[str, str] = ("id_view", "final")

USER_FINAL = "final_users"


@dataclass(frozen=True)
class Space:
    """One embedding space: ``matrix`` has a row per item (``kind="item"``) or per user."""

    name: str
    matrix: np.ndarray
    description: str
    kind: Literal["item", "user"] = "item"

    @property
    def n_rows(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])


@no_grad
def model_spaces(loaded: LoadedModel) -> dict[str, Space]:
    """Every named space of ``loaded``'s model, in :data:`SPACE_ORDER`, plus the user vectors.

    Raw feature spaces come from the model when it exposes them, else from the dataset.
    """
    import torch

    model = loaded.model
    emb = model.eval_embeddings()
    found: dict[str, np.ndarray] = {
        name: t.detach().to("cpu", torch.float32).numpy() for name, t in emb.spaces.items()
    }
    found.setdefault("final", emb.items.detach().to("cpu", torch.float32).numpy())
    try:
        ds = loaded.dataset
    except Exception:  # a bare Recommender without a dataset: only its own spaces
        ds = None
    if ds is not None:
        for modality, x in ds.features.items():
            found.setdefault(f"raw_{modality}", np.asarray(x, dtype=np.float32))
    ordered = [n for n in SPACE_ORDER if n in found] + sorted(set(found) - set(SPACE_ORDER))
    spaces = {
        name: Space(name, np.ascontiguousarray(found[name]), SPACE_DESCRIPTIONS.get(name, name))
        for name in ordered
    }
    spaces[USER_FINAL] = Space(
        USER_FINAL,
        emb.users.detach().to("cpu", torch.float32).numpy(),
        "Final user vectors h_u that rank (score = h_u · h_i).",
        kind="user",
    )
    return spaces


def item_spaces(spaces: dict[str, Space]) -> dict[str, Space]:
    return {n: s for n, s in spaces.items() if s.kind == "item"}


def normalise_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def neighbours(space: Space, item: int, k: int = 10) -> pd.DataFrame:
    """The ``k`` nearest rows of ``item`` in ``space`` by cosine (itself excluded).

    Returns a DataFrame with ``item``, ``cosine`` and ``rank`` (1 = nearest).
    """
    if not 0 <= int(item) < space.n_rows:
        raise ConfigError(
            f"item {item} does not exist in space {space.name!r} (0..{space.n_rows - 1})."
        )
    x = normalise_rows(space.matrix)
    sims = x @ x[int(item)]
    sims[int(item)] = -np.inf
    k = min(k, space.n_rows - 1)
    idx = np.argpartition(-sims, k - 1)[:k] if k > 0 else np.zeros(0, dtype=np.int64)
    idx = idx[np.lexsort((idx, -sims[idx]))]
    return pd.DataFrame(
        {"item": idx.astype(np.int64), "cosine": sims[idx], "rank": np.arange(1, len(idx) + 1)}
    )
