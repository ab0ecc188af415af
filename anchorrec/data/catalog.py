"""Importing a product catalogue (items, interactions, photos) as an MMRec dataset.

Input:

* ``items.csv``: ``item_id``, ``title``, ``image`` (a path relative to the image folder), and
  optionally ``description`` and ``category``; any other column is kept as an attribute.
* ``interactions.csv``: ``user_id``, ``item_id`` and optionally ``timestamp`` (a number or a
  date).
* an image folder.

Steps: original ids → contiguous ids, iterative k-core filter, MMRec's per-user split
(seeded random, or chronological when timestamps exist), texts encoded with all-MiniLM-L6-v2
and photos with EfficientNet-Lite0, the fused feature (:func:`build_fused_features`), and a
complete MMRec directory written atomically: nothing appears in ``out_dir`` unless the whole
import succeeds.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from anchorrec.data.dataset import (
    FUSED,
    IMAGE,
    SPLIT_NAMES,
    TEST,
    TEXT,
    VALID,
    Dataset,
    mmrec_split,
    split_matrices,
)
from anchorrec.data.features import build_fused_features
from anchorrec.data.items import encoder_texts
from anchorrec.data.mmrec import load_mmrec, write_mmrec_files
from anchorrec.data.shop_ids import ITEM_MAP_FILE, USER_MAP_FILE  # noqa: F401  (re-exported)
from anchorrec.data.validation import check_dataset_name, csv_line_of_record, read_csv_table
from anchorrec.device import resolve_device
from anchorrec.errors import ConfigError, DatasetError
from anchorrec.fileio import atomic_dir, check_output_dir, csv_bytes

SplitMode = Literal["auto", "random", "chronological"]
MissingImagePolicy = Literal["mean", "fail"]

ITEM_REQUIRED = ("item_id", "title", "image")
INTER_REQUIRED = ("user_id", "item_id")
TIMESTAMP_COL = "timestamp"
IMAGES_SUBDIR = "images"
#: Default k of the k-core filter (the 5-core of the Amazon MMRec datasets).
DEFAULT_K_CORE = 5
_MEAN_HINT = " Or pass --on-missing-image mean to give such items the mean image feature."


@dataclasses.dataclass(frozen=True)
class Catalog:
    """A parsed catalogue before encoding: items (original order) and interactions."""

    items: pd.DataFrame  # original columns, item_id as a string
    users: np.ndarray  # original user id per interaction (str)
    item_ids: np.ndarray  # original item id per interaction (str)
    timestamps: np.ndarray | None  # float64 seconds (or numbers) per interaction
    warnings: tuple[str, ...]


def read_catalog(items_csv: Path, interactions_csv: Path) -> Catalog:
    """Read and validate the two catalogue CSVs."""
    warnings: list[str] = []
    items, items_text = read_csv_table(items_csv, ITEM_REQUIRED)
    if items.empty:
        raise DatasetError(f"{items_csv}: has a header but no items; add one row per item.")
    items["item_id"] = items["item_id"].str.strip()
    empty = np.flatnonzero(items["item_id"].to_numpy() == "")
    if empty.size:
        line = csv_line_of_record(items_text, int(empty[0]))
        raise DatasetError(
            f"{items_csv}, line {line}, field item_id: is empty; give every item an id."
        )
    dup = items["item_id"].duplicated()
    if dup.any():
        r = int(np.flatnonzero(dup.to_numpy())[0])
        raise DatasetError(
            f"{items_csv}, line {csv_line_of_record(items_text, r)}, field item_id: "
            f"{items['item_id'].iloc[r]!r} appears more than once; each item needs one row."
        )
    for col in ("description", "category"):
        if col not in items.columns:
            items[col] = ""

    from anchorrec.data.formats import read_foreign_interactions

    foreign = read_foreign_interactions(interactions_csv)  # RecBole .inter, Cornac UIR/UIRT
    if foreign is not None:
        inter = pd.DataFrame({"user_id": foreign.users, "item_id": foreign.items})
        timestamps = foreign.timestamps
        foreign_lines = foreign.lines

        def line_of(r: int) -> int:
            return int(foreign_lines[r])
    else:
        inter, inter_text = read_csv_table(interactions_csv, INTER_REQUIRED)
        if inter.empty:
            raise DatasetError(
                f"{interactions_csv}: has a header but no interactions; add one row per "
                "interaction."
            )
        for col in INTER_REQUIRED:
            inter[col] = inter[col].str.strip()
            empty = np.flatnonzero(inter[col].to_numpy() == "")
            if empty.size:
                line = csv_line_of_record(inter_text, int(empty[0]))
                raise DatasetError(f"{interactions_csv}, line {line}, field {col}: is empty.")
        timestamps = None
        if TIMESTAMP_COL in inter.columns and (inter[TIMESTAMP_COL].str.strip() != "").any():
            timestamps = _parse_timestamps(interactions_csv, inter, inter_text)

        def line_of(r: int) -> int:
            return csv_line_of_record(inter_text, r)

    known = inter["item_id"].isin(items["item_id"]).to_numpy()
    if not known.all():
        r = int(np.flatnonzero(~known)[0])
        warnings.append(
            f"{interactions_csv.name}: {int((~known).sum())} interaction(s) name an item_id "
            f"that is not in {items_csv.name} (first: line {line_of(r)}, "
            f"{inter['item_id'].iloc[r]!r}); they were skipped."
        )
        inter = inter[known]
        if timestamps is not None:
            timestamps = timestamps[known]
    if inter.empty:
        raise DatasetError(
            f"{interactions_csv}: none of its item_id values is in {items_csv}; check that both "
            "files use the same item ids."
        )
    return Catalog(
        items=items,
        users=inter["user_id"].to_numpy(dtype=object),
        item_ids=inter["item_id"].to_numpy(dtype=object),
        timestamps=timestamps,
        warnings=tuple(warnings),
    )


def _parse_timestamps(path: Path, inter: pd.DataFrame, text: str) -> np.ndarray:
    raw = inter[TIMESTAMP_COL].str.strip()
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().mean() >= 0.5:  # numbers (e.g. Unix seconds); the rest are errors
        values = numeric.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
    else:  # dates
        dates = pd.to_datetime(raw, errors="coerce", utc=True, format="mixed")
        bad = dates.isna().to_numpy()
        seconds = (dates - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        values = seconds.fillna(0.0).to_numpy(dtype=np.float64)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise DatasetError(
            f"{path}, line {csv_line_of_record(text, r)}, field {TIMESTAMP_COL}: "
            f"{raw.iloc[r][:40]!r} is neither a number nor a date; fix it or leave the whole "
            "column empty."
        )
    return np.asarray(values, dtype=np.float64)


def k_core_filter(users: np.ndarray, items: np.ndarray, k: int) -> np.ndarray:
    """Mask of the interactions kept by the iterative k-core filter (every user and item ≥ k)."""
    keep = np.ones(len(users), dtype=bool)
    if k <= 1:
        return keep
    while True:
        u, i = users[keep], items[keep]
        u_counts = np.bincount(u, minlength=int(users.max()) + 1 if len(users) else 0)
        i_counts = np.bincount(i, minlength=int(items.max()) + 1 if len(items) else 0)
        ok = (u_counts[users] >= k) & (i_counts[items] >= k) & keep
        if ok.sum() == keep.sum():
            return keep
        keep = ok


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes in order of first appearance, and the original value of every code."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), sort=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _resolve_image(images_dir: Path, rel: str) -> tuple[Path | None, str]:
    """The image file of an item inside ``images_dir``, or None and the reason."""
    if not rel:
        return None, "no image given in items.csv"
    try:
        root = images_dir.resolve()
        p = (images_dir / rel).resolve()
        if not p.is_relative_to(root):
            return None, "the path points outside the image folder"
        if not p.exists():
            return None, "file not found"
        if not p.is_file():
            return None, "not a regular file"
        if p.stat().st_size == 0:
            return None, "file is empty (0 bytes)"
    except OSError as exc:  # e.g. a name longer than the file system allows
        return None, f"cannot be opened ({exc.strerror})"
    except ValueError:
        return None, "the path holds a NUL character"
    return p, ""


def import_catalog(
    items_csv: str | Path,
    interactions_csv: str | Path,
    images_dir: str | Path,
    out_dir: str | Path,
    *,
    k_core: int = DEFAULT_K_CORE,
    split: SplitMode = "auto",
    seed: int = 0,
    on_missing_image: MissingImagePolicy = "mean",
    device: str = "auto",
    batch_size: int = 32,
    progress: bool = True,
    overwrite: bool = False,
    name: str | None = None,
) -> Dataset:
    """Turn a product catalogue into a complete MMRec dataset directory at ``out_dir``.

    ``split="auto"`` is chronological when ``interactions.csv`` has timestamps, else MMRec's
    seeded random per-user split. An item whose photo is missing or unreadable gets the mean
    image feature and a warning (``on_missing_image="mean"``) or stops the import
    (``"fail"``). Returns the written dataset, loaded back through :func:`load_mmrec`.

    The steps: check the options, read the catalogue, filter and split the interactions
    (:func:`_filtered_interactions`), encode the photos (:func:`_image_features`) and then the
    texts, and write the directory atomically (:func:`_write_catalog`).
    """
    items_csv, interactions_csv = Path(items_csv), Path(interactions_csv)
    images_dir, out_dir = Path(images_dir), Path(out_dir)
    name = _check_import_options(
        images_dir, out_dir, k_core, split, on_missing_image, batch_size, device, name, overwrite
    )
    catalog = read_catalog(items_csv, interactions_csv)
    warnings = list(catalog.warnings)
    timestamps = catalog.timestamps
    if split == "chronological" and timestamps is None:
        raise DatasetError(
            f"{interactions_csv}: --split chronological needs a timestamp column with values; "
            "add one or use --split random."
        )
    if split == "random":
        timestamps = None
    kept = _filtered_interactions(catalog, interactions_csv, timestamps, k_core, warnings)
    train, valid, test = _split(kept, interactions_csv, seed)

    meta = catalog.items.iloc[kept.item_codes].reset_index(drop=True)
    photos = _image_features(
        meta, items_csv, images_dir, on_missing_image, device, batch_size, progress, warnings
    )
    from anchorrec.encoders.text import TextEncoder

    # Texts after images: with on_missing_image='fail' a bad photo stops the import early.
    text_feat = TextEncoder(device=device).encode(
        encoder_texts(meta),
        batch_size=max(batch_size, 1) * 2,
        progress=progress,
    )
    features = {
        IMAGE: photos.features,
        TEXT: text_feat,
        FUSED: build_fused_features(photos.features, text_feat),
    }
    out_items, original_ids, copies = _output_items(meta, photos, images_dir)
    ds = Dataset(
        name=name,
        n_users=kept.n_users,
        n_items=kept.n_items,
        train=train,
        valid=valid,
        test=test,
        features=features,
        items=out_items,
    )
    written = _write_catalog(ds, out_dir, overwrite, copies, original_ids, kept.user_values)
    return dataclasses.replace(written, path=out_dir, warnings=tuple(warnings) + written.warnings)


def _check_import_options(
    images_dir: Path,
    out_dir: Path,
    k_core: int,
    split: str,
    on_missing_image: str,
    batch_size: int,
    device: str,
    name: str | None,
    overwrite: bool,
) -> str:
    """Refuse bad options before any work; the dataset's name (from ``out_dir`` if not given)."""
    if k_core < 1:
        raise ConfigError(f"--k-core {k_core}: must be 1 or more (1 keeps everything).")
    if split not in ("auto", "random", "chronological"):
        raise ConfigError(f"--split {split!r}: use auto, random or chronological.")
    if on_missing_image not in ("mean", "fail"):
        raise ConfigError(f"--on-missing-image {on_missing_image!r}: use mean or fail.")
    if batch_size < 1:
        raise ConfigError(f"batch size {batch_size}: must be 1 or more.")
    resolve_device(device)  # an unavailable --device fails before any work
    if name is not None:
        check_dataset_name(name, "--name")  # it names <name>.inter: never a path
    else:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", out_dir.resolve().name).strip("._-") or "dataset"
    if images_dir.is_file() and images_dir.suffix.lower() == ".zip":
        raise DatasetError(
            f"{images_dir}: is a zip archive; --images takes the folder of the photos. Unzip it "
            "(e.g. unzip -d photos ...) and pass that folder."
        )
    if not images_dir.is_dir():
        raise DatasetError(f"{images_dir}: the image folder does not exist or is not a folder.")
    if out_dir.exists() and not overwrite:
        raise DatasetError(f"{out_dir}: already exists; choose another output or pass --overwrite.")
    check_output_dir(out_dir, overwrite=overwrite)  # a link, '.', a read-only disk: now
    return name


