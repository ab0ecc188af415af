"""What the research reports read from tuning directories, and the small statistics they share.

A tuning directory is what ``python -m anchorrec tune DATA --variant V --out DIR`` writes:
``DIR/summary.json`` (the chosen point, every seed's run and its model directory, the mask
rule), ``DIR/grid.json``, ``DIR/model`` (the first seed) and ``DIR/seed-<s>``. A root holding
one such directory per variant (``ROOT/<variant>/``) is a *tuning root*.

:func:`seed_top_lists` ranks the test split once per seed of a variant (under the summary's
mask rule) and keeps each seed's top-``k`` lists in a work folder, keyed by the model's weights
checksum, so the two reports (``comparisons.py`` and ``photo_groups.py``) and their reruns
rank each model once. The rest are pure functions on arrays: per-user Recall/NDCG from top-k
lists, the average over seeds, the paired interval of a difference, and the mean ± sd over
seeds of per-seed figures.

    python -m bench.research.tuned_runs --tune /tmp/tune --data sample_data/wardrobe \
        --work /tmp/research-work
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

#: The references every table compares against.
REFERENCES = ("lightgcn", "ease")
#: The cut-off of the metrics.
K = 20
#: How deep the lists are ranked: as deep as ``evaluate`` ranks (its largest K), so that tied
#: scores (item-kNN has many) are broken the same way and the tune's test figures reproduce.
DEPTH = 50
#: Variants in the order the tables list them: the alignment variants, then the baselines.
ORDER = (
    "anchor",
    "direct",
    "none",
    "anchor-noproj",
    "anchor-noamp",
    "lightgcn",
    "mf",
    "ease",
    "itemknn",
    "rp3beta",
    "popularity",
)

#: The variants that read interactions only (all a dataset without features can train).
ID_ONLY = ("lightgcn", "mf", "ease", "itemknn", "rp3beta", "popularity")


@dataclass(frozen=True)
class TunedVariant:
    """One finished tuning directory: its summary and each seed's model directory."""

    name: str
    path: Path
    summary: dict[str, Any]
    grid: dict[str, Any]

    @property
    def seeds(self) -> list[tuple[int, Path]]:
        return [(int(r["seed"]), self.path / r["model_dir"]) for r in self.summary["runs"]]

    @property
    def mask(self) -> str:
        return str(self.summary["mask"])

    @property
    def closed_form(self) -> bool:
        return bool(self.summary["closed_form"])


def order_key(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def tuned_variants(root: str | Path) -> dict[str, TunedVariant]:
    """Every variant of the tuning root ``root`` whose ``summary.json`` exists (tuning done),
    in :data:`ORDER`."""
    out = {}
    for d in Path(root).iterdir():
        summary = d / "summary.json"
        if d.is_dir() and summary.is_file():
            s = json.loads(summary.read_text(encoding="utf-8"))
            grid_file = d / "grid.json"
            grid = json.loads(grid_file.read_text(encoding="utf-8")) if grid_file.is_file() else {}
            out[s["variant"]] = TunedVariant(s["variant"], d, s, grid)
    return {k: out[k] for k in sorted(out, key=order_key)}


# ---------------------------------------------------------------------- pure statistics
def recall_ndcg(
    top: np.ndarray, truth: sp.csr_matrix, users: np.ndarray, k: int = K
) -> tuple[np.ndarray, np.ndarray]:
    """Per-user Recall@k and NDCG@k of the ranked lists ``top`` (one row per user of ``users``)
    against the rows of ``truth`` (MMRec's definitions: hits / |G|; DCG over the ideal DCG of
    min(|G|, k) hits). Every user must have at least one item in ``truth``."""
    rows = truth[users].tocsr()
    n_true = np.diff(rows.indptr)
    if (n_true == 0).any():
        raise ValueError("every user needs at least one relevant item")
    top = np.asarray(top)[:, :k]
    hit = np.zeros(top.shape, dtype=bool)
    for r in range(len(users)):
        hit[r] = np.isin(top[r], rows.indices[rows.indptr[r] : rows.indptr[r + 1]])
    discount = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))
    ideal = np.cumsum(discount)[np.minimum(n_true, top.shape[1]) - 1]
    return hit.sum(axis=1) / n_true, (hit * discount).sum(axis=1) / ideal


