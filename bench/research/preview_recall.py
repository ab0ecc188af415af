"""Is the new-product preview predictive? Audience recall on the sample's real new arrivals.

The photo sample marks its new arrivals (``items.csv`` column ``new_arrival``): items that
have almost no train purchases but real valid and test purchases. Each one is treated as
if it were being previewed before launch, from its photo and copy only, and the predicted
audience (the shoppers whose top-K it enters) is compared with the shoppers who really
bought it in valid/test.

What is removed so that nothing about its buyers leaks into the preview:

- its train purchases (the few it has): the history it is placed against is the train split
  without its column, so no shopper's vector is built from having bought it;
- its trained ID embedding: replaced by the unseen-item rule (the mean of the other items'
  ID embeddings), as for any previewed product;
- its place in the content kNN graphs is recomputed with it as a placed item (the graphs are
  content only, which the preview is allowed to see).

What cannot be removed without retraining, and is said in docs/preview.md: the shared
weights were trained with the item in the catalogue (as a BPR negative, as a neighbour in
the kNN graphs, through its few train purchases), and the valid split chose each variant's
grid point and early-stopping epoch. The test split's purchases took no part in any of
that, so recall against test purchases alone is reported beside valid+test.

Two protocols:

- ``item`` (the preview exactly): one new arrival at a time is placed fresh; every other
  item stays as the model knows it. 179 placements per model.
- ``season``: every new arrival is placed fresh at once (a season launched together); one
  forward pass per model, so it runs for every seed.

Comparators on the same placement: ``popularity`` (ranks by train purchases; a product with
none is shown to nobody, so its audience is empty by construction), ``content`` (a
content-only ranker: a shopper's profile is the mean of the fused features
[image/‖image‖, text/‖text‖] of their train purchases, an item's score its cosine to the
profile, the catalogue ranked by it), ``active`` (the same number of shoppers as the
variant's audience, the ones with the most train purchases) and ``random`` (the expected
recall of an audience of the same size drawn at random: size / shoppers).

Intervals: a bootstrap over the new arrivals (2000 resamples, 95 %) of the micro recall
(Σ hits / Σ buyers) and precision (Σ hits / Σ audience) on seed 0, and the mean ± sd of
the micro recall over the seeds (``model`` and ``seed-1..4`` of each tuned variant).

    python bench/research/preview_recall.py --data /tmp/wardrobe --tune /tmp/wardrobe-tune \
        --variants anchor direct none --k 20
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common.benchlib import record, rewrite_between  # noqa: E402

SEED_DIRS = ("model", "seed-1", "seed-2", "seed-3", "seed-4")
BOOTSTRAP = 2000


def new_arrivals(ds) -> np.ndarray:
    col = ds.items["new_arrival"].astype(str).str.strip().str.lower()
    return np.flatnonzero(col.isin(["true", "1", "yes"]).to_numpy())


def buyers_of(ds, items: np.ndarray, splits: tuple[str, ...]) -> list[np.ndarray]:
    m = sum((ds.split(s) for s in splits), sp.csr_matrix(ds.train.shape, dtype=np.float32))
    m = sp.csc_matrix(m)
    return [np.unique(m[:, int(a)].tocoo().row) for a in items]


def ranks_of(
    users, items, train: sp.csr_matrix, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(len(targets), n_users) rank of each target among each user's unseen items (0: bought)
    and its score."""
    import torch

    users = torch.as_tensor(users).double()
    items = torch.as_tensor(items).double()
    ranks = np.zeros((len(targets), users.shape[0]), dtype=np.int64)
    scores = np.zeros((len(targets), users.shape[0]))
    tgt = torch.as_tensor(targets)
    for start in range(0, users.shape[0], 1024):
        s = users[start : start + 1024] @ items.T
        scores[:, start : start + 1024] = s[:, tgt].T.numpy()
        sub = train[start : start + 1024].tocoo()
        if sub.nnz:
            s[torch.as_tensor(sub.row), torch.as_tensor(sub.col)] = -torch.inf
        own = s[:, tgt]  # (b, T)
        srt = torch.sort(s, dim=1).values  # ascending
        higher = s.shape[1] - torch.searchsorted(srt, own.contiguous(), right=True)
        r = (higher + 1).masked_fill(torch.isinf(own), 0)
        ranks[:, start : start + 1024] = r.T.numpy()
    return ranks, scores


def content_scores(ds, train: sp.csr_matrix):
    from anchorrec.data.features import build_fused_features, l2_normalise_rows

    x = l2_normalise_rows(build_fused_features(ds.features["image"], ds.features["text"]))
    profile = l2_normalise_rows(np.asarray(train @ x))
    return profile, x


