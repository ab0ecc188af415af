"""Sub-commands of the data area (registered by :mod:`anchorrec.cli`).

``validate DIR [--json]``: load and check a dataset (MMRec, RecBole atomic files, Cornac
UIR/UIRT), print a one-screen summary.
``convert SRC --out DIR``: write a RecBole or Cornac dataset as an MMRec directory.
``import-catalog``: turn items.csv + interactions.csv + photos into an MMRec dataset.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from anchorrec.cli.common import emit_json
from anchorrec.data.archive import unpacked_dataset
from anchorrec.data.catalog import DEFAULT_K_CORE, import_catalog
from anchorrec.data.dataset import Dataset
from anchorrec.data.formats import CONVERT_SPLITS, FORMATS, convert_dataset, load_dataset
from anchorrec.data.mmrec import check_not_temporary
from anchorrec.errors import DatasetError, printable


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to ``sub``."""
    p = sub.add_parser(
        "validate",
        help="check a dataset (MMRec, RecBole or Cornac) and print its summary",
        description="Load and validate a dataset: an MMRec directory (<name>.inter, feature "
        ".npy files, items.csv, users.csv), a RecBole atomic directory (<name>.inter with a "
        "typed header, optional .item/.user) or a Cornac UIR/UIRT file. Exit 0 if valid, 2 "
        "with the reasons otherwise.",
    )
    p.add_argument("directory", metavar="DIR", help="the dataset (or a .zip of an MMRec one)")
    p.add_argument("--name", help="which <name>.inter to use when DIR holds several")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--strict-duplicates",
        action="store_true",
        help="treat repeated (user, item) lines as an error instead of a warning",
    )
    add_format_arguments(p)
    p.set_defaults(func=_validate)

    p = sub.add_parser(
        "convert",
        help="write a RecBole or Cornac dataset as an MMRec directory",
        description="Read SRC (a RecBole atomic directory or a Cornac UIR/UIRT file; an MMRec "
        "directory is copied as it is), split it as --split says, and write a complete MMRec "
        "directory at --out: <name>.inter with x_label, items.csv and users.csv (original ids "
        "and attributes), item_id_map.csv and user_id_map.csv. Nothing appears in --out unless "
        "the whole conversion succeeds.",
    )
    p.add_argument("source", metavar="SRC", help="the dataset to convert")
    p.add_argument("--out", required=True, metavar="DIR", help="MMRec directory to write")
    p.add_argument("--name", help="dataset name (default: the source's)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_format_arguments(p)
    p.set_defaults(func=_convert)

    p = sub.add_parser(
        "import-catalog",
        help="import a product catalogue (CSV + photos) as an MMRec dataset",
        description="Read items.csv (item_id, title, description, category, image) and "
        "interactions.csv (user_id, item_id[, timestamp]) and an image folder; filter to a "
        "k-core, split as MMRec does, encode texts (all-MiniLM-L6-v2) and photos "
        "(EfficientNet-Lite0), and write a complete MMRec directory. Nothing is written "
        "unless the whole import succeeds.",
    )
    p.add_argument("--items", required=True, help="items.csv")
    p.add_argument("--interactions", required=True, help="interactions.csv")
    p.add_argument("--images", required=True, help="folder the image paths are relative to")
    p.add_argument("--out", required=True, help="output dataset directory (must not exist)")
    p.add_argument("--name", help="dataset name (default: the output folder's name)")
    p.add_argument("--k-core", type=int, default=DEFAULT_K_CORE, help="k of the k-core filter")
    p.add_argument(
        "--split",
        choices=("auto", "random", "chronological"),
        default="auto",
        help="auto: chronological when timestamps exist, else MMRec's seeded random split",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random split")
    p.add_argument(
        "--on-missing-image",
        choices=("mean", "fail"),
        default="mean",
        help="an unreadable/missing photo: use the mean image feature (warn) or stop",
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--batch-size", type=int, default=32, help="images per encoder batch")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_import_catalog)


def add_format_arguments(p: argparse.ArgumentParser) -> None:
    """``--format``, ``--split`` and ``--seed``: how a RecBole or Cornac dataset is read."""
    p.add_argument(
        "--format",
        dest="fmt",
        default="auto",
        choices=FORMATS,
        help="dataset format (auto: told from the files)",
    )
    p.add_argument(
        "--split",
        default="auto",
        choices=CONVERT_SPLITS,
        help="how RecBole/Cornac interactions are split (auto: RecBole's default random-order "
        "80/10/10 for RecBole, MMRec's per-user rule for Cornac, chronological with "
        "timestamps; split files are kept)",
    )
    p.add_argument("--seed", type=int, default=None, help="seed of a random-order split")


def format_summary(ds: Dataset) -> str:
    """A one-screen, human-readable summary of a dataset."""
    s = ds.summary()
    lines = [
        f"dataset      {printable(str(s['name']))}  ({printable(str(s['path']))})",
        f"users        {ds.n_users:,}",
        f"items        {ds.n_items:,}",
        f"interactions {ds.n_interactions:,}  (sparsity {100 * float(ds.sparsity):.4f}%)",
        f"split        train {ds.train.nnz:,} / valid {ds.valid.nnz:,} / test {ds.test.nnz:,}",
    ]
    mods = {m: int(ds.features[m].shape[1]) for m in ds.modalities}
    lines.append(
        "modalities   "
        + (", ".join(f"{m} ({d}-d)" for m, d in mods.items()) if mods else "none (ID-only models)")
    )
    meta = [
        n
        for n, has in (("items.csv", ds.items is not None), ("users.csv", ds.users is not None))
        if has
    ]
    lines.append("metadata     " + (", ".join(meta) if meta else "none"))
    lines.append(f"dropped      {ds.dropped_users:,} user(s) with no train interaction")
    lines.append(f"source       {s['source']}")
    lines.append(f"fingerprint  {ds.fingerprint}")
    if ds.warnings:
        lines.append(f"warnings     {len(ds.warnings)}")
        lines.extend(f"  - {printable(w)}" for w in ds.warnings)
    else:
        lines.append("warnings     none")
    return "\n".join(lines)


def _print(ds: Dataset, as_json: bool) -> None:
    if as_json:
        out: dict[str, object] = {"ok": True}
        out.update(ds.summary())
        out["warnings"] = list(ds.warnings)
        emit_json(out, indent=2)
    else:
        print(format_summary(ds))


def _validate(args: argparse.Namespace) -> int:
    try:
        path = Path(args.directory)
        if path.suffix.lower() == ".zip" and path.is_file():
            with unpacked_dataset(path) as root:
                ds = _load(root, args)
        else:
            ds = _load(path, args)
    except DatasetError as exc:
        if args.json:
            emit_json({"ok": False, "errors": [str(exc)]}, indent=2)
        raise
    _print(ds, args.json)
    return 0


def _load(path: Path, args: argparse.Namespace) -> Dataset:
    check_not_temporary(path.parent if path.is_file() else path)
    return load_dataset(
        path,
        name=args.name,
        on_duplicate="error" if args.strict_duplicates else "warn",
        fmt=getattr(args, "fmt", "auto"),
        split=getattr(args, "split", "auto"),
        seed=getattr(args, "seed", None),
    )


def _convert(args: argparse.Namespace) -> int:
    ds = convert_dataset(
        args.source,
        args.out,
        fmt=args.fmt,
        split=args.split,
        seed=args.seed,
        name=args.name,
        overwrite=args.overwrite,
    )
    if not args.json:
        print(f"converted into {args.out}", file=sys.stderr)
    _print(ds, args.json)
    return 0


def _import_catalog(args: argparse.Namespace) -> int:
    ds = import_catalog(
        args.items,
        args.interactions,
        args.images,
        args.out,
        k_core=args.k_core,
        split=args.split,
        seed=args.seed,
        on_missing_image=args.on_missing_image,
        device=args.device,
        batch_size=args.batch_size,
        progress=not args.no_progress,
        overwrite=args.overwrite,
        name=args.name,
    )
    if not args.json:
        print(f"imported into {args.out}", file=sys.stderr)
    _print(ds, args.json)
    return 0
