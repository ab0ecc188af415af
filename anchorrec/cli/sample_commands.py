"""Sub-commands of the sample area (registered by :mod:`anchorrec.cli`).

``python -m anchorrec sample build OUT_DIR --seed 0 [--items 1200 --users 3000]`` writes the
boutique sample catalogue in the MMRec layout.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from anchorrec.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to ``sub``."""
    sample = sub.add_parser("sample", help="build the bundled sample catalogue")
    sample_sub = sample.add_subparsers(dest="sample_command", metavar="ACTION", required=True)
    build = sample_sub.add_parser(
        "build",
        help="generate the boutique sample dataset (pictures, copy, shoppers, features)",
        description="Generate the Maison Verelle sample catalogue deterministically: product "
        "pictures, titles and descriptions, shoppers with known reasons to buy, their "
        "interactions (5-core, MMRec split) and offline image/text features, plus DATASHEET.md.",
    )
    build.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="directory to create")
    build.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    build.add_argument("--items", type=int, default=1200, help="catalogue size (default 1200)")
    build.add_argument("--users", type=int, default=3000, help="number of shoppers (default 3000)")
    build.add_argument("--name", default="boutique", help="dataset name (default boutique)")
    build.add_argument("--device", default="auto", help="encoder device: auto, cpu or cuda")
    build.add_argument("--overwrite", action="store_true", help="replace OUT_DIR if it exists")
    build.add_argument("--quiet", action="store_true", help="print nothing but errors")
    build.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    from anchorrec.sample.build import SampleConfig, build_sample

    if args.items < 20 or args.users < 20:
        raise ConfigError("--items and --users must each be at least 20.")
    if args.out_dir.exists() and not args.overwrite:
        raise ConfigError(
            f"{args.out_dir} already exists; choose another OUT_DIR or pass --overwrite."
        )
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
