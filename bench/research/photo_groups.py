"""On the photo sample, by shopper group: accuracy with paired intervals and attribution shares.

The photo sample's ``users.csv`` records each shopper's ``group`` (visual: buys near seed photos
in the image feature space; textual: near seed items in the text space; collaborative: inside
hidden co-purchase groups) and ``items.csv`` marks the ``new_arrival`` items (released late, so
they have 0–2 train purchases but real test purchases). For every variant tuned by the protocol
(a tuning root of ``python -m anchorrec tune``: one directory per variant, 5 seeds each) this
script measures

* test Recall@20 / NDCG@20 per group and on new-arrival purchases (only the test purchases of
  new arrivals count, for the shoppers who have one), mean ± sd over the seeds, and the
  difference to LightGCN, to EASE and, for the alignment variants, to ``anchor`` with its 95 %
  paired bootstrap interval over the same shoppers (each shopper's metric averaged over the
  seeds first);
* input-level Shapley shares (exact, |φ|/Σ|φ| per recommendation, under each of ``--games``:
  ``mean`` and ``background``) of every shopper's top-``k`` by group, of the recommended new
  arrivals and of the held-out new-arrival purchases, per seed, then mean ± sd over the seeds;
* the must-show checks, each stated as measured: the image share above the text share for
  visual shoppers and the reverse for textual shoppers, by a margin beyond the seeds' spread
  (the margin, paired by seed, has mean > 2 sd over the seeds and is positive for every seed);
  on recommended new arrivals the content share (every non-ID input) above the ID share, same
  rule; and which (group, variant, reference) differences have an interval that excludes 0.

It appends one record to ``bench/results/photo_groups.jsonl`` and writes the tables as Markdown.

    python -m bench.research.photo_groups --tune RUNS/wardrobe --data sample_data/wardrobe \
        --work /tmp/research-work --table /tmp/photo_groups.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import peak_rss_mb, record  # noqa: E402
from bench.research.tuned_runs import (  # noqa: E402
    REFERENCES,
    TunedVariant,
    fmt_diff,
    loadavg,
    mean_sd,
    paired_difference,
    per_user_seed_metrics,
    restrict_columns,
    seed_mean,
    seed_top_lists,
    tuned_variants,
    update_doc,
    verdict,
)

GROUPS = ("visual", "textual", "collaborative")
ALL = "all"
NEW = "new arrivals"
#: The slice of every held-out (test) purchase of a new arrival, ranked or not.
HELD_OUT = "new-arrival test purchases"
#: The alignment variants compared with ``anchor`` group by group.
ALIGNMENT = ("direct", "none", "anchor-noproj", "anchor-noamp")
#: Length of the attributed lists (the audit's default).
ATTRIBUTION_K = 10
#: A margin counts as beyond the seeds' spread when mean > SPREAD_FACTOR × sd and every seed > 0.
SPREAD_FACTOR = 2.0
#: The block of docs/comparisons.md that ``--doc`` rewrites.
DOC_MARKER = "PHOTO-GROUPS-TABLE"


# ---------------------------------------------------------------------- pure helpers
def new_arrival_mask(items: Any, n_items: int) -> np.ndarray:
    """``items.csv``'s ``new_arrival`` column as booleans (True/False, 1/0, yes/no)."""
    if items is None or "new_arrival" not in items.columns:
        raise ValueError("items.csv has no new_arrival column: this is not the photo sample")
    raw = items["new_arrival"].astype(str).str.strip().str.lower()
    bad = ~raw.isin(["true", "false", "1", "0", "yes", "no"])
    if bad.any():
        raise ValueError(f"items.csv new_arrival: unreadable value {raw[bad].iloc[0]!r}")
    out = raw.isin(["true", "1", "yes"]).to_numpy()
    if len(out) != n_items:
        raise ValueError(f"items.csv has {len(out)} rows for {n_items} items")
    return out