@dataclass(frozen=True)
class _Interactions:
    """The interactions left after de-duplication and the k-core filter, with new codes."""

    users: np.ndarray
    items: np.ndarray
    #: The kept users' original ids, in new-code order.
    user_values: np.ndarray
    #: The kept items' rows of the catalogue, in catalogue order (new code = position).
    item_codes: np.ndarray
    timestamps: np.ndarray | None
    n_users: int
    n_items: int


def _filtered_interactions(
    catalog: Catalog,
    interactions_csv: Path,
    timestamps: np.ndarray | None,
    k_core: int,
    warnings: list[str],
) -> _Interactions:
    """Repeated (user, item) pairs kept once (the earliest), then the ``k_core`` filter;
    what either removed is added to ``warnings``."""
    # Contiguous codes over the catalogue (before filtering), duplicates collapsed.
    item_index = {iid: n for n, iid in enumerate(catalog.items["item_id"].to_numpy())}
    raw_items = np.fromiter(
        (item_index[i] for i in catalog.item_ids), np.int64, len(catalog.item_ids)
    )
    raw_users, user_values = _codes(catalog.users)
    frame = pd.DataFrame({"u": raw_users, "i": raw_items})
    if timestamps is not None:
        frame["t"] = timestamps
        frame = frame.sort_values("t", kind="stable")
    dup = frame.duplicated(["u", "i"], keep="first")
    if dup.any():
        warnings.append(
            f"{interactions_csv.name}: {int(dup.sum())} repeated (user, item) interaction(s) "
            "were kept once (the earliest)."
        )
        frame = frame[~dup.to_numpy()]
    frame = frame.sort_index(kind="stable")

    keep = k_core_filter(frame["u"].to_numpy(), frame["i"].to_numpy(), k_core)
    if not keep.any():
        raise DatasetError(
            f"{interactions_csv}: the {k_core}-core filter removed every interaction (no set of "
            f"users and items has {k_core}+ interactions each); lower --k-core."
        )
    removed = int((~keep).sum())
    if removed:
        lost_users = frame["u"].nunique() - frame["u"][keep].nunique()
        lost_items = frame["i"].nunique() - frame["i"][keep].nunique()
        warnings.append(
            f"{k_core}-core filter: removed {removed} interaction(s), {lost_users} user(s) and "
            f"{lost_items} item(s) (every kept user and item has {k_core}+ interactions)."
        )
    frame = frame[keep]
    users, kept_users = pd.factorize(frame["u"], sort=False)
    items_kept_codes = np.sort(frame["i"].unique())  # keep catalogue order for items
    item_new = np.full(len(catalog.items), -1, dtype=np.int64)
    item_new[items_kept_codes] = np.arange(items_kept_codes.size)
    items = item_new[frame["i"].to_numpy()]
    users = np.asarray(users, dtype=np.int64)
    return _Interactions(
        users=users,
        items=items,
        user_values=user_values[np.asarray(kept_users, dtype=np.int64)],
        item_codes=items_kept_codes,
        timestamps=frame["t"].to_numpy() if timestamps is not None else None,
        n_users=int(users.max()) + 1,
        n_items=int(items_kept_codes.size),
    )


