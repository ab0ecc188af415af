"""The Amazon Baby 5-core graph of ../shared with random features of the paper's sizes.

The shared copy has interactions only; image (4096-d), text (384-d) and fused (768-d)
features are seeded Gaussian noise of the released feature sizes, which is what speed and
memory depend on (not what accuracy depends on).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from bench.common.benchlib import ROOT

BABY_DIR = ROOT.parent / "shared" / "data" / "amazon_baby_5core"
PAPER_FEATURE_SIZES = {"image": 4096, "text": 384, "fused": 768}


def load_baby(with_features: bool = True, seed: int = 0):
    from anchorrec.data.mmrec import load_mmrec

    if not Path(BABY_DIR).is_dir():
        raise SystemExit(f"{BABY_DIR} is absent: this benchmark needs ../shared")
    ds = load_mmrec(BABY_DIR)
    if not with_features:
        return ds
    rng = np.random.default_rng(seed)
    feats = {
        m: rng.standard_normal((ds.n_items, d), dtype=np.float32)
        for m, d in PAPER_FEATURE_SIZES.items()
    }
    return dataclasses.replace(ds, features=feats, fingerprint="")
