"""Sub-commands of the sample area (registered by :mod:`anchorrec.cli`).

``python -m anchorrec sample build --photos PHOTO_DIR --out OUT_DIR [--users 4000 ...]`` builds
the photo sample from a folder of real product photos and runs its content-headroom gate
(exit 2, nothing written, when the gate fails).

``python -m anchorrec sample build OUT_DIR --seed 0 [--items 1200 --users 3000]`` (no
``--photos``) writes the drawn-picture boutique sample catalogue in the MMRec layout.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from anchorrec.errors import ConfigError
from anchorrec.sample.tastes import TasteConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to ``sub``."""
    sample = sub.add_parser("sample", help="build the bundled sample catalogue")
    sample_sub = sample.add_subparsers(dest="sample_command", metavar="ACTION", required=True)
    build = sample_sub.add_parser(
        "build",
        help="generate a sample dataset (photos or drawn pictures, copy, shoppers, features)",
        description="With --photos: build the photo sample from a folder of real product photos "
        "(downsized to 256 px), with generated copy, shoppers whose tastes live in the "
        "encoders' feature spaces, a chronological split with new arrivals, and a "
        "content-headroom gate that refuses the build (exit 2) when content cannot beat "
        "purchase history. Without --photos: generate the drawn-picture Maison Verelle "
        "catalogue. Both write the MMRec layout plus DATASHEET.md.",
    )
    build.add_argument(
        "out_dir", metavar="OUT_DIR", type=Path, nargs="?", help="directory to create"
    )
    build.add_argument("--out", type=Path, help="directory to create (same as OUT_DIR)")
    build.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    build.add_argument(
        "--items", type=int, default=1200, help="drawn catalogue size (default 1200)"
    )
    build.add_argument(
        "--users", type=int, help="number of shoppers (default 4000 with --photos, else 3000)"
    )
    build.add_argument(
        "--name", help="dataset name (default wardrobe with --photos, else boutique)"
    )
    photos = build.add_argument_group("photo sample (with --photos)")
    photos.add_argument(
        "--photos", type=Path, help="photo folder: <class>/<photo>.jpg sub-folders and a LICENSE"
    )
    photos.add_argument(
        "--photos-per-class", type=int, help="keep the first N photos of each class (small build)"
    )
    photos.add_argument(
        "--temperature",
        type=float,
        help="how sharply content decides a taste purchase: small = content decides, "
        f"large = irrelevant (default {TasteConfig.temperature:g})",
    )
    photos.add_argument(
        "--popularity-share",
        type=float,
        help=f"mean share of purchases led by popularity (default {TasteConfig.popularity_share:g})",
    )
    photos.add_argument(
        "--new-share",
        type=float,
        help="share of items released late as new arrivals (default 0.15)",
    )
    photos.add_argument(
        "--feature-cache",
        type=Path,
        help="directory caching the encoders' features by content (rebuilds encode nothing twice)",
    )
    photos.add_argument(
        "--no-gate",
        action="store_true",
        help="write the sample even when the headroom gate fails (the datasheet says so)",
    )
    build.add_argument("--device", default="auto", help="encoder device: auto, cpu or cuda")
    build.add_argument("--overwrite", action="store_true", help="replace OUT_DIR if it exists")
    build.add_argument("--quiet", action="store_true", help="print nothing but errors")
    build.set_defaults(func=run_build)


def _out_dir(args: argparse.Namespace) -> Path:
    if args.out_dir is not None and args.out is not None and args.out_dir != args.out:
        raise ConfigError(
            f"two output directories given ({args.out_dir} and --out {args.out}); keep one."
        )
    out = args.out if args.out is not None else args.out_dir
    if out is None:
        raise ConfigError("no output directory; pass --out OUT_DIR.")
    if out.exists() and not args.overwrite:
        raise ConfigError(f"{out} already exists; choose another OUT_DIR or pass --overwrite.")
    return out