def restrict_columns(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """``matrix`` with only the columns where ``keep`` (a boolean per column) holds."""
    out = matrix.multiply(sp.csr_matrix(np.asarray(keep, dtype=np.float32)[None, :])).tocsr()
    out.eliminate_zeros()
    return out


def seed_mean(per_seed: Sequence[np.ndarray]) -> np.ndarray:
    """Each user's metric averaged over the seeds (the rows of ``per_seed`` pair up)."""
    if not per_seed:
        raise ValueError("no seeds")
    return np.mean(np.stack([np.asarray(a, np.float64) for a in per_seed]), axis=0)


def paired_difference(a: np.ndarray, b: np.ndarray, *, seed: int = 0) -> dict[str, float]:
    """``mean(a) − mean(b)`` over paired users and its 95 % paired bootstrap interval."""
    from anchorrec.evaluation.significance import paired_bootstrap_interval

    low, high = paired_bootstrap_interval(a, b, seed=seed)
    return {"diff": float(np.mean(np.asarray(a, np.float64) - b)), "low": low, "high": high}


def verdict(d: dict[str, float]) -> str:
    """``above`` / ``below`` when the interval excludes 0, else ``tie``."""
    return "above" if d["low"] > 0 else "below" if d["high"] < 0 else "tie"


def mean_sd(values: Sequence[float]) -> dict[str, float]:
    """Mean, sample sd (0 for one value), min and max of per-seed figures."""
    v = np.asarray(values, dtype=np.float64)
    if not len(v):
        raise ValueError("no values")
    return {
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "min": float(v.min()),
        "max": float(v.max()),
        "n": len(v),
    }


def fmt_diff(d: dict[str, float]) -> str:
    return f"{d['diff']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]"


def replace_block(text: str, marker: str, body: str) -> str:
    """``text`` with the lines between ``<!-- marker -->`` and ``<!-- /marker -->`` replaced by
    ``body`` (ValueError when the markers are missing or out of order)."""
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i or text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f"the markers {start} … {end} are not in the document once, in order")
    return text[: i + len(start)] + "\n" + body.strip("\n") + "\n" + text[j:]


def update_doc(doc: str | Path, marker: str, body: str) -> None:
    """Rewrite the ``marker`` block of the Markdown file ``doc`` with ``body`` (atomically)."""
    from anchorrec.fileio import atomic_write_text

    path = Path(doc)
    atomic_write_text(path, replace_block(path.read_text(encoding="utf-8"), marker, body))


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


# ---------------------------------------------------------------------- ranking, cached
def seed_top_lists(
    variant: TunedVariant,
    dataset: Any,
    work: str | Path,
    k: int = DEPTH,
    *,
    mask: str | None = None,
) -> dict[str, Any]:
    """Each seed's test top-``k`` lists of ``variant`` under ``mask`` (default: the summary's).

    Returns ``{"users": ids, "mask": rule, "seeds": [s…], "top": [array users × k per seed]}``;
    closed-form variants rank once (their seeds share one fit). Cached in ``work``.
    """
    from anchorrec.evaluation.metrics import evaluated_users, seen_items
    from anchorrec.fileio import atomic_write_bytes
    from anchorrec.models.checkpoint import load_model, read_model_info
    from anchorrec.models.ranking import top_k_items

    mask = mask or variant.mask
    users = evaluated_users(dataset, "test")
    seen = seen_items(dataset, "test", mask)
    tops, seeds, done = [], [], {}
    for seed, model_dir in variant.seeds:
        sha = read_model_info(model_dir)["weights_sha256"]
        if sha in done:  # closed form: the same fit for every seed
            tops.append(done[sha])
            seeds.append(seed)
            continue
        cache = Path(work) / variant.name / f"top{k}-{mask}-{sha[:16]}.npz"
        if cache.is_file():
            with np.load(cache) as z:
                assert np.array_equal(z["users"], users), cache
                top = z["top"]
        else:
            loaded = load_model(model_dir, dataset)
            top, _ = top_k_items(loaded.model.eval_embeddings(), users, k, seen)
            top = np.asarray(top, dtype=np.int32)
            cache.parent.mkdir(parents=True, exist_ok=True)
            buf = io.BytesIO()
            np.savez_compressed(buf, users=users, top=top)
            atomic_write_bytes(cache, buf.getvalue())
        done[sha] = top
        tops.append(top)
        seeds.append(seed)
    return {"users": users, "mask": mask, "seeds": seeds, "top": tops}