def shopper_order(ranks: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per new arrival, the shoppers from most to least likely to be shown it: by the item's
    rank in their list, ties by its score."""
    order = np.zeros_like(ranks)
    for j in range(len(ranks)):
        r = np.where(ranks[j] > 0, ranks[j], np.iinfo(np.int64).max)
        order[j] = np.lexsort((-scores[j], r))
    return order


def evaluate(
    ranks: np.ndarray, order: np.ndarray, buyers: list[np.ndarray], k: int, top: int
) -> dict[str, np.ndarray]:
    """Per new arrival: audience size and hits (top-``k``), hits among the ``top`` shoppers
    most likely to be shown it, buyers, and the AUC of buyers against the other shoppers."""
    n_users = ranks.shape[1]
    aud = (ranks > 0) & (ranks <= k)
    hits, top_hits, auc = [], [], []
    for j, b in enumerate(buyers):
        hits.append(int(aud[j, b].sum()))
        top_hits.append(int(np.isin(order[j, :top], b).sum()))
        pos = np.empty(n_users)
        pos[order[j]] = np.arange(n_users, 0, -1)  # higher = more likely
        n1 = len(b)
        auc.append((pos[b].sum() - n1 * (n1 + 1) / 2) / (n1 * (n_users - n1)) if n1 else np.nan)
    positive = np.where(ranks > 0, ranks, np.iinfo(np.int64).max)
    return {
        "best_rank": positive.min(axis=1),
        "median_rank": np.array([np.median(r[r > 0]) if (r > 0).any() else np.nan for r in ranks]),
        "audience": aud.sum(axis=1),
        "buyers": np.array([len(b) for b in buyers]),
        "hits": np.array(hits),
        "top_hits": np.array(top_hits),
        "auc": np.array(auc),
    }


def summarise(per: dict[str, np.ndarray], n_users: int, top: int, rng) -> dict[str, Any]:
    keep = per["buyers"] > 0
    h, b, a = per["hits"][keep], per["buyers"][keep], per["audience"][keep]
    t, auc = per["top_hits"][keep], per["auc"][keep]
    out: dict[str, Any] = {
        "arrivals": int(keep.sum()),
        "buyers": int(b.sum()),
        "recall": float(h.sum() / max(b.sum(), 1)),
        "precision": float(h.sum() / a.sum()) if a.sum() else 0.0,
        "mean_audience": float(a.mean()) if len(a) else 0.0,
        "random_recall": float(a.sum() / (len(a) * n_users)) if len(a) else 0.0,
        "top": top,
        "top_recall": float(t.sum() / max(b.sum(), 1)),
        "top_precision": float(t.sum() / (top * len(t))) if len(t) else 0.0,
        "top_random_recall": top / n_users,
        "auc": float(np.mean(auc)) if len(auc) else float("nan"),
    }
    if (
        "best_rank" in per
        and per["median_rank"][keep].size
        and not np.isnan(per["median_rank"]).all()
    ):
        out["best_rank"] = int(per["best_rank"][keep].min())
        out["median_rank"] = float(np.nanmedian(per["median_rank"][keep]))
    idx = rng.integers(0, len(h), size=(BOOTSTRAP, len(h)))
    bsum = np.maximum(b[idx].sum(1), 1)
    aud = a[idx].sum(1)
    boot = {
        "recall": h[idx].sum(1) / bsum,
        "precision": np.where(aud > 0, h[idx].sum(1) / np.maximum(aud, 1), 0.0),
        "top_recall": t[idx].sum(1) / bsum,
        "auc": auc[idx].mean(1),
    }
    for name, values in boot.items():
        out[f"{name}_ci"] = [float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))]
    # per new arrival (with buyers), for paired comparisons between rankers
    out["per_arrival"] = {"buyers": b.tolist(), "top_hits": t.tolist(), "auc": auc.tolist()}
    return out


def paired_difference(row: dict[str, Any], base: dict[str, Any]) -> dict[str, list[float]]:
    """``row`` minus ``base`` in top-N recall and AUC, with a 95 % bootstrap interval over the
    same resampled new arrivals (None where a record has no per-arrival figures)."""
    a, b = row.get("per_arrival"), base.get("per_arrival")
    if not a or not b or len(a["buyers"]) != len(b["buyers"]):
        return {}
    buyers = np.asarray(a["buyers"], dtype=float)
    idx = np.random.default_rng(0).integers(0, len(buyers), size=(BOOTSTRAP, len(buyers)))
    bs = buyers[idx].sum(1)
    out = {}
    for name, stat in (
        ("top_recall", lambda x: np.asarray(x, dtype=float)[idx].sum(1) / bs),
        ("auc", lambda x: np.asarray(x, dtype=float)[idx].mean(1)),
    ):
        key = "top_hits" if name == "top_recall" else "auc"
        d = stat(a[key]) - stat(b[key])
        whole = (
            (sum(a[key]) - sum(b[key])) / buyers.sum()
            if name == "top_recall"
            else float(np.mean(a[key]) - np.mean(b[key]))
        )
        out[name] = [float(whole), float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))]
    return out


def _ci(row: dict[str, Any], name: str, pct: bool = True) -> str:
    low, high = row[f"{name}_ci"]
    f = (lambda v: f"{100 * v:.1f}") if pct else (lambda v: f"{v:.3f}")
    return f"{f(row[name])} [{f(low)}, {f(high)}]"


def report(path: Path, target: str = "valid+test") -> str:
    """The Markdown table of the newest record of each (variant, seed, protocol) in ``path``."""
    import json

    latest: dict[tuple[str, int, str], dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("target") == target:
            latest[(row["variant"], row["seed"], row["protocol"])] = row
    variants = list(dict.fromkeys(v for v, _, _ in latest))
    head = (
        "| ranker | protocol | top-{k} audience recall % | precision % | audience | "
        "top-{top} recall % | AUC | seeds: top-{top} recall %, AUC (mean ± sd) | "
        "minus content (paired 95 %): top-{top} recall pts, AUC | date | commit |"
    )
    out = []
    for v in variants:
        for protocol in ("item", "season"):
            row = latest.get((v, 0, protocol))
            if row is None:
                continue
            head = head.format(k=row["k"], top=row["top"])
            runs = [latest[(v, s, "season")] for s in range(5) if (v, s, "season") in latest]
            top = [100 * r["top_recall"] for r in runs]
            auc = [r["auc"] for r in runs]
            spread = (
                f"{np.mean(top):.1f} ± {np.std(top, ddof=1):.1f}, "
                f"{np.mean(auc):.3f} ± {np.std(auc, ddof=1):.3f} ({len(runs)} seeds)"
                if protocol == "season" and len(runs) > 1 and not row.get("cannot_rank")
                else "—"
            )
            aud = "—" if row.get("audience_rule") else _ci(row, "recall")
            prec = "—" if row.get("audience_rule") else _ci(row, "precision")
            size = "—" if row.get("audience_rule") else f"{row['mean_audience']:.1f}"
            ordered = [_ci(row, "top_recall"), _ci(row, "auc", pct=False)]
            if row.get("cannot_rank"):  # no order at all: the chance level
                ordered = [f"— (chance {100 * row['top_random_recall']:.1f})", "— (chance 0.5)"]
            diff = "—"
            content = latest.get(("content", 0, "season"))
            if content is not None and v != "content" and not row.get("cannot_rank"):
                d = paired_difference(row, content)
                if d:
                    t, u = d["top_recall"], d["auc"]
                    diff = (
                        f"{100 * t[0]:+.1f} [{100 * t[1]:+.1f}, {100 * t[2]:+.1f}], "
                        f"{u[0]:+.3f} [{u[1]:+.3f}, {u[2]:+.3f}]"
                    )
            out.append(
                f"| {v} | {protocol} | {aud} | {prec} | {size} | {' | '.join(ordered)} | "
                f"{spread} | {diff} | {row['date'][:10]} | `{row['git']}` |"
            )
    sep = "|" + "---|" * (head.count("|") - 1)
    return "\n".join([head, sep, *out])


DOC = ROOT / "docs" / "preview.md"
MARKERS = ("<!-- PREVIEW-RECALL -->", "<!-- /PREVIEW-RECALL -->")


def update_docs(results: Path, doc: Path = DOC) -> None:
    """Rewrite the tables between the markers of ``doc`` from ``results``."""
    body = (
        "Buyers in valid or test (seed 0 unless stated):\n\n"
        + report(results, "valid+test")
        + "\n\nBuyers in test only (the split no training or tuning decision saw):\n\n"
        + report(results, "test")
    )
    rewrite_between(doc, MARKERS, body)


def main(argv: list[str] | None = None) -> int:
    import torch

    from anchorrec.analysis.preview import placed_model
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import load_model
    from anchorrec.models.cold_start import ranking_embeddings, with_cold_start

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--report", action="store_true", help="print the table of the results")
    p.add_argument("--target", default="valid+test", help="with --report: valid+test or test")
    p.add_argument("--update-docs", action="store_true", help="rewrite docs/preview.md's tables")
    p.add_argument("--data")
    p.add_argument("--tune", help="folder of tuned variants (<variant>/model …)")
    p.add_argument("--variants", nargs="+")
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--top", type=int, default=200, help="shoppers in the ordered audience")
    p.add_argument("--item-seeds", type=int, default=1, help="seeds run item by item (1: seed 0)")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="only these seeds (0..4)")
    p.add_argument("--no-comparators", action="store_true", help="variants only (a resumed run)")
    p.add_argument("--max-items", type=int, default=None, help="first N new arrivals (smoke runs)")
    p.add_argument(
        "--cold-start",
        default="on",
        choices=("on", "off"),
        help="rank through each model's stored cold-start path (on: recorded as "
        "'<variant> + cold start') or as published (off)",
    )
    args = p.parse_args(argv)
    if args.report or args.update_docs:
        from bench.common.benchlib import RESULTS_DIR

        if args.update_docs:
            update_docs(RESULTS_DIR / "preview_recall.jsonl")
        else:
            print(report(RESULTS_DIR / "preview_recall.jsonl", args.target))
        return 0
    if not args.data or not args.tune or not args.variants:
        p.error("--data, --tune and --variants are required (or --report)")
    torch.set_num_threads(1)
    ds = load_mmrec(args.data)
    arrivals = new_arrivals(ds)[: args.max_items]
    targets = {s: buyers_of(ds, arrivals, s) for s in (("valid", "test"), ("test",))}
    mask = np.ones(ds.n_items, dtype=np.float32)
    mask[arrivals] = 0
    season_train = sp.csr_matrix(ds.train @ sp.diags(mask))
    season_train.eliminate_zeros()

    def emit(variant, seed, protocol, source, extra=None):
        for splits, buyers in targets.items():
            per = (
                source[splits]
                if isinstance(source, dict)
                else evaluate(*source, buyers, args.k, args.top)
            )
            fig = summarise(per, ds.n_users, args.top, np.random.default_rng(0))  # paired
            record(
                "preview_recall",
                {
                    "data": Path(args.data).name,
                    "variant": variant,
                    "seed": seed,
                    "protocol": protocol,
                    "target": "+".join(splits),
                    "k": args.k,
                    **fig,
                    **(extra or {}),
                },
            )

    nobody = np.zeros((len(arrivals), ds.n_users), dtype=np.int64)
    # popularity scores a product nobody bought the same for everyone: no audience, no order
    shuffled = np.stack(
        [np.random.default_rng(j).permutation(ds.n_users) for j in range(len(arrivals))]
    )
    if not args.no_comparators:  # the same for every seed: no model
        profile, x = content_scores(ds, season_train)
        c_ranks, c_scores = ranks_of(profile, x, season_train, arrivals)
        emit("content", 0, "season", (c_ranks, shopper_order(c_ranks, c_scores)))
        activity = np.asarray(season_train.sum(axis=1)).ravel()
        by_activity = np.tile(np.argsort(-activity, kind="stable"), (len(arrivals), 1))
        emit("active", 0, "season", (nobody, by_activity), {"audience_rule": "ordering only"})
        emit("popularity", 0, "season", (nobody, shuffled), {"cannot_rank": True})

    for variant in args.variants:
        for s, sub in enumerate(SEED_DIRS):
            mdir = Path(args.tune) / variant / sub
            if not (mdir / "config.json").is_file() or (args.seeds and s not in args.seeds):
                continue
            lm = with_cold_start(load_model(mdir, ds), args.cold_start == "on")
            name = f"{variant} + cold start" if lm.cold_start is not None else variant
            if lm.model.id_only:
                emit(variant, s, "season", (nobody, shuffled), {"cannot_rank": True})
                continue
            feats = {m: ds.features[m][arrivals] for m in ("image", "text")}
            t0 = time.perf_counter()
            placed = placed_model(lm, feats, arrivals, fresh=True)
            emb = ranking_embeddings(placed)
            ranks, scores = ranks_of(emb.users, emb.items, placed.dataset.train, arrivals)
            secs = time.perf_counter() - t0
            order = shopper_order(ranks, scores)
            emit(name, s, "season", (ranks, order), {"seconds": round(secs, 2)})
            if s >= args.item_seeds:
                continue
            t0 = time.perf_counter()
            item_ranks, item_scores = np.zeros_like(ranks), np.zeros_like(scores)
            for j, a in enumerate(arrivals):
                one = {m: ds.features[m][[a]] for m in ("image", "text")}
                pl = placed_model(lm, one, np.array([a]), fresh=True)
                e = ranking_embeddings(pl)
                r1, s1 = ranks_of(e.users, e.items, pl.dataset.train, np.array([a]))
                item_ranks[j], item_scores[j] = r1[0], s1[0]
            secs = time.perf_counter() - t0
            emit(
                name,
                s,
                "item",
                (item_ranks, shopper_order(item_ranks, item_scores)),
                {"seconds_per_item": round(secs / len(arrivals), 3)},
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