def group_slices(groups: np.ndarray, users: np.ndarray) -> dict[str, np.ndarray]:
    """``{ALL: users, group: its users…}``, the known groups first, in :data:`GROUPS` order."""
    names = [g for g in GROUPS if (groups[users] == g).any()]
    names += sorted(set(groups[users].tolist()) - set(names))
    return {ALL: users, **{g: users[groups[users] == g] for g in names}}


def share_slices(
    shares: np.ndarray,
    players: Sequence[str],
    users: np.ndarray,
    items: np.ndarray,
    groups: np.ndarray,
    new: np.ndarray,
    prefix: str = "",
) -> dict[str, dict[str, Any]]:
    """Mean share of every player over the (user, item) pairs (columns of ``shares``) of each
    slice: every pair (``ALL``), each user group, the pairs whose item is a new arrival
    (``NEW``) and those of each group (``"new arrivals, <group>"``); ``n`` counts the pairs and
    a slice without any has ``None`` shares. ``prefix`` is put before every slice's name."""
    g = groups[users]
    is_new = new[items]
    masks = {ALL: np.ones(len(items), bool)}
    masks |= {x: g == x for x in dict.fromkeys([*GROUPS, *sorted(set(g.tolist()))]) if x in g}
    masks[NEW] = is_new
    masks |= {f"{NEW}, {x}": is_new & (g == x) for x in GROUPS if x in g}
    out = {}
    for name, m in masks.items():
        row: dict[str, Any] = {"n": int(m.sum())}
        for p, player in enumerate(players):
            row[player] = float(shares[p, m].mean()) if m.any() else None
        out[prefix + name] = row
    return out


def summarise_seeds(
    per_seed: Sequence[Mapping[str, Mapping[str, Any]]], players: Sequence[str]
) -> dict:
    """Per slice: the count of pairs and every player's share (and the content share) as mean
    ± sd over the seeds that have pairs in the slice (``seeds_with_pairs`` says how many)."""
    out = {}
    for s in per_seed[0]:
        rows = [r[s] for r in per_seed if r[s]["n"] > 0]
        summary: dict[str, Any] = {
            "n": mean_sd([r[s]["n"] for r in per_seed]),
            "seeds_with_pairs": len(rows),
        }
        if rows:
            for p in players:
                summary[p] = mean_sd([r[p] for r in rows])
            summary["content"] = mean_sd([content_share(r) for r in rows])
        out[s] = summary
    return out


def content_share(row: Mapping[str, float]) -> float:
    """Every non-ID input's share together (image + text, and fused when it is a player)."""
    return float(sum(v for k, v in row.items() if k not in ("id", "n") and v is not None))


def margin_check(per_seed: Sequence[float | None], factor: float = SPREAD_FACTOR) -> dict[str, Any]:
    """A per-seed margin's mean ± sd, and whether it is beyond the seeds' spread (mean >
    ``factor`` × sd and positive for every seed). ``None`` marks a seed where the margin could
    not be measured (no pairs in the slice): then it does not hold, and ``missing`` counts them."""
    known = [x for x in per_seed if x is not None]
    s: dict[str, Any] = mean_sd(known) if known else {"mean": None, "sd": None, "min": None, "max": None, "n": 0}  # fmt: skip
    s["missing"] = len(per_seed) - len(known)
    s["per_seed"] = list(per_seed)  # in the seeds' order: the first is the shipped model's
    s["holds"] = bool(known and not s["missing"] and s["min"] > 0 and s["mean"] > factor * s["sd"])
    return s


def differing_cells(diffs: Mapping[str, Mapping[str, Mapping[str, dict]]]) -> dict[str, Any]:
    """From ``diffs[slice][reference][variant]``: the cells whose interval excludes 0, and the
    (variant, reference) pairs above in one group and below in another."""
    excluding = [
        {"slice": s, "reference": r, "variant": v, **d, "verdict": verdict(d)}
        for s, refs in diffs.items()
        for r, per in refs.items()
        for v, d in per.items()
        if verdict(d) != "tie"
    ]
    flips = []
    pairs = {(c["reference"], c["variant"]) for c in excluding if c["slice"] in GROUPS}
    for r, v in sorted(pairs):
        kinds = {c["slice"]: c["verdict"] for c in excluding if (c["reference"], c["variant"]) == (r, v) and c["slice"] in GROUPS}  # fmt: skip
        if {"above", "below"} <= set(kinds.values()):
            flips.append({"reference": r, "variant": v, "verdicts": kinds})
    return {"excluding_zero": excluding, "flips": flips}


