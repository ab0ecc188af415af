"""Sub-command ``preview``: who a new product would reach under a model, and why."""

from __future__ import annotations

import argparse
from typing import Any

from anchorrec.cli.common import add_model_source_arguments, emit_json, load_model_from_args
from anchorrec.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "preview",
        help="preview a new product: the shoppers whose top-K it enters, and why",
        description="Encode a product photo and copy with the offline encoders, place it in "
        "each model's catalogue as an item nobody has bought (mean item ID embedding, no "
        "purchases) and rank it for every shopper. With --edit ITEM, change an existing "
        "item's copy or photo instead and show the rank changes across its current audience.",
    )
    p.add_argument("model_dirs", nargs="+", metavar="MODEL_DIR", help="trained model(s)")
    p.add_argument("--title", default=None, help="the product's title")
    p.add_argument("--description", default=None, help="the product's description")
    p.add_argument("--image", default=None, metavar="PHOTO", help="the product's photo file")
    p.add_argument("--category", default=None, help="the product's category (optional)")
    p.add_argument("--edit", type=int, default=None, metavar="ITEM", help="edit this item")
    p.add_argument("--k", type=int, default=20, help="top-K the audience is counted in")
    p.add_argument("--shoppers", type=int, default=10, help="audience rows to print")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_model_source_arguments(p)
    p.set_defaults(func=cmd_preview)


def _field_error(exc: Exception) -> ConfigError:
    from anchorrec.analysis.preview import PreviewInputError

    if isinstance(exc, PreviewInputError):
        message = str(exc).split(": ", 1)[-1]
        return ConfigError(f"--{exc.field}: {message}")
    return ConfigError(str(exc))


def cmd_preview(args: argparse.Namespace) -> int:
    from anchorrec.analysis import preview as pv
    from anchorrec.analysis import preview_edit as pe

    if args.k < 1:
        raise ConfigError(f"--k must be >= 1 (got {args.k}).")
    try:
        if args.edit is None:
            pv.check_copy(args.title, args.description)
            if args.image is None:
                raise pv.PreviewInputError("image", "required: the product's photo file.")
            pv.read_photo(args.image)  # a bad photo stops before any model is loaded
        else:
            if args.title is not None or args.description is not None:
                pv.check_copy(
                    "-" if args.title is None else args.title,
                    "-" if args.description is None else args.description,
                )
            if args.image is not None:
                pv.read_photo(args.image)
            if all(v is None for v in (args.title, args.description, args.category, args.image)):
                raise ConfigError(
                    "--edit: give what changes (--title, --description, --category or --image)."
                )
    except pv.PreviewInputError as exc:
        raise _field_error(exc) from None
    loaded = [load_model_from_args(args, d) for d in args.model_dirs]
    product = None
    out: list[dict[str, Any]] = []
    for lm in loaded:
        try:
            if args.edit is not None:
                edited = pe.edited_product(
                    lm.dataset,
                    args.edit,
                    title=args.title,
                    description=args.description,
                    category=args.category,
                    image=args.image,
                    device=args.device,
                )
                out.append(_edit_record(pe.preview_edit(lm, args.edit, edited, args.k), lm))
                continue
            if product is None:
                product = pv.encode_product(
                    pv.NewProduct(args.title, args.description, args.category, args.image),
                    device=args.device,
                )
            result = pv.preview_item(lm, product, args.k)
        except pv.PreviewInputError as exc:
            raise _field_error(exc) from None
        record = result.to_json(lm.dataset, shoppers=args.shoppers)
        record["model_dir"] = str(lm.model_dir)
        out.append(record)
    if args.json:
        emit_json(out if len(out) > 1 else out[0], indent=2)
        return 0
    for record in out:
        _print_record(record)
    return 0


def _edit_record(result: Any, lm: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"model_dir": str(lm.model_dir), "edit": True, **result.summary()}
    if result.can_change:
        record["audience_changes"] = result.table.head(50).to_dict(orient="records")
    return record


def _print_record(r: dict[str, Any]) -> None:
    name = f"{r.get('variant')} ({r.get('model_dir')})"
    if r.get("edit"):
        if "reason" in r:
            print(f"{name}: {r['reason']}\n")
            return
        print(
            f"{name}: item {r['item']} edited — of its {r['audience_before']} shoppers with it "
            f"in their top-{r['k']}, {r['stay']} keep it and {r['leave']} lose it; "
            f"{r['enter']} new shoppers get it (audience {r['audience_before']} → "
            f"{r['audience_after']}); median rank change {r['median_change']:+.0f}.\n"
        )
        return
    if not r["can_rank"]:
        print(f"{name}: {r['reason']}\n")
        return
    q = r["rank_quantiles"]
    print(
        f"{name}: enters the top-{r['k']} of {r['audience_size']} shoppers; median rank "
        f"{q['0.5']:.0f} of {r['catalogue_items']} (10%: {q['0.1']:.0f}, 90%: {q['0.9']:.0f})."
    )
    print(f"  ranked by: {r['ranked_by']}")
    if not r.get("routed"):
        print(f"  ({r['unseen_id_rule']}.)")
    for line in r.get("why_first", []):
        print(f"  why: {line}")
    print("  by segment:")
    for s in r["segments"]:
        print(
            f"    {s['segment']:>14} {s['name']:<16} {s['audience']:>5} of {s['shoppers']:>5} "
            f"({s['share']:.1%}), median rank {s['median_rank']:.0f}"
        )
    if r["attribution"]:
        parts = ", ".join(
            f"{a['input']} {a['mean_share']:.0%} (φ {a['mean_phi']:+.3f})" for a in r["attribution"]
        )
        print(f"  why (mean over the audience): {parts}")
    for space, rows in r["neighbours"].items():
        near = "; ".join(f"#{n['item']} {n['title']} ({n['cosine']:.2f})" for n in rows[:3])
        print(f"  nearest in {space}: {near}")
    if r["audience"]:
        top = ", ".join(f"{a['user']} (#{a['rank']})" for a in r["audience"])
        print(f"  first shoppers: {top}")
    print()
