"""Building the bundled sample dataset: catalogue, pictures, copy, shoppers, features, files.

:func:`build_sample` is deterministic: the same arguments give byte-identical files (on the
same machine and library versions; the encoders' floating point may differ across CPUs).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from anchorrec.data.dataset import FUSED, IMAGE, TEXT, Dataset, mmrec_split, split_matrices
from anchorrec.data.features import build_fused_features
from anchorrec.data.items import encoder_texts
from anchorrec.data.mmrec import save_mmrec
from anchorrec.sample.boutique_items import generate_attributes, write_copy
from anchorrec.sample.datasheet import render_datasheet
from anchorrec.sample.drawing import draw_product
from anchorrec.sample.shoppers import (
    InteractionRange,
    generate_shoppers,
    iterative_k_core,
    sample_interactions,
)
from anchorrec.sample.signals import SampleSignals, measure_signals

#: The k of the iterative k-core applied to the sampled interactions (MMRec's 5-core).
CORE_K = 5
#: Items per hidden drop (co-purchase group), on average.
ITEMS_PER_DROP = 30
#: Product pictures: side in pixels and JPEG quality (keeps the dataset small).
IMAGE_SIZE = 160
JPEG_QUALITY = 85
DATASHEET_FILE = "DATASHEET.md"

ITEM_COLUMNS: tuple[str, ...] = (
    "item_id", "title", "description", "category", "image", "style", "colour", "shade",
    "pattern", "material", "hardware", "occasion", "collection", "material_origin",
    "sustainability", "drop", "popularity",
)  # fmt: skip


@dataclass(frozen=True)
class SampleConfig:
    """What to build: sizes, seed and dataset name."""

    seed: int = 0
    n_items: int = 1200
    n_users: int = 3000
    name: str = "boutique"
    interactions: InteractionRange = InteractionRange()

    @property
    def n_drops(self) -> int:
        return max(4, self.n_items // ITEMS_PER_DROP)


@dataclass(frozen=True)
class SampleBuild:
    """A built sample in memory: the dataset, its pictures (JPEG bytes) and its signals."""

    dataset: Dataset
    images: dict[str, bytes]
    signals: SampleSignals
    datasheet: str


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()


@dataclass(frozen=True)
class SampleDraft:
    """Everything of a sample before encoding: metadata, interactions and pictures."""

    items: pd.DataFrame
    users: pd.DataFrame
    user_index: np.ndarray
    item_index: np.ndarray
    images: dict[str, bytes]
    dropped_items: int
    dropped_users: int


def draft_sample(config: SampleConfig = SampleConfig()) -> SampleDraft:
    """Catalogue, shoppers, 5-core interactions, copy and pictures (no encoders involved)."""
    if config.n_items < 20 or config.n_users < 20:
        raise ValueError("a sample needs at least 20 items and 20 users")
    rng = np.random.default_rng(config.seed)
    attrs = generate_attributes(config.n_items, rng, config.n_drops)
    shoppers = generate_shoppers(config.n_users, config.n_drops, rng)
    u, i, _driver = sample_interactions(attrs, shoppers, rng, config.interactions)

    keep = iterative_k_core(u, i, CORE_K)
    u, i = u[keep], i[keep]
    kept_items = np.unique(i)
    kept_users = np.unique(u)
    u = np.searchsorted(kept_users, u)
    i = np.searchsorted(kept_items, i)
    items = attrs.iloc[kept_items].reset_index(drop=True)
    users = shoppers.iloc[kept_users].reset_index(drop=True)
    items["item_id"] = np.arange(len(items), dtype=np.int64)
    users["user_id"] = np.arange(len(users), dtype=np.int64)

    titles, descriptions, paths = [], [], []
    images: dict[str, bytes] = {}
    for new_id, old_id in enumerate(kept_items):
        row = items.iloc[new_id]
        title, description = write_copy(row, np.random.default_rng([config.seed, int(old_id), 1]))
        picture = draw_product(
            row.to_dict(), IMAGE_SIZE, np.random.default_rng([config.seed, int(old_id), 2])
        )
        rel = f"images/{new_id:04d}.jpg"
        images[rel] = _jpeg(picture)
        titles.append(title)
        descriptions.append(description)
        paths.append(rel)
    items["title"] = titles
    items["description"] = descriptions
    items["image"] = paths
    return SampleDraft(
        items=items[list(ITEM_COLUMNS)],
        users=users,
        user_index=u,
        item_index=i,
        images=images,
        dropped_items=config.n_items - len(items),
        dropped_users=config.n_users - len(users),
    )


def generate_sample(
    config: SampleConfig = SampleConfig(), *, device: str = "auto", progress: bool = False
) -> SampleBuild:
    """Generate the whole sample in memory (features from the real offline encoders)."""
    from anchorrec.encoders.image import ImageEncoder
    from anchorrec.encoders.text import TextEncoder

    draft = draft_sample(config)
    items, users, u, i = draft.items, draft.users, draft.user_index, draft.item_index
    # Encode the JPEGs as written, so the features are those of the files on disk.
    pictures = [Image.open(io.BytesIO(draft.images[p])).convert("RGB") for p in items["image"]]
    image_feat = ImageEncoder(device).encode_images(pictures, progress=progress)
    text_feat = TextEncoder(device).encode(encoder_texts(items), progress=progress)
    features = {
        IMAGE: image_feat,
        TEXT: text_feat,
        FUSED: build_fused_features(image_feat, text_feat),
    }

    labels = mmrec_split(u, i, seed=config.seed)
    train, valid, test = split_matrices(u, i, labels, len(users), len(items))
    dataset = Dataset(
        name=config.name,
        n_users=len(users),
        n_items=len(items),
        train=train,
        valid=valid,
        test=test,
        features=features,
        items=items,
        users=users,
    )
    signals = measure_signals(dataset)
    sheet = render_datasheet(
        config,
        dataset,
        signals,
        dropped_items=draft.dropped_items,
        dropped_users=draft.dropped_users,
    )
    return SampleBuild(dataset, draft.images, signals, sheet)


def build_sample(
    out_dir: str | Path,
    config: SampleConfig = SampleConfig(),
    *,
    overwrite: bool = False,
    device: str = "auto",
    progress: bool = False,
) -> SampleBuild:
    """Generate the sample and write it to ``out_dir`` (atomically) in the MMRec layout."""
    built = generate_sample(config, device=device, progress=progress)
    extra = dict(built.images)
    extra[DATASHEET_FILE] = built.datasheet.encode("utf-8")
    save_mmrec(built.dataset, out_dir, extra_files=extra, overwrite=overwrite)
    return built