# ---------------------------------------------------------------------- measuring
def slice_metrics(
    variants: Mapping[str, TunedVariant], ds: Any, work: str, groups: np.ndarray, new: np.ndarray
) -> tuple[dict, dict]:
    """Per slice and variant: Recall/NDCG mean ± sd over the seeds, and the seed-averaged
    per-user Recall@20 (for the paired intervals)."""
    test = ds.split("test")
    new_test = restrict_columns(test, new)
    figures: dict[str, dict[str, Any]] = {}
    per_user: dict[str, dict[str, np.ndarray]] = {}
    users_by_slice: dict[str, np.ndarray] = {}
    for name, v in variants.items():
        lists = seed_top_lists(v, ds, work)
        slices = group_slices(groups, lists["users"])
        slices[NEW] = lists["users"][np.diff(new_test[lists["users"]].indptr) > 0]
        for s, users in slices.items():
            if s in users_by_slice:
                assert np.array_equal(users_by_slice[s], users), (name, s)
            users_by_slice[s] = users
            m = per_user_seed_metrics(lists, new_test if s == NEW else test, users)
            figures.setdefault(s, {})[name] = {
                "users": len(users),
                "recall@20": mean_sd([float(np.mean(r)) for r in m["recall"]]),
                "ndcg@20": mean_sd([float(np.mean(n)) for n in m["ndcg"]]),
            }
            per_user.setdefault(s, {})[name] = seed_mean(m["recall"])
        check = figures[ALL][name]["recall@20"]["mean"]
        expected = v.summary["test"]["recall@20"]["mean"]
        assert abs(check - expected) < 1e-6, (name, check, expected)  # same ranking as tune's
    return figures, per_user


def slice_differences(per_user: Mapping[str, Mapping[str, np.ndarray]]) -> dict:
    """``[slice][reference][variant]`` paired differences of Recall@20: every variant against
    LightGCN and EASE; the alignment variants against ``anchor``."""
    out: dict[str, dict[str, dict[str, dict]]] = {}
    for s, models in per_user.items():
        for ref in (*REFERENCES, "anchor"):
            if ref not in models:
                continue
            others = [v for v in models if v != ref and (ref != "anchor" or v in ALIGNMENT)]
            out.setdefault(s, {})[ref] = {
                v: paired_difference(models[v], models[ref]) for v in others
            }
    return out