def _split(
    kept: _Interactions, interactions_csv: Path, seed: int
) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """MMRec's per-user split (chronological with timestamps) into train, valid and test."""
    labels = mmrec_split(kept.users, kept.items, seed=seed, timestamps=kept.timestamps)
    for label in (VALID, TEST):
        if not (labels == label).any():
            raise DatasetError(
                f"{interactions_csv}: the {SPLIT_NAMES[label]} split would be empty: no user has "
                "3 or more interactions after filtering. Add interactions or raise --k-core "
                "to 3 or more."
            )
    return split_matrices(kept.users, kept.items, labels, kept.n_users, kept.n_items)


@dataclass(frozen=True)
class _Photos:
    """The items' image features, each item's resolved photo, and the rows without one."""

    features: np.ndarray
    resolved: list[tuple[Path | None, str]]
    failed_rows: set[int]


def _image_features(
    meta: pd.DataFrame,
    items_csv: Path,
    images_dir: Path,
    on_missing_image: MissingImagePolicy,
    device: str,
    batch_size: int,
    progress: bool,
    warnings: list[str],
) -> _Photos:
    """Resolve and encode every item's photo: a missing or unreadable one stops the import
    (``"fail"``, before any encoding where it can) or gets the mean feature and a warning."""
    n_items = len(meta)
    # Images: resolve, then encode (failures get the mean feature or stop the import).
    resolved: list[tuple[Path | None, str]] = [
        _resolve_image(images_dir, str(rel).strip()) for rel in meta["image"].to_numpy()
    ]
    bad = [(n, reason) for n, (p, reason) in enumerate(resolved) if p is None]
    if bad and on_missing_image == "fail":
        raise DatasetError(_image_message(items_csv, images_dir, meta, bad) + _MEAN_HINT)
    from anchorrec.encoders.image import ImageEncoder, open_image

    if on_missing_image == "fail":
        # Decode every photo first (cheap), so bad ones stop the import before encoding; every
        # bad one is named, not only the first.
        undecodable = []
        for n, (path, _) in enumerate(resolved):
            if path is None:  # a missing photo was refused when the paths were resolved
                continue
            try:
                open_image(path).close()
            except ValueError as exc:
                undecodable.append((n, str(exc)))
        if undecodable:
            raise DatasetError(
                _image_message(items_csv, images_dir, meta, undecodable) + _MEAN_HINT
            )

    ok_rows = [n for n, (p, _) in enumerate(resolved) if p is not None]
    image_feat = np.zeros((n_items, ImageEncoder.dim), dtype=np.float32)
    failures: list[tuple[int, str]] = list(bad)
    if ok_rows:
        paths = [p for n in ok_rows if (p := resolved[n][0]) is not None]  # all of ok_rows
        feats, fails = ImageEncoder(device=device).encode_paths(
            paths, batch_size=batch_size, progress=progress
        )
        image_feat = np.zeros((n_items, feats.shape[1]), dtype=np.float32)
        image_feat[ok_rows] = feats
        failures.extend((ok_rows[f.index], f.reason) for f in fails)
    failures.sort()
    failed_rows = {n for n, _ in failures}
    if failures:
        if on_missing_image == "fail":
            raise DatasetError(_image_message(items_csv, images_dir, meta, failures) + _MEAN_HINT)
        good = [n for n in range(n_items) if n not in failed_rows]
        if not good:
            raise DatasetError(
                f"{images_dir}: none of the {n_items} item images could be read ("
                f"{_image_message(items_csv, images_dir, meta, failures)}); check --images."
            )
        image_feat[sorted(failed_rows)] = image_feat[good].mean(axis=0)
        warnings.append(  # each photo named (up to MAX_NAMED_IMAGES), not only the first
            _image_message(items_csv, images_dir, meta, failures)
            + " Those items got the mean image feature."
        )
    return _Photos(image_feat, resolved, failed_rows)


