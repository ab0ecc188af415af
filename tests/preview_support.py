"""A tiny shop whose features come from the real offline encoders, for the preview tests.

The preview encodes a photo and copy with the offline encoders, so its tests need a
catalogue encoded the same way (the app tests' shop has random features of other widths).
24 items in 4 categories, each a drawn picture (a colour per category, a shape per item)
and a copy; features through the catalogue import's path (``ImageEncoder.encode_paths``,
``encoder_texts`` then ``TextEncoder``); shopper groups; ``anchor`` and ``lightgcn`` trained
for 2 epochs.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from tests.conftest import make_tiny_dataset

N_ITEMS = 24
N_USERS = 48
CATEGORIES = ("bag", "shoe", "scarf", "ring")
COLOURS = ((200, 40, 40), (40, 120, 200), (60, 170, 80), (230, 180, 40))
SHAPES = ("ellipse", "rectangle", "cross")
VARIANTS = ("anchor", "lightgcn")


def picture(item: int) -> bytes:
    """A distinct drawn product photo (PNG bytes) for ``item``."""
    c = item % len(CATEGORIES)
    img = Image.new("RGB", (96, 96), (245, 245, 240))
    draw = ImageDraw.Draw(img)
    shape = SHAPES[(item // len(CATEGORIES)) % len(SHAPES)]
    pad = 10 + 3 * (item // (len(CATEGORIES) * len(SHAPES)))
    box = (pad, pad, 96 - pad, 96 - pad)
    if shape == "ellipse":
        draw.ellipse(box, fill=COLOURS[c])
    elif shape == "rectangle":
        draw.rectangle(box, fill=COLOURS[c])
    else:
        draw.rectangle((pad, 40, 96 - pad, 56), fill=COLOURS[c])
        draw.rectangle((40, pad, 56, 96 - pad), fill=COLOURS[c])
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def items_table() -> pd.DataFrame:
    cat = [CATEGORIES[i % len(CATEGORIES)] for i in range(N_ITEMS)]
    return pd.DataFrame(
        {
            "item_id": np.arange(N_ITEMS),
            "title": [f"{c.title()} model {i}" for i, c in enumerate(cat)],
            "description": [
                f"A {SHAPES[(i // 4) % 3]} {c} in shade {i % 4}, made to last."
                for i, c in enumerate(cat)
            ],
            "category": cat,
            "image": [f"images/{i:04d}.png" for i in range(N_ITEMS)],
        }
    )


def build_encoded_shop(root: Path) -> Path:
    """Write the shop under ``root/encoded_shop`` with trained models; return its directory."""
    from anchorrec.data.dataset import FUSED, IMAGE, TEXT
    from anchorrec.data.features import build_fused_features
    from anchorrec.data.items import encoder_texts
    from anchorrec.data.mmrec import load_mmrec, save_mmrec
    from anchorrec.encoders.image import ImageEncoder
    from anchorrec.encoders.text import TextEncoder
    from anchorrec.models.config import preset_config
    from anchorrec.training.trainer import train

    base = make_tiny_dataset(n_users=N_USERS, n_items=N_ITEMS, seed=1)
    items = items_table()
    staging = root / "photos"
    staging.mkdir(parents=True, exist_ok=True)
    files = {}
    for i, rel in enumerate(items["image"]):
        files[rel] = picture(i)
        (staging / Path(rel).name).write_bytes(files[rel])
    image, failures = ImageEncoder("cpu").encode_paths(
        [staging / Path(rel).name for rel in items["image"]]
    )
    assert not failures
    text = TextEncoder("cpu").encode(encoder_texts(items))
    users = pd.DataFrame(
        {
            "user_id": np.arange(N_USERS),
            "group": [("visual", "textual")[u % 2] for u in range(N_USERS)],
        }
    )
    ds = dataclasses.replace(
        base,
        name="encoded_shop",
        items=items,
        users=users,
        features={IMAGE: image, TEXT: text, FUSED: build_fused_features(image, text)},
        fingerprint="",
    )
    out = save_mmrec(ds, root / "encoded_shop", extra_files=files)
    ds = load_mmrec(out)
    for variant in VARIANTS:
        config = preset_config("default", variant=variant).replace(epochs=2, embedding_dim=16)
        train(ds, variant, config, out_dir=out / "models" / variant, device="cpu", progress=False)
    return out


_BUILT: dict[str, Path] = {}


def encoded_shop(tmp_path_factory) -> Path:
    """The shop, built once per test session whichever test module asks first."""
    if "shop" not in _BUILT:
        _BUILT["shop"] = build_encoded_shop(tmp_path_factory.mktemp("encoded"))
    return _BUILT["shop"]
