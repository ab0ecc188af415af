"""Building the photo sample: real CC0 photos, written copy, shoppers in the encoders' spaces.

:func:`generate_photo_sample` runs the whole pipeline in memory and :func:`build_photo_sample`
writes it (atomically, MMRec layout):

1. every photo of the folder is downsized (256 px JPEG) and measured (colour, brightness);
2. each becomes an item with copy-only attributes, a title, a two-sentence description, a
   price and a release date; a share of the items are late-released new arrivals;
3. photos and copy are encoded once (cached by content) with the offline encoders;
4. shoppers choose in those feature spaces (:mod:`anchorrec.sample.tastes`); the purchases
   are cut to their iterative 5-core and split chronologically per shopper;
5. the content-headroom gate (:mod:`anchorrec.sample.headroom`) measures model-free rankers
   on test and refuses the build (:class:`~anchorrec.sample.headroom.HeadroomError`) when
   content has no headroom over purchase history.

The same photos, arguments and encoders give the same files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from anchorrec.data.dataset import FUSED, IMAGE, TEXT, Dataset, split_matrices
from anchorrec.data.features import build_fused_features
from anchorrec.data.items import encoder_texts
from anchorrec.data.mmrec import save_mmrec
from anchorrec.errors import ConfigError
from anchorrec.sample.encoding import Encoders, FeatureCache, encode_catalogue, offline_encoders
from anchorrec.sample.headroom import HeadroomError, HeadroomReport, headroom_report
from anchorrec.sample.photos import LICENSE_FILE, PhotoFolder, load_photo_folder
from anchorrec.sample.shoppers import iterative_k_core
from anchorrec.sample.tastes import (
    LATE_START,
    NEW_RELEASE_DAYS,
    OLD_RELEASE_END,
    TasteConfig,
    chronological_split,
    draw_purchases,
)
from anchorrec.sample.wardrobe import write_item
from anchorrec.stats import gini

CORE_K = 5
YEAR_START = dt.date(2025, 1, 1)
DATASHEET_FILE = "DATASHEET.md"
PURCHASES_FILE = "purchases.csv"
PHOTO_LICENSE = f"images/{LICENSE_FILE}"
PHOTO_SOURCE = "images/SOURCE.md"
PHOTO_README = "images/README.md"

PHOTO_ITEM_COLUMNS: tuple[str, ...] = (
    "item_id", "title", "description", "category", "kids", "colour", "brightness", "occasion",
    "collection", "material", "care", "sustainability", "price", "release_date", "new_arrival",
    "image", "photo_source", "co_purchase_group", "popularity",
)  # fmt: skip


@dataclass(frozen=True)
class PhotoSampleConfig:
    """What to build from a photo folder."""

    photos: Path
    seed: int = 0
    name: str = "wardrobe"
    #: Share of the items released late (new arrivals).
    new_share: float = 0.15
    #: Keep only the first photos of each class (a small build); None keeps all.
    limit_per_class: int | None = None
    tastes: TasteConfig = field(default_factory=TasteConfig)
    #: Refuse the build when the gate fails (False: report and write anyway).
    gate: bool = True

    def check(self) -> None:
        t = self.tastes
        if not 0.0 < self.new_share < 0.5:
            raise ConfigError(f"new-arrival share {self.new_share} must be in (0, 0.5).")
        if t.temperature <= 0:
            raise ConfigError(
                f"temperature {t.temperature} must be > 0 (large = content irrelevant)."
            )
        if t.n_users < 20:
            raise ConfigError(f"--users {t.n_users}: a sample needs at least 20 shoppers.")
        if not 0.0 <= t.popularity_share < 1.0:
            raise ConfigError(f"popularity share {t.popularity_share} must be in [0, 1).")


@dataclass(frozen=True)
class SampleStats:
    """The density and new-arrival figures the datasheet reports."""

    n_users: int
    n_items: int
    n_train: int
    n_valid: int
    n_test: int
    median_train_per_user: float
    mean_train_per_user: float
    mean_train_per_item: float
    share_items_under_5_train: float
    gini_train: float
    new_items: int
    new_share: float
    new_train_max: int
    new_train_counts: dict[int, int]
    new_valid: int
    new_test: int
    dropped_items: int
    dropped_users: int
    groups: dict[str, int]


@dataclass(frozen=True)
class PhotoSample:
    """A built photo sample in memory."""

    dataset: Dataset
    images: dict[str, bytes]
    purchases: pd.DataFrame
    report: HeadroomReport
    stats: SampleStats
    datasheet: str
    license_text: str
    readme_text: str


def catalogue_from_photos(
    folder: PhotoFolder, seed: int, new_share: float
) -> tuple[pd.DataFrame, list[bytes]]:
    """One item per photo: attributes, copy, price, release day and the new-arrival mark."""
    rows = []
    for n, photo in enumerate(folder.photos):
        c = write_item(
            photo.garment_class, photo.colour, photo.kids, np.random.default_rng([seed, n, 1])
        )
        rows.append(
            {
                "title": c.title,
                "description": c.description,
                "category": photo.garment_class,
                "kids": photo.kids,
                "colour": photo.colour,
                "brightness": photo.brightness,
                "occasion": c.occasion,
                "collection": c.collection,
                "material": c.material,
                "care": c.care,
                "sustainability": c.sustainability,
                "price": c.price,
                "photo_source": photo.source,
            }
        )
    items = pd.DataFrame(rows)
    rng = np.random.default_rng([seed, 2])
    n_items = len(items)
    n_new = max(1, int(round(new_share * n_items)))
    new = np.zeros(n_items, dtype=bool)
    new[rng.choice(n_items, size=n_new, replace=False)] = True
    day = np.where(
        new,
        rng.uniform(LATE_START, LATE_START + NEW_RELEASE_DAYS, n_items),
        rng.uniform(0, OLD_RELEASE_END, n_items),
    )
    items["new_arrival"] = new
    items["release_day"] = day
    return items, [p.jpeg for p in folder.photos]


def _stats(
    ds: Dataset, new: np.ndarray, users: pd.DataFrame, dropped: tuple[int, int]
) -> SampleStats:
    per_user = np.diff(ds.train.indptr)
    per_item = ds.item_popularity()
    valid_items = np.asarray(ds.valid.sum(axis=0)).ravel()
    test_items = np.asarray(ds.test.sum(axis=0)).ravel()
    new_train = per_item[new]
    counts = {
        int(k): int(v) for k, v in zip(*np.unique(new_train, return_counts=True), strict=True)
    }
    return SampleStats(
        n_users=ds.n_users,
        n_items=ds.n_items,
        n_train=int(ds.train.nnz),
        n_valid=int(ds.valid.nnz),
        n_test=int(ds.test.nnz),
        median_train_per_user=float(np.median(per_user)),
        mean_train_per_user=float(per_user.mean()),
        mean_train_per_item=float(per_item.mean()),
        share_items_under_5_train=float((per_item < 5).mean()),
        gini_train=gini(per_item),
        new_items=int(new.sum()),
        new_share=float(new.mean()),
        new_train_max=int(new_train.max()) if new.any() else 0,
        new_train_counts=counts,
        new_valid=int(valid_items[new].sum()),
        new_test=int(test_items[new].sum()),
        dropped_items=dropped[0],
        dropped_users=dropped[1],
        groups={str(k): int(v) for k, v in users["group"].value_counts().sort_index().items()},
    )


def generate_photo_sample(
    config: PhotoSampleConfig,
    *,
    encoders: Encoders | None = None,
    cache: FeatureCache | None = None,
    device: str = "auto",
    progress: bool = False,
) -> PhotoSample:
    """The whole photo sample in memory; raises :class:`HeadroomError` if the gate fails."""
    from anchorrec.sample.photo_datasheet import render_photo_datasheet

    config.check()
    folder = load_photo_folder(config.photos, limit_per_class=config.limit_per_class)
    if len(folder.photos) < 20:
        raise ConfigError(
            f"{config.photos}: {len(folder.photos)} photos; a sample needs at least 20."
        )
    items, jpegs = catalogue_from_photos(folder, config.seed, config.new_share)
    encoders = encoders or offline_encoders(device, progress)
    image_all, text_all = encode_catalogue(
        jpegs, encoder_texts(items), encoders, cache or FeatureCache(None)
    )
    new_all = items["new_arrival"].to_numpy(dtype=bool)
    day_all = items["release_day"].to_numpy()
    drawn = draw_purchases(
        image_all,
        text_all,
        day_all,
        new_all,
        config.tastes,
        np.random.default_rng([config.seed, 3]),
    )

    keep = iterative_k_core(drawn.user, drawn.item, CORE_K)
    kept_items = np.unique(drawn.item[keep])
    kept_users = np.unique(drawn.user[keep])
    if len(kept_items) < 20 or len(kept_users) < 20:
        raise ConfigError(
            f"the {CORE_K}-core keeps {len(kept_items)} items and {len(kept_users)} shoppers; "
            "add shoppers (--users) or photos."
        )
    u = np.searchsorted(kept_users, drawn.user[keep])
    i = np.searchsorted(kept_items, drawn.item[keep])
    day = drawn.day[keep]
    held = drawn.held[keep]
    new_id = np.full(len(items), -1, dtype=np.int64)
    new_id[kept_items] = np.arange(len(kept_items))

    items["co_purchase_group"] = drawn.co_purchase_group
    items["popularity"] = np.round(drawn.popularity, 4)
    items = items.iloc[kept_items].reset_index(drop=True)
    items["item_id"] = np.arange(len(items), dtype=np.int64)
    items["image"] = [f"images/{n:04d}.jpg" for n in range(len(items))]
    items["release_date"] = [
        (YEAR_START + dt.timedelta(days=int(d))).isoformat() for d in items["release_day"]
    ]
    images = {rel: jpegs[old] for rel, old in zip(items["image"], kept_items, strict=True)}

    users = drawn.users.iloc[kept_users].reset_index(drop=True)
    sources = folder.photos
    users["seed_photos"] = [
        " ".join(sources[int(s)].source for s in str(v).split()) for v in users["seed_items"]
    ]
    users["seed_items"] = [
        " ".join(str(new_id[int(s)]) for s in str(v).split()) for v in users["seed_items"]
    ]
    users["purchases"] = np.bincount(u, minlength=len(kept_users))
    users.insert(0, "user_id", np.arange(len(users), dtype=np.int64))

    labels = chronological_split(u, day, held)
    train, valid, test = split_matrices(u, i, labels, len(users), len(items))
    image_feat, text_feat = image_all[kept_items], text_all[kept_items]
    dataset = Dataset(
        name=config.name,
        n_users=len(users),
        n_items=len(items),
        train=train,
        valid=valid,
        test=test,
        features={
            IMAGE: image_feat,
            TEXT: text_feat,
            FUSED: build_fused_features(image_feat, text_feat),
        },
        items=items[list(PHOTO_ITEM_COLUMNS)],
        users=users,
    )
    new = items["new_arrival"].to_numpy(dtype=bool)
    report = headroom_report(
        train, valid, test, image_feat, text_feat, users["group"].to_numpy(dtype=str), new
    )
    stats = _stats(
        dataset, new, users, (len(folder.photos) - len(items), drawn.users.shape[0] - len(users))
    )
    split_names = np.array(["train", "valid", "test"])[labels]
    purchases = pd.DataFrame(
        {"user_id": u, "item_id": i, "day": np.round(day, 3), "split": split_names}
    ).sort_values(["user_id", "day"], kind="stable")
    sheet = render_photo_datasheet(config, stats, report, folder)
    built = PhotoSample(
        dataset=dataset,
        images=images,
        purchases=purchases.reset_index(drop=True),
        report=report,
        stats=stats,
        datasheet=sheet,
        license_text=folder.license_text,
        readme_text=folder.readme_text,
    )
    if config.gate and not report.passed:
        raise HeadroomError(report.failure_message() + "\n\n" + report.table())
    return built


def build_photo_sample(
    out_dir: str | Path,
    config: PhotoSampleConfig,
    *,
    overwrite: bool = False,
    encoders: Encoders | None = None,
    cache: FeatureCache | None = None,
    device: str = "auto",
    progress: bool = False,
) -> PhotoSample:
    """Generate the photo sample and write it to ``out_dir`` (atomically, MMRec layout).

    Nothing is written when the headroom gate fails.
    """
    from anchorrec.sample.photo_datasheet import photo_source_note

    built = generate_photo_sample(
        config, encoders=encoders, cache=cache, device=device, progress=progress
    )
    extra = dict(built.images)
    extra[DATASHEET_FILE] = built.datasheet.encode("utf-8")
    extra[PHOTO_LICENSE] = built.license_text.encode("utf-8")
    extra[PHOTO_SOURCE] = photo_source_note(built).encode("utf-8")
    if built.readme_text:
        extra[PHOTO_README] = built.readme_text.encode("utf-8")
    extra[PURCHASES_FILE] = built.purchases.to_csv(index=False).encode("utf-8")
    save_mmrec(built.dataset, out_dir, extra_files=extra, overwrite=overwrite)
    return built