def per_user_seed_metrics(
    lists: dict[str, Any], truth: sp.csr_matrix, users: np.ndarray | None = None, k: int = K
) -> dict[str, Any]:
    """Recall@k / NDCG@k of every seed's lists for ``users`` (default: every ranked user)
    against ``truth``: ``{"users", "recall": [per seed], "ndcg": [per seed]}``."""
    all_users = lists["users"]
    if users is None:
        rows = np.arange(len(all_users))
    else:
        rows = np.minimum(np.searchsorted(all_users, users), max(len(all_users) - 1, 0))
        if not np.array_equal(all_users[rows], users):
            raise ValueError("users outside the ranked users")
    chosen = all_users[rows]
    rec, ndcg = [], []
    for top in lists["top"]:
        r, n = recall_ndcg(top[rows], truth, chosen, k)
        rec.append(r)
        ndcg.append(n)
    return {"users": chosen, "recall": rec, "ndcg": ndcg}


#: What ``comparisons.py run`` of earlier versions stored beside a tuning directory: each
#: seed's per-user test Recall@20 / NDCG@20 (``users``, ``recall@20/seed-<s>``, …).
PER_USER_FILE = "per_user.npz"


def stored_per_user(path: str | Path) -> dict[str, Any] | None:
    """The per-user metrics a tuning directory stored at tuning time, when it has them:
    ``{"users", "recall": [per seed], "ndcg": [per seed], "seeds"}`` (None without the file)."""
    file = Path(path) / PER_USER_FILE
    if not file.is_file():
        return None
    with np.load(file) as z:
        seeds = sorted(int(k.split("/seed-")[1]) for k in z.files if k.startswith(f"recall@{K}/"))
        return {
            "users": z["users"],
            "seeds": seeds,
            "recall": [z[f"recall@{K}/seed-{s}"] for s in seeds],
            "ndcg": [z[f"ndcg@{K}/seed-{s}"] for s in seeds],
        }


def variant_per_user(
    variant: TunedVariant, dataset: Any, work: str | Path
) -> tuple[dict[str, Any], str]:
    """Each seed's per-user test Recall/NDCG@20 of ``variant`` and where they come from:
    ranked now (``"ranked"``, cached in ``work``) or, for a directory whose models the current
    code can no longer load (written before the checkpoint format gained a field), the per-user
    file stored at tuning time (``"stored"``)."""
    from anchorrec.errors import CheckpointError

    try:
        lists = seed_top_lists(variant, dataset, work)
    except CheckpointError:
        stored = stored_per_user(variant.path)
        if stored is None:
            raise
        return stored, "stored"
    return per_user_seed_metrics(lists, dataset.split("test")), "ranked"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="rank every tuned variant's seeds once (cache)")
    ap.add_argument("--tune", required=True, help="tuning root: one directory per variant")
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True, help="where the top-k lists are cached")
    args = ap.parse_args(argv)
    from anchorrec.data.mmrec import load_mmrec

    ds = load_mmrec(args.data)
    for name, v in tuned_variants(args.tune).items():
        lists = seed_top_lists(v, ds, args.work)
        m = per_user_seed_metrics(lists, ds.split("test"))
        means = [float(np.mean(r)) for r in m["recall"]]
        print(f"{name}: test recall@{K} per seed {', '.join(f'{x:.4f}' for x in means)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