def attribution_shares(
    variants: Mapping[str, TunedVariant],
    ds: Any,
    work: str,
    groups: np.ndarray,
    new: np.ndarray,
    k: int,
    game: str,
) -> dict[str, dict[str, Any]]:
    """Per variant with more than one input player: each seed's share slices, and mean ± sd."""
    from anchorrec.analysis.attribution import attribute, coalition_cache, top_k_lists
    from anchorrec.fileio import atomic_write_text
    from anchorrec.models.checkpoint import load_model, read_model_info

    out = {}
    for name, v in variants.items():
        per_seed = []
        for seed, model_dir in v.seeds:
            sha = read_model_info(model_dir)["weights_sha256"]
            cache_file = Path(work) / name / f"shares-{game}-k{k}-{sha[:16]}.json"
            if cache_file.is_file():
                per_seed.append(json.loads(cache_file.read_text(encoding="utf-8")))
                continue
            loaded = load_model(model_dir, ds)
            if len(loaded.model.players) < 2:
                break  # one player: its share is 1 by definition
            cache = coalition_cache(loaded, game=game)
            users, items, ranks = top_k_lists(cache, k, np.arange(ds.n_users))
            att = attribute(cache, users, items, ranks=ranks, branches=False, standardised=False)
            held = restrict_columns(ds.split("test"), new).tocoo()  # the missed opportunities
            h_users, h_items = held.row.astype(np.int64), held.col.astype(np.int64)
            h_att = attribute(cache, h_users, h_items, branches=False, standardised=False)
            slices = share_slices(att.shares, att.players, users, items, groups, new)
            for name_, r in share_slices(h_att.shares, h_att.players, h_users, h_items, groups, new).items():  # fmt: skip
                if name_ in (ALL, *GROUPS):
                    slices[f"{HELD_OUT}{'' if name_ == ALL else ', ' + name_}"] = r
            row = {
                "seed": seed,
                "players": list(att.players),
                "efficiency_error": max(att.efficiency_error(), h_att.efficiency_error()),
                "slices": slices,
            }
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(cache_file, json.dumps(row))
            per_seed.append(row)
        if not per_seed:
            continue
        players = per_seed[0]["players"]
        summary = summarise_seeds([r["slices"] for r in per_seed], players)
        out[name] = {"players": players, "seeds": per_seed, "summary": summary}
    return out


def must_show_checks(shares: Mapping[str, Any], diffs: Mapping) -> dict[str, Any]:
    """The three checks of the photo sample's must-show, as measured."""
    image_text: dict[str, Any] = {}
    new_content: dict[str, Any] = {}
    for name, a in shares.items():
        seeds = a["seeds"]
        if {"image", "text"} <= set(a["players"]):
            vis = [r["slices"]["visual"]["image"] - r["slices"]["visual"]["text"] for r in seeds]
            tex = [r["slices"]["textual"]["text"] - r["slices"]["textual"]["image"] for r in seeds]
            image_text[name] = {
                "visual: image − text": margin_check(vis),
                "textual: text − image": margin_check(tex),
            }
        new_content[name] = margin_check(
            [
                content_share(r["slices"][NEW]) - r["slices"][NEW]["id"]
                if r["slices"][NEW]["n"]
                else None
                for r in seeds
            ]
        )
        new_content[name]["recommended_per_seed"] = [r["slices"][NEW]["n"] for r in seeds]
        held_out = [content_share(r["slices"][HELD_OUT]) - r["slices"][HELD_OUT]["id"] for r in seeds]  # fmt: skip
        new_content[name + f" ({HELD_OUT})"] = margin_check(held_out)
    return {
        "image_vs_text_by_group": image_text,
        "new_arrivals_content_vs_id": new_content,
        "recall_differences": differing_cells(diffs),
        "rule": f"margin mean > {SPREAD_FACTOR:g} × sd over the seeds and > 0 for every seed",
    }


# ---------------------------------------------------------------------- tables
def _pm(s: Mapping[str, Any] | None, digits: int = 4) -> str:
    if not s or s.get("mean") is None:
        return "—"
    return f"{s['mean']:.{digits}f} ± {s['sd']:.{digits}f}"


def _margin(m: Mapping[str, Any]) -> str:
    if m["mean"] is None:
        return "not measurable (no pairs)"
    text = f"{_pm(m, 3)}, min {m['min']:+.3f}"
    return text + (f"; {m['missing']} seed(s) without pairs" if m["missing"] else "")