def run_build(args: argparse.Namespace) -> int:
    out = _out_dir(args)
    if args.photos is not None:
        return run_photo_build(args, out)
    from anchorrec.sample.build import SampleConfig, build_sample

    photo_only = [
        flag
        for flag, value in (
            ("--photos-per-class", args.photos_per_class),
            ("--temperature", args.temperature),
            ("--popularity-share", args.popularity_share),
            ("--new-share", args.new_share),
            ("--feature-cache", args.feature_cache),
            ("--no-gate", args.no_gate or None),
        )
        if value is not None
    ]
    if photo_only:
        raise ConfigError(
            f"{', '.join(photo_only)} only apply to the photo sample; add --photos PHOTO_DIR."
        )
    args.out_dir = out
    args.users = 3000 if args.users is None else args.users
    args.name = args.name or "boutique"
    if args.items < 20 or args.users < 20:
        raise ConfigError("--items and --users must each be at least 20.")
    from anchorrec.data.validation import check_dataset_name
    from anchorrec.fileio import check_output_dir

    check_dataset_name(args.name, "--name")  # before minutes of drawing and encoding
    check_output_dir(args.out_dir, overwrite=args.overwrite)
    started = time.perf_counter()
    config = SampleConfig(seed=args.seed, n_items=args.items, n_users=args.users, name=args.name)
    built = build_sample(
        args.out_dir, config, overwrite=args.overwrite, device=args.device, progress=not args.quiet
    )
    if not args.quiet:
        s = built.signals
        print(
            f"wrote {args.out_dir}: {s.n_items} items, {s.n_users} users, "
            f"{s.n_interactions} interactions in {time.perf_counter() - started:.0f} s"
        )
        for attr, space in (("category", "image"), ("category", "text"), ("pattern", "image"),
                            ("occasion", "text")):  # fmt: skip
            p = s.purity(attr, space)
            print(f"  10-NN {attr} purity in {space} space: {p.purity:.3f} (chance {p.chance:.3f})")
        print(f"  see {args.out_dir / 'DATASHEET.md'}")
    return 0


def run_photo_build(args: argparse.Namespace, out: Path) -> int:
    from anchorrec.data.validation import check_dataset_name
    from anchorrec.fileio import check_output_dir
    from anchorrec.sample.encoding import FeatureCache
    from anchorrec.sample.photo_build import PhotoSampleConfig, build_photo_sample

    if args.photos_per_class is not None and args.photos_per_class < 1:
        raise ConfigError("--photos-per-class must be at least 1.")
    check_dataset_name(args.name or "wardrobe", "--name")  # before minutes of encoding
    check_output_dir(out, overwrite=args.overwrite)
    started = time.perf_counter()
    defaults = TasteConfig()
    tastes = TasteConfig(
        n_users=defaults.n_users if args.users is None else args.users,
        temperature=defaults.temperature if args.temperature is None else args.temperature,
        popularity_share=(
            defaults.popularity_share if args.popularity_share is None else args.popularity_share
        ),
    )
    config = PhotoSampleConfig(
        photos=args.photos,
        seed=args.seed,
        name=args.name or "wardrobe",
        new_share=PhotoSampleConfig.new_share if args.new_share is None else args.new_share,
        limit_per_class=args.photos_per_class,
        tastes=tastes,
        gate=not args.no_gate,
    )
    built = build_photo_sample(
        out,
        config,
        overwrite=args.overwrite,
        cache=FeatureCache(args.feature_cache),
        device=args.device,
        progress=not args.quiet,
    )
    if not args.quiet:
        s = built.stats
        print(
            f"wrote {out}: {s.n_items} items, {s.n_users} shoppers, "
            f"{s.n_train}/{s.n_valid}/{s.n_test} train/valid/test purchases in "
            f"{time.perf_counter() - started:.0f} s"
        )
        print(
            f"  median train purchases per shopper {s.median_train_per_user:g}; "
            f"{100 * s.share_items_under_5_train:.1f} % of items under 5; Gini {s.gini_train:.3f}; "
            f"{s.new_items} new arrivals (max {s.new_train_max} train purchases)"
        )
        print("  headroom gate " + ("passed" if built.report.passed else "FAILED (--no-gate)"))
        for c in built.report.checks:
            print(f"    {c.describe()}")
        print(f"  see {out / 'DATASHEET.md'}")
    return 0
