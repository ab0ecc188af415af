"""The content-headroom gate: model-free rankers on the test split, before anything is trained.

A sample is only worth training on if content can beat purchase history somewhere. Five
rankers score every item for every shopper from the shopper's train purchases alone:

- ``item_knn``: co-purchase item kNN (cosine of the items' train purchase vectors, each
  item's ``k`` nearest kept);
- ``ease``: EASE (Steck 2019), the closed-form linear item–item model with ridge ``λ``;
- ``image_knn`` / ``text_knn``: the same kNN in the image / text feature space (cosine of
  the mean-centred features);
- ``hybrid``: EASE plus ``a``·image kNN plus ``b``·text kNN, each standardised per shopper.

Each ranker's one hyper-parameter (``k``, ``λ`` or ``(a, b)``) is chosen on the valid split
from a small grid (history: train; train items masked); the test figures then use train as
history with train and valid items masked. Recall@20 and NDCG@20 are averaged over the
shoppers of each group with a test purchase, and over the shoppers with a test purchase of a
new arrival (counting only those purchases).

The gate passes when the image kNN beats EASE on visual shoppers and the text kNN beats EASE
on textual shoppers, each by at least ``GATE_MARGIN`` Recall@20, and the hybrid beats EASE
over all shoppers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from anchorrec.errors import AnchorRecError
from anchorrec.sample.tastes import centred_cosine

T = TypeVar("T")

K = 20
GATE_MARGIN = 0.05
RANKERS: tuple[str, ...] = ("item_knn", "ease", "image_knn", "text_knn", "hybrid")
RANKER_LABELS: dict[str, str] = {
    "item_knn": "co-purchase item kNN",
    "ease": "EASE",
    "image_knn": "image kNN",
    "text_knn": "text kNN",
    "hybrid": "hybrid (EASE + image + text)",
}
KNN_GRID: tuple[int, ...] = (10, 20, 50, 100, 200, 400)
EASE_GRID: tuple[float, ...] = (5.0, 20.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0)
HYBRID_GRID: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0)
ALL = "all"
NEW_ARRIVALS = "new arrivals"


class HeadroomError(AnchorRecError):
    """The built sample gives content no headroom over purchase history (the gate failed)."""

    multiline = True  # the failure and its table


@dataclass(frozen=True)
class Figure:
    """One ranker's test figures on one slice of shoppers."""

    ranker: str
    slice: str
    users: int
    recall: float
    ndcg: float


@dataclass(frozen=True)
class GateCheck:
    """One condition of the gate: which figure, against what, by how much."""

    name: str
    value: float
    reference: float
    margin: float

    @property
    def passed(self) -> bool:
        if self.margin > 0:
            return self.value - self.reference >= self.margin - 1e-12
        return self.value > self.reference

    def describe(self) -> str:
        need = f"≥ {self.margin:.2f} above" if self.margin > 0 else "above"
        return (
            f"{self.name}: {self.value:.4f} vs {self.reference:.4f} "
            f"(difference {self.value - self.reference:+.4f}; needs {need})"
        )