def _share_lines(shares: Mapping, checks: Mapping, k: int, game: str) -> list[str]:
    lines: list[str] = []
    if shares:
        lines += [
            "",
            f"**Game `{game}`.** Input-level shares |φ|/Σ|φ|, mean ± sd over the seeds: of the top-{k} "
            f"recommendations by shopper group, of the recommended new arrivals, and of the "
            f"held-out new-arrival purchases (every (shopper, item) pair of the test split whose "
            f"item is a new arrival, ranked high or not). Pairs per seed in brackets (mean); a "
            f"slice empty for some seeds is averaged over the others (seeds in the last column).",
            "",
            "| model | pairs | ID | image | text | content (image + text) | seeds |",
            "|---|---|---|---|---|---|---|",
        ]
        order = [ALL, *GROUPS, NEW, *(f"{NEW}, {g}" for g in GROUPS), HELD_OUT]
        order += [f"{HELD_OUT}, {g}" for g in GROUPS]
        for v, a in shares.items():
            n_seeds = len(a["seeds"])
            for s in order:
                row = a["summary"].get(s)
                if row is None:
                    continue
                cells = [_pm(row.get(p), 3) for p in ("id", "image", "text")]
                lines.append(
                    f"| {v} | {s} ({row['n']['mean']:.0f}) | " + " | ".join(cells)
                    + f" | {_pm(row.get('content'), 3)} | {row['seeds_with_pairs']}/{n_seeds} |"
                )  # fmt: skip
    lines += ["", f"Checks, game `{game}` ({checks['rule']}):", "", "| check | model | margin (mean ± sd, min) | holds |", "|---|---|---|---|"]  # fmt: skip
    for v, c in checks["image_vs_text_by_group"].items():
        for what, m in c.items():
            lines.append(f"| {what} | {v} | {_margin(m)} | {'yes' if m['holds'] else 'no'} |")
    for v, m in checks["new_arrivals_content_vs_id"].items():
        what = "content − ID" + ("" if HELD_OUT in v else ", recommended new arrivals")
        lines.append(f"| {what} | {v} | {_margin(m)} | {'yes' if m['holds'] else 'no'} |")
    return lines


