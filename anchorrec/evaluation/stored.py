"""Per-user metrics kept beside a model, so a comparison never re-ranks every test user.

The dashboard's first page compares every variant with a reference over the same test users
(paired bootstrap intervals). Ranking all users of all models on every fresh server costs
seconds; the per-user Recall@K / NDCG@K are a few kilobytes. They are computed once — after
training, by ``python -m anchorrec prepare``, or on first use — and stored in the model's
:class:`~anchorrec.models.model_dir.DerivedStore` under a name that carries the model's
fingerprint, the split, K and the masking rule, so a retrained model or another rule never
reads them.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import TYPE_CHECKING

import numpy as np

from anchorrec.models.config import DEFAULT_MASK
from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    from anchorrec.data.dataset import Dataset
    from anchorrec.models.checkpoint import LoadedModel

#: Format tag inside each stored file (bump when the arrays' meaning changes).
PER_USER_FORMAT = "anchorrec-per-user-v1"


def per_user_file(fingerprint: str, split: str, k: int, mask: str) -> str:
    safe_mask = mask.replace("+", "-")
    return f"per_user/{fingerprint}-{split}-k{k}-{safe_mask}.npz"


def _encode(values: dict[str, np.ndarray], meta: dict[str, object]) -> bytes:
    buf = io.BytesIO()
    # numpy's stub checks the arrays against ``allow_pickle: bool`` too
    np.savez(buf, meta=np.array(json.dumps(meta)), **values)  # type: ignore[arg-type]
    return buf.getvalue()


def read_per_user_metrics(
    model_dir: str, split: str = "test", k: int = 20, mask: str = DEFAULT_MASK
) -> dict[str, np.ndarray] | None:
    """The stored per-user metrics of the model in ``model_dir``, or None (not stored yet,
    unreadable, or stored for another model)."""
    md = ModelDir(model_dir)
    path = md.store().find(per_user_file(md.fingerprint(), split, k, mask))
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != PER_USER_FORMAT:
                return None
            return {name: data[name] for name in data.files if name != "meta"}
    except (OSError, ValueError, KeyError):
        return None


def stored_per_user_metrics(
    loaded: LoadedModel, split: str = "test", k: int = 20, mask: str = DEFAULT_MASK
) -> dict[str, np.ndarray]:
    """:func:`anchorrec.evaluation.per_user_metrics` of ``loaded``, read from its store when
    present, else computed once and stored (a read-only model directory stores it in the
    workspace)."""
    found = read_per_user_metrics(str(loaded.model_dir), split, k, mask)
    if found is not None:
        return found
    return store_per_user_metrics(
        loaded.model, loaded.dataset, str(loaded.model_dir), split, k, mask
    )


def store_per_user_metrics(
    model: object,
    dataset: Dataset,
    model_dir: str,
    split: str = "test",
    k: int = 20,
    mask: str = DEFAULT_MASK,
) -> dict[str, np.ndarray]:
    """Compute the per-user metrics of ``model`` (saved in ``model_dir``) and store them."""
    from anchorrec.evaluation.metrics import per_user_metrics

    values = per_user_metrics(model, dataset, split, k=k, mask=mask)
    md = ModelDir(model_dir)
    meta = {"format": PER_USER_FORMAT, "split": split, "k": k, "mask": mask}
    with contextlib.suppress(OSError):  # nowhere writable: the figures hold, only not kept
        md.store().write_bytes(
            per_user_file(md.fingerprint(), split, k, mask), _encode(values, meta)
        )
    return values