def _output_items(
    meta: pd.DataFrame, photos: _Photos, images_dir: Path
) -> tuple[pd.DataFrame, np.ndarray, dict[Path, str]]:
    """``items.csv`` of the dataset (new ids, the original ones beside them, each photo's path
    inside the dataset), the original ids, and the photos to copy (source → path)."""
    n_items = len(meta)
    out_items = meta.copy()
    original_ids = out_items["item_id"].to_numpy(dtype=object)
    out_items["item_id"] = np.arange(n_items)
    if "original_item_id" in out_items.columns:
        out_items = out_items.drop(columns="original_item_id")
    out_items.insert(1, "original_item_id", original_ids)
    image_rel = []
    copies: dict[Path, str] = {}
    for n, (p, _) in enumerate(photos.resolved):
        if p is None or n in photos.failed_rows:
            image_rel.append("")
            continue
        rel = p.relative_to(images_dir.resolve()).as_posix()
        copies[p] = f"{IMAGES_SUBDIR}/{rel}"
        image_rel.append(copies[p])
    out_items["image"] = image_rel
    return out_items, original_ids, copies


def _write_catalog(
    ds: Dataset,
    out_dir: Path,
    overwrite: bool,
    copies: dict[Path, str],
    original_ids: np.ndarray,
    user_ids: np.ndarray,
) -> Dataset:
    """Write ``ds``, its photos and the id maps to ``out_dir`` atomically; the dataset as read
    back (checked to be the one written)."""
    n_items, n_users = ds.n_items, ds.n_users
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        write_mmrec_files(ds, tmp)
        for src, rel in copies.items():
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        # The id maps are for people (opened in spreadsheets): original ids are neutralised.
        item_map = pd.DataFrame({"original_id": original_ids, "item_id": np.arange(n_items)})
        (tmp / ITEM_MAP_FILE).write_bytes(csv_bytes(item_map))
        user_map = pd.DataFrame({"original_id": user_ids, "user_id": np.arange(n_users)})
        (tmp / USER_MAP_FILE).write_bytes(csv_bytes(user_map))
        written = load_mmrec(tmp, name=ds.name)
        if written.fingerprint != ds.fingerprint:
            raise RuntimeError("the written dataset does not read back identically")
    return written


#: The most unusable photos one error message names (the rest are counted).
MAX_NAMED_IMAGES = 8


def _image_message(
    items_csv: Path, images_dir: Path, meta: pd.DataFrame, failures: list[tuple[int, str]]
) -> str:
    """Name each item, its image file and the reason (up to :data:`MAX_NAMED_IMAGES`)."""
    named = []
    for n, reason in failures[:MAX_NAMED_IMAGES]:
        row = meta.iloc[n]
        image = str(row["image"]).strip()
        named.append(f"item {row['item_id']!r}: {images_dir / image}: {reason}")
    more = len(failures) - len(named)
    rest = f"; and {more} more" if more > 0 else ""
    return (
        f"{items_csv}, field image: {len(failures)} item image(s) could not be used — "
        f"{'; '.join(named)}{rest}. Fix the files or the paths (paths are relative to --images)."
    )