def markdown(
    figures: Mapping,
    diffs: Mapping,
    by_game: Mapping[str, tuple[Mapping, Mapping]],
    caption: str,
    k: int,
) -> str:
    """The report's tables: Recall@20 by slice, the paired differences, then for each
    attribution game (``by_game``: game → (shares, checks)) the shares and the checks."""
    slices = list(figures)
    variants = list(figures[ALL])

    def head(first: str) -> list[str]:
        cols = [f"{s} ({figures[s][variants[0]]['users']})" for s in slices]
        return [f"| {first} | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]

    lines = ["Test Recall@20, mean ± sd over the seeds (shoppers in brackets):", ""]
    lines += head("model")
    for v in variants:
        cells = " | ".join(_pm(figures[s][v]["recall@20"]) for s in slices)
        lines.append(f"| {v} | {cells} |")
    for ref in (*REFERENCES, "anchor"):
        present = [v for v in variants if v in diffs[ALL].get(ref, {})]
        if not present:
            continue
        what = "the other alignment variants" if ref == "anchor" else "every model"
        lines += ["", f"Δ test Recall@20 against **{ref}** ({what}), 95 % paired interval:", ""]
        lines += head("model")
        for v in present:
            cells = " | ".join(fmt_diff(diffs[s][ref][v]) for s in slices)
            lines.append(f"| {v} | {cells} |")
    for game, (shares, checks) in by_game.items():
        lines += _share_lines(shares, checks, k, game)
    checks = next(iter(by_game.values()))[1]
    cells = checks["recall_differences"]
    groups_excl = [c for c in cells["excluding_zero"] if c["slice"] in GROUPS]
    lines += [
        "",
        f"Recall@20 differences whose interval excludes 0 within a shopper group: "
        f"{len(groups_excl)}; (variant, reference) pairs above in one group and below in "
        f"another: "
        + (", ".join(f"{f['variant']} vs {f['reference']}" for f in cells["flips"]) or "none")
        + ".",
        "",
        caption,
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from anchorrec.workspace import SAMPLE_DATASET_DIR

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tune", required=True, help="tuning root: one directory per variant")
    ap.add_argument("--data", default=str(SAMPLE_DATASET_DIR))
    ap.add_argument("--work", required=True, help="cache of rankings and shares")
    ap.add_argument("--k", type=int, default=ATTRIBUTION_K, help="attributed list length")
    ap.add_argument(
        "--games",
        nargs="+",
        default=["mean", "background"],
        choices=("mean", "background"),
        help="attribution games (each gets its shares and checks; the first is the headline)",
    )
    ap.add_argument("--table", default=None, help="write the Markdown tables here")
    ap.add_argument("--doc", default=None, help=f"rewrite this file's {DOC_MARKER} block")
    ap.add_argument(
        "--warm-only", action="store_true", help="fill the --work caches, record nothing"
    )
    ap.add_argument("--variants", nargs="*", default=None, help="only these (default: all done)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from anchorrec.data.mmrec import load_mmrec

    t0 = time.perf_counter()
    load_before = loadavg()
    ds = load_mmrec(args.data)
    if ds.users is None or "group" not in ds.users.columns:
        print(f"error: {args.data}/users.csv has no group column", file=sys.stderr)
        return 2
    groups = ds.users["group"].astype(str).to_numpy()
    new = new_arrival_mask(ds.items, ds.n_items)
    variants = tuned_variants(args.tune)
    if args.variants:
        variants = {k: v for k, v in variants.items() if k in args.variants}
    missing = [r for r in REFERENCES if r not in variants]
    if missing:
        print(f"note: the references {missing} are not tuned yet in {args.tune}", file=sys.stderr)
    masks = {v.mask for v in variants.values()}
    figures, per_user = slice_metrics(variants, ds, args.work, groups, new)
    diffs = slice_differences(per_user)
    by_game = {}
    for game in args.games:
        shares = attribution_shares(variants, ds, args.work, groups, new, args.k, game)
        by_game[game] = (shares, must_show_checks(shares, diffs))
    if args.warm_only:  # the caches are filled; nothing is recorded
        print(f"cached: {', '.join(variants)} ({time.perf_counter() - t0:.0f} s)")
        return 0
    rows = {
        "dataset": ds.name,
        "fingerprint": ds.fingerprint,
        "mask": sorted(masks),
        "seeds": {v: [s for s, _ in t.seeds] for v, t in variants.items()},
        "chosen": {v: t.summary["chosen"] for v, t in variants.items()},
        "attribution": {"k": args.k, "games": args.games, "level": "input"},
        "recall_by_slice": figures,
        "differences": diffs,
        "shares": {
            game: {v: {"players": a["players"], "summary": a["summary"]} for v, a in sh.items()}
            for game, (sh, _) in by_game.items()
        },
        "checks": {game: c for game, (_, c) in by_game.items()},
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
        "seconds": round(time.perf_counter() - t0, 1),
        "peak_rss_mb": peak_rss_mb(),
    }
    first = by_game[args.games[0]][1]
    rows["key"] = {
        "game": args.games[0],
        **{
            f"{v} {what}": m["holds"]
            for v, c in first["image_vs_text_by_group"].items()
            for what, m in c.items()
        },
        **{
            f"{v} content > ID on new arrivals": m["holds"]
            for v, m in first["new_arrivals_content_vs_id"].items()
            if HELD_OUT not in v
        },
        "group differences excluding 0": sum(
            c["slice"] in GROUPS for c in first["recall_differences"]["excluding_zero"]
        ),
    }
    rows["headline"] = ["dataset", "key"]
    rec = record("photo_groups", rows)
    caption = (
        f"Dataset `{ds.name}` (fingerprint {ds.fingerprint[:12]}), mask rule "
        f"{', '.join(sorted(masks))}, attribution games {', '.join(f'`{g}`' for g in args.games)}, top-{args.k}. "
        f"Machine: {rec['machine'].get('cpu')}, {rec['machine'].get('cores')} cores, load "
        f"average {load_before[0] if load_before else '?'} before; {rec['date']}, git {rec['git']}."
    )
    text = markdown(figures, diffs, by_game, caption, args.k)
    print(text)
    if args.table:
        Path(args.table).write_text(text, encoding="utf-8")
    if args.doc:
        update_doc(args.doc, DOC_MARKER, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