@dataclass(frozen=True)
class HeadroomReport:
    """Every ranker's test figures per slice, the chosen hyper-parameters and the gate."""

    figures: tuple[Figure, ...]
    params: dict[str, str]
    checks: tuple[GateCheck, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def figure(self, ranker: str, slice_: str) -> Figure:
        for f in self.figures:
            if (f.ranker, f.slice) == (ranker, slice_):
                return f
        raise KeyError((ranker, slice_))

    @property
    def slices(self) -> tuple[str, ...]:
        seen: list[str] = []
        for f in self.figures:
            if f.slice not in seen:
                seen.append(f.slice)
        return tuple(seen)

    def table(self) -> str:
        """A Markdown table: one row per ranker, Recall@20 / NDCG@20 per slice."""
        slices = self.slices
        users = {s: self.figure(RANKERS[0], s).users for s in slices}
        head = "| ranker | " + " | ".join(f"{s} ({users[s]})" for s in slices) + " |"
        rule = "|---|" + "---|" * len(slices)
        rows = [head, rule]
        for r in RANKERS:
            cells = [
                f"{self.figure(r, s).recall:.3f} / {self.figure(r, s).ndcg:.3f}" for s in slices
            ]
            rows.append(f"| {RANKER_LABELS[r]} [{self.params[r]}] | " + " | ".join(cells) + " |")
        return "\n".join(rows)

    def failure_message(self) -> str:
        missed = [c for c in self.checks if not c.passed]
        lines = ["the content-headroom gate failed (Recall@20 on test):"]
        lines += [f"  missed {c.describe()}" for c in missed]
        lines += [f"  passed {c.describe()}" for c in self.checks if c.passed]
        lines.append(
            "content has too little headroom over purchase history; lower --temperature (content "
            "decides more) or check the features."
        )
        return "\n".join(lines)


# ----------------------------------------------------------------------------- similarities
def top_k_similarity(sim: np.ndarray, k: int) -> np.ndarray:
    """``sim`` with its diagonal zeroed and only each row's ``k`` largest entries kept."""
    s = np.array(sim, dtype=np.float64, copy=True)
    np.fill_diagonal(s, 0.0)
    n = s.shape[0]
    if k < n - 1:
        drop = np.argpartition(-s, k, axis=1)[:, k:]
        np.put_along_axis(s, drop, 0.0, axis=1)
    return s


def co_purchase_cosine(train: sp.csr_matrix) -> np.ndarray:
    """Item × item cosine of the items' train purchase vectors."""
    x = train.astype(np.float64)
    g = (x.T @ x).toarray()
    norm = np.sqrt(np.diag(g))
    norm[norm == 0] = 1.0
    return g / norm[:, None] / norm[None, :]


def ease_weights(train: sp.csr_matrix, lam: float) -> np.ndarray:
    """EASE's item–item matrix ``B`` (zero diagonal) for ridge ``lam``."""
    x = train.astype(np.float64)
    g = (x.T @ x).toarray()
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


# ---------------------------------------------------------------------------------- metrics
def _top_k(scores: np.ndarray, masked: sp.csr_matrix, k: int) -> np.ndarray:
    s = np.array(scores, dtype=np.float64, copy=True)
    coo = masked.tocoo()
    s[coo.row, coo.col] = -np.inf
    if k >= s.shape[1]:
        return np.argsort(-s, axis=1, kind="stable")
    part = np.argpartition(-s, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def recall_ndcg(
    top: np.ndarray, truth: sp.csr_matrix, k: int = K
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-user Recall@k and NDCG@k of ranked ``top`` against ``truth``; and who has truth."""
    n_users = truth.shape[0]
    has = np.diff(truth.indptr) > 0
    dense = truth.toarray() > 0
    hit = np.take_along_axis(dense, top[:, :k], axis=1)
    n_rel = np.diff(truth.indptr)
    recall = np.where(has, hit.sum(axis=1) / np.maximum(n_rel, 1), 0.0)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hit * disc[: hit.shape[1]]).sum(axis=1)
    ideal = np.array([disc[: min(int(n), k)].sum() for n in n_rel])
    ndcg = np.where(has, dcg / np.maximum(ideal, 1e-12), 0.0)
    assert recall.shape == (n_users,)
    return recall, ndcg, has


def _standardise(scores: np.ndarray, masked: sp.csr_matrix) -> np.ndarray:
    """Scores standardised per user over the candidate (unmasked) items."""
    s = np.array(scores, dtype=np.float64, copy=True)
    cand = np.ones(s.shape, dtype=bool)
    coo = masked.tocoo()
    cand[coo.row, coo.col] = False
    count = np.maximum(cand.sum(axis=1, keepdims=True), 1)
    mean = (s * cand).sum(axis=1, keepdims=True) / count
    var = (((s - mean) * cand) ** 2).sum(axis=1, keepdims=True) / count
    return (s - mean) / np.sqrt(np.maximum(var, 1e-12))


# ---------------------------------------------------------------------------------- the gate
def _best(
    options: Sequence[T],
    score_of: Callable[[T], np.ndarray],
    history: sp.csr_matrix,
    valid: sp.csr_matrix,
) -> T:
    best, best_recall = options[0], -1.0
    for opt in options:
        recall, _, has = recall_ndcg(_top_k(score_of(opt), history, K), valid)
        mean = float(recall[has].mean()) if has.any() else 0.0
        if mean > best_recall + 1e-12:
            best, best_recall = opt, mean
    return best


def headroom_report(
    train: sp.csr_matrix,
    valid: sp.csr_matrix,
    test: sp.csr_matrix,
    image_feat: np.ndarray,
    text_feat: np.ndarray,
    groups: np.ndarray,
    new_arrival: np.ndarray,
    *,
    margin: float = GATE_MARGIN,
) -> HeadroomReport:
    """Run the five rankers, tune each on valid, measure them on test, and check the gate."""
    train, valid, test = (_binary(m) for m in (train, valid, test))
    x = train.astype(np.float64)
    n_items = train.shape[1]
    ks = tuple(k for k in KNN_GRID if k < n_items - 1) or (n_items - 2,)
    sims = {
        "item_knn": co_purchase_cosine(train),
        "image_knn": centred_cosine(image_feat),
        "text_knn": centred_cosine(text_feat),
    }

    def knn(name: str) -> Callable[[int], np.ndarray]:
        return lambda k: np.asarray(x @ top_k_similarity(sims[name], int(k)))

    def ease(lam: float) -> np.ndarray:
        return np.asarray(x @ ease_weights(train, float(lam)))

    params: dict[str, int | float] = {}
    for name in ("item_knn", "image_knn", "text_knn"):
        params[name] = _best(ks, knn(name), train, valid)
    params["ease"] = _best(EASE_GRID, ease, train, valid)
    base = {
        "ease": ease(params["ease"]),
        "image_knn": knn("image_knn")(int(params["image_knn"])),
        "text_knn": knn("text_knn")(int(params["text_knn"])),
    }

    def hybrid_for(masked: sp.csr_matrix) -> Callable[[tuple[float, float]], np.ndarray]:
        z = {n: _standardise(s, masked) for n, s in base.items()}

        def score(ab: tuple[float, float]) -> np.ndarray:
            a, b = ab
            return z["ease"] + a * z["image_knn"] + b * z["text_knn"]

        return score

    grid = [(a, b) for a in HYBRID_GRID for b in HYBRID_GRID]
    hybrid = _best(grid, hybrid_for(train), train, valid)

    masked = (train + valid).tocsr()
    masked.data[:] = 1.0
    scores = {
        "item_knn": knn("item_knn")(int(params["item_knn"])),
        "ease": base["ease"],
        "image_knn": base["image_knn"],
        "text_knn": base["text_knn"],
        "hybrid": hybrid_for(masked)(hybrid),
    }
    new_test = test.multiply(sp.csr_matrix(new_arrival.astype(np.float32)[None, :])).tocsr()
    new_test.eliminate_zeros()
    group_names = [g for g in ("visual", "textual", "collaborative") if (groups == g).any()]
    group_names += sorted(set(groups.tolist()) - set(group_names))
    figures: list[Figure] = []
    for r in RANKERS:
        top = _top_k(scores[r], masked, K)
        recall, ndcg, has = recall_ndcg(top, test)
        for name, sel in [(ALL, has)] + [(g, has & (groups == g)) for g in group_names]:
            figures.append(_figure(r, name, recall, ndcg, sel))
        n_recall, n_ndcg, n_has = recall_ndcg(top, new_test)
        figures.append(_figure(r, NEW_ARRIVALS, n_recall, n_ndcg, n_has))

    def rec(r: str, s: str) -> float:
        return next(f.recall for f in figures if (f.ranker, f.slice) == (r, s))

    checks = []
    if "visual" in group_names:
        checks.append(
            GateCheck("image kNN − EASE, visual shoppers", rec("image_knn", "visual"),
                      rec("ease", "visual"), margin)
        )  # fmt: skip
    if "textual" in group_names:
        checks.append(
            GateCheck("text kNN − EASE, textual shoppers", rec("text_knn", "textual"),
                      rec("ease", "textual"), margin)
        )  # fmt: skip
    checks.append(GateCheck("hybrid − EASE, all shoppers", rec("hybrid", ALL), rec("ease", ALL), 0))
    shown = {
        "item_knn": f"k={params['item_knn']}",
        "ease": f"λ={params['ease']:g}",
        "image_knn": f"k={params['image_knn']}",
        "text_knn": f"k={params['text_knn']}",
        "hybrid": "a={:g}, b={:g}".format(*hybrid),
    }
    return HeadroomReport(tuple(figures), shown, tuple(checks))


def _binary(m: sp.spmatrix) -> sp.csr_matrix:
    """``m`` as a binary float32 CSR matrix without stored zeros."""
    out = sp.csr_matrix(m, dtype=np.float32, copy=True)
    out.eliminate_zeros()
    out.data[:] = 1.0
    return out


def _figure(r: str, name: str, recall: np.ndarray, ndcg: np.ndarray, sel: np.ndarray) -> Figure:
    n = int(sel.sum())
    return Figure(
        ranker=r,
        slice=name,
        users=n,
        recall=float(recall[sel].mean()) if n else 0.0,
        ndcg=float(ndcg[sel].mean()) if n else 0.0,
    )
