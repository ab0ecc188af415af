"""Sub-commands of the data area (registered by :mod:`anchorrec.cli`).

``validate DIR [--json]``: load and check an MMRec dataset, print a one-screen summary.
``import-catalog``: turn items.csv + interactions.csv + photos into an MMRec dataset.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from anchorrec.data.archive import unpacked_dataset
from anchorrec.data.catalog import DEFAULT_K_CORE, import_catalog
from anchorrec.data.dataset import Dataset
from anchorrec.data.mmrec import check_not_temporary, load_mmrec
from anchorrec.errors import DatasetError, printable


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to ``sub``."""
    p = sub.add_parser(
        "validate",
        help="check an MMRec dataset directory and print its summary",
        description="Load and validate an MMRec dataset directory (<name>.inter, feature "
        ".npy files, items.csv, users.csv). Exit 0 if valid, 2 with the reasons otherwise.",
    )
    p.add_argument("directory", metavar="DIR", help="the dataset directory (or a .zip of it)")
    p.add_argument("--name", help="which <name>.inter to use when DIR holds several")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--strict-duplicates",
        action="store_true",
        help="treat repeated (user, item) lines as an error instead of a warning",
    )
    p.set_defaults(func=_validate)

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


def format_summary(ds: Dataset) -> str:
    """A one-screen, human-readable summary of a dataset."""
    s = ds.summary()
    lines = [
        f"dataset      {printable(str(s['name']))}  ({printable(str(s['path']))})",
        f"users        {s['users']:,}",
        f"items        {s['items']:,}",
        f"interactions {s['interactions']:,}  (sparsity {100 * float(s['sparsity']):.4f}%)",
        f"split        train {s['train']:,} / valid {s['valid']:,} / test {s['test']:,}",
    ]
    mods = s["modalities"]
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
        print(json.dumps(out, indent=2))
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
            print(json.dumps({"ok": False, "errors": [str(exc)]}, indent=2))
        raise
    _print(ds, args.json)
    return 0


def _load(path: Path, args: argparse.Namespace) -> Dataset:
    check_not_temporary(path.parent if path.suffix == ".inter" else path)
    return load_mmrec(
        path, name=args.name, on_duplicate="error" if args.strict_duplicates else "warn"
    )


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
