"""``export MODEL_DIR --what space|vectors|index|figure --out DIR``: results for other tools.

* ``space``: a layout as Parquet for Embedding Atlas (``x``, ``y``, ``neighbors``, item
  metadata) and as ``vecs.tsv`` + ``meta.tsv`` for the TensorFlow Projector;
* ``vectors``: the final user and item vectors (``.npy``) with their ids;
* ``index``: a faiss index over the item vectors whose top-K equals ``recommend``'s;
* ``figure``: a panel (an item space) or Figure 1 as SVG and PNG.

Every export writes ``export.json`` with the model fingerprint, and prints it.
"""

from __future__ import annotations

import argparse

from anchorrec.cli.common import add_model_source_arguments, emit_json, load_model_from_args

WHAT: tuple[str, ...] = ("space", "vectors", "index", "figure")
#: The layout methods (``anchorrec.analysis.projection.METHODS``, spelled out so that
#: ``--help`` imports nothing heavy).
METHOD_CHOICES: tuple[str, ...] = ("pca", "tsne", "umap")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``export`` to ``sub``."""
    p = sub.add_parser(
        "export",
        help="export a space, the vectors, a faiss index or a figure of a trained model",
        description="Write one export of MODEL_DIR into the new directory --out (atomically), "
        "with export.json stating the model fingerprint. space: space.parquet for Embedding "
        "Atlas (embedding-atlas space.parquet --x x --y y --neighbors neighbors) and "
        "vecs.tsv/meta.tsv for the TensorFlow Projector; vectors: user_vectors.npy, "
        "item_vectors.npy, user_ids.csv, item_ids.csv; index: items.faiss (needs faiss-cpu) "
        "beside the vectors; figure: PANEL.svg and PANEL.png.",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--what", required=True, choices=WHAT, help="what to export")
    p.add_argument("--out", required=True, metavar="DIR", help="directory to write (new)")
    p.add_argument(
        "--space", default="final", help="space: the item space to export (default final)"
    )
    p.add_argument(
        "--panel",
        default="figure1",
        help="figure: figure1 (ID view against final vectors) or an item space (e.g. final)",
    )
    p.add_argument(
        "--method", default="umap", choices=METHOD_CHOICES, help="space/figure: the layout"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--json", action="store_true", help="print export.json as JSON")
    add_model_source_arguments(p)
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from anchorrec.fileio import check_output_dir

    check_output_dir(args.out, overwrite=args.overwrite)  # before the model is loaded
    loaded = load_model_from_args(args)
    if args.what == "space":
        from anchorrec.analysis.exports import export_space

        record = export_space(loaded, args.out, args.space, args.method, overwrite=args.overwrite)
    elif args.what == "vectors":
        from anchorrec.analysis.exports import export_vectors

        record = export_vectors(loaded, args.out, overwrite=args.overwrite)
    elif args.what == "index":
        from anchorrec.analysis.exports import export_index

        record = export_index(loaded, args.out, overwrite=args.overwrite)
    else:
        from anchorrec.analysis.figures import export_figure

        record = export_figure(loaded, args.out, args.panel, args.method, overwrite=args.overwrite)
    if args.json:
        emit_json(record)
    else:
        print(
            f"wrote {args.what} of model {record['model_fingerprint']} ({record['variant']} on "
            f"{record['dataset']}) to {args.out}: {', '.join(record['files'])}"
        )
    return 0
