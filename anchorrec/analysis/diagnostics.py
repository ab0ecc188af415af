"""Collapse and ID-dominance diagnostics of one trained model, each beside its chance level.

:func:`diagnose` computes the table the dashboard shows per variant: effective rank and
uniformity of every item space, CKA and kNN overlap between the spaces that matter, the
alignment of the anchor domain, the paper's neighbour coherence (text/image cosine, users
shared with the neighbours, share of neighbours within two hops), the Figure-1 co-embedding
displacement in the full-dimensional spaces (with its per-item distribution), each branch's
share of the final space's variance and its magnitude in the scores, and the ID-dominance
index. Every row carries a null/chance level, a bootstrap interval over items (users for the
attribution rows) and a one-line meaning; :func:`compare_with_intervals` sets variants side
by side and says "tie" where their intervals overlap.

A joint 2-D t-SNE/UMAP of the ID and final vectors places an item's two points together
whatever the model, so no number is read off it: the Figure-1 picture is illustration only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from anchorrec.analysis import geometry as g
from anchorrec.analysis.attribution import attribute, coalition_cache, top_k_lists
from anchorrec.analysis.diagnostics_report import (  # the report, re-exported
    DIAGNOSTICS_FILE as DIAGNOSTICS_FILE,
)
from anchorrec.analysis.diagnostics_report import (
    DIAGNOSTICS_FORMAT as DIAGNOSTICS_FORMAT,
)
from anchorrec.analysis.diagnostics_report import (
    LEVEL as LEVEL,
)
from anchorrec.analysis.diagnostics_report import (
    MEANINGS as MEANINGS,
)
from anchorrec.analysis.diagnostics_report import (
    Diagnostic as Diagnostic,
)
from anchorrec.analysis.diagnostics_report import (
    DiagnosticsReport as DiagnosticsReport,
)
from anchorrec.analysis.diagnostics_report import (
    compare as compare,
)
from anchorrec.analysis.diagnostics_report import (
    compare_with_intervals as compare_with_intervals,
)
from anchorrec.analysis.diagnostics_report import (
    format_interval as format_interval,
)
from anchorrec.analysis.diagnostics_report import (
    format_value as format_value,
)
from anchorrec.analysis.diagnostics_report import (
    overlaps as overlaps,
)
from anchorrec.analysis.diagnostics_report import (
    read_diagnostics as read_diagnostics,
)
from anchorrec.analysis.diagnostics_report import (
    report_from_json as report_from_json,
)
from anchorrec.analysis.spaces import Space, item_spaces, model_spaces
from anchorrec.errors import ConfigError
from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

#: Top-k neighbours of the paper's qualitative evidence (Baby, top-3 in the final space).
COHERENCE_K = 3
OVERLAP_K = 10
#: Users whose top-K lists enter the ID-dominance index (a seeded sample above this).
DOMINANCE_MAX_USERS = 5_000
DOMINANCE_K = 10

#: Bootstrap resamples behind every interval, and its level.
BOOTSTRAP = 200
#: Quantiles of the per-item co-embedding displacement kept as its distribution.
DISPLACEMENT_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
DISPLACEMENT_BINS = 20


def _percentile_interval(stats: np.ndarray) -> tuple[float, float]:
    tail = (1 - LEVEL) / 2
    return float(np.quantile(stats, tail)), float(np.quantile(stats, 1 - tail))


def mean_interval(values: np.ndarray, *, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of the mean of per-unit ``values`` (resampling the units)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))
    return _percentile_interval(values[idx].mean(axis=1))


def row_bootstrap(
    fn: Any, n: int, *, seed: int = 0, resamples: int = BOOTSTRAP, centre: float | None = None
) -> tuple[float, float]:
    """Bootstrap interval of ``fn(rows)`` over ``resamples`` resamples of ``n`` rows.

    With ``centre`` (the estimate on all rows) the bootstrap gives only the spread: the
    interval is ``centre − (median − low)`` to ``centre + (high − median)``. Set-level
    statistics need it: a resample repeats rows, which biases e.g. the effective rank of a
    resample downwards, so its percentiles need not contain the estimate.
    """
    if n < 2 or resamples < 1:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    stats = np.array([fn(rng.integers(0, n, size=n)) for _ in range(resamples)])
    return _bootstrap_interval(stats, centre)


def _bootstrap_interval(stats: np.ndarray, centre: float | None) -> tuple[float, float]:
    """:func:`row_bootstrap`'s interval of the resampled ``stats``."""
    low, high = _percentile_interval(stats)
    if centre is None:
        return low, high
    median = float(np.median(stats))
    return float(centre - (median - low)), float(centre + (high - median))


def resample_weights(n: int, *, seed: int = 0, resamples: int = BOOTSTRAP) -> np.ndarray:
    """How often each of ``n`` rows is drawn in each resample (``n × resamples``): the same
    draws, in the same order, as :func:`row_bootstrap` with the same seed."""
    rng = np.random.default_rng(seed)
    weights = np.zeros((n, resamples))
    for b in range(resamples):
        weights[:, b] = np.bincount(rng.integers(0, n, size=n), minlength=n)
    return weights


def cka_resamples(kx: np.ndarray, ky: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`cka_from_grams` of every resample at once (``weights``: :func:`resample_weights`).

    For the rows r of a resample (with repeats), ``K_r = K[r][:, r]`` and ``m = |r|``,
    ``⟨H K_r H, H L_r H⟩ = tr(K_r L_r) − (2/m) (K_r 1)·(L_r 1) + (1/m²) (1ᵀK_r 1)(1ᵀL_r 1)``,
    and each term is a weighted sum over the rows of the full Grams: ``tr(K_r L_r) =
    wᵀ(K∘L)w``, ``(K_r 1)·(L_r 1) = Σᵢ wᵢ (Kw)ᵢ (Lw)ᵢ``, ``1ᵀK_r 1 = wᵀKw``. So every
    resample costs a few matrix products with the weights instead of an ``m × m`` copy.
    """
    m = weights.sum(axis=0)
    kw, lw = kx @ weights, ky @ weights

    def centred_inner(a: np.ndarray, aw: np.ndarray, b: np.ndarray, bw: np.ndarray) -> np.ndarray:
        trace = (weights * ((a * b) @ weights)).sum(axis=0)
        cross = (weights * aw * bw).sum(axis=0)
        totals = (weights * aw).sum(axis=0) * (weights * bw).sum(axis=0)
        return trace - 2.0 * cross / m + totals / m**2

    xy = centred_inner(kx, kw, ky, lw)
    denom = np.sqrt(np.clip(centred_inner(kx, kw, kx, kw), 0, None))
    denom = denom * np.sqrt(np.clip(centred_inner(ky, lw, ky, lw), 0, None))
    return np.where(denom > 0, xy / np.where(denom > 0, denom, 1.0), 0.0)


def _gaussian_like(x: np.ndarray, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=x.shape)


#: Space pairs compared by CKA and kNN overlap (when both exist).
SPACE_PAIRS: tuple[tuple[str, str], ...] = (
    ("final", "id_view"),
    ("final", "raw_text"),
    ("final", "raw_image"),
    ("fused_view", "id_view"),
    ("anchor_fused", "anchor_id"),
)
#: Positive pairs of the anchor domain (and of direct alignment's representation space).
ALIGNMENT_PAIRS: tuple[tuple[str, str], ...] = (
    ("anchor_fused", "anchor_id"),
    ("anchor_fused", "anchor_mixup"),
    ("anchor_fused", "anchor_image"),
    ("anchor_fused", "anchor_text"),
    ("fused_view", "id_view"),
)


def _centred_gram(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x @ x.T


def _double_centre(k: np.ndarray) -> np.ndarray:
    return k - k.mean(axis=0, keepdims=True) - k.mean(axis=1, keepdims=True) + k.mean()


def cka_from_grams(kx: np.ndarray, ky: np.ndarray) -> float:
    """Linear CKA from the (uncentred) Gram matrices ``X Xᵀ`` and ``Y Yᵀ`` of paired rows.

    ``‖YᵀX‖_F² = ⟨K̃x, K̃y⟩`` and ``‖XᵀX‖_F = ‖K̃x‖_F`` with ``K̃`` the double-centred Gram,
    so a bootstrap resample costs ``n²`` whatever the dimensions.
    """
    a, b = _double_centre(kx), _double_centre(ky)
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float((a * b).sum() / denom) if denom > 0 else 0.0


def _effective_rank_rows(x: np.ndarray, rows: np.ndarray, gram: np.ndarray | None = None) -> float:
    """Effective rank of ``x[rows]`` from the eigenvalues λ = σ² of its centred covariance
    (``d × d``), or of its double-centred Gram matrix (``n × n``, from ``gram = x xᵀ``) when
    that is the smaller one."""
    if gram is not None:
        lam = np.linalg.eigvalsh(_double_centre(gram[np.ix_(rows, rows)]))
    else:
        sub = x[rows]
        sub = sub - sub.mean(axis=0)
        lam = np.linalg.eigvalsh(sub.T @ sub)
    sigma = np.sqrt(np.clip(lam, 0.0, None))
    sigma = sigma[sigma > sigma.max(initial=0.0) * 1e-12]
    if sigma.size == 0:
        return 1.0
    p = sigma / sigma.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


#: Spaces wider than this (in practice the raw image and fused input features, the same for
#: every variant) get :data:`WIDE_BOOTSTRAP` resamples for their effective rank: one
#: eigen-decomposition of a 1,000 × 1,300 table costs more than the rest of the report, and
#: no comparison between variants rests on the inputs. 0 = no interval (reported as such).
WIDE_SPACE = 256
WIDE_BOOTSTRAP = 0


def uniformity_rows(x: np.ndarray) -> np.ndarray:
    """Per row ``i``: mean over ``j ≠ i`` of ``exp(−t‖x̃_i − x̃_j‖²)``; uniformity is the log of
    their mean (each pair counted twice, so it equals the pairwise definition)."""
    xn = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(xn, axis=1, keepdims=True)
    xn = xn / np.where(norms > 0, norms, 1.0)
    n = len(xn)
    sq = np.clip(2.0 - 2.0 * (xn @ xn.T), 0.0, None)
    e = np.exp(-g.UNIFORMITY_T * sq)
    np.fill_diagonal(e, 0.0)
    return e.sum(axis=1) / max(n - 1, 1)


def space_diagnostics(
    report: DiagnosticsReport, spaces: dict[str, Space], *, seed: int = 0
) -> None:
    """Effective rank and uniformity of each item space, CKA / overlap / alignment of pairs,
    each with a bootstrap interval over items."""
    items = item_spaces(spaces)
    for name, space in items.items():
        rows = g.sample_rows(space.n_rows, g.DEFAULT_MAX_ROWS, seed)
        x = np.asarray(space.matrix[rows], dtype=np.float64)
        gauss = _gaussian_like(x, seed)
        resamples = BOOTSTRAP if x.shape[1] <= WIDE_SPACE else WIDE_BOOTSTRAP
        gram = _centred_gram(x) if x.shape[1] > x.shape[0] else None
        erank = g.effective_rank(x)
        report.add(
            "effective_rank",
            name,
            erank,
            g.effective_rank(gauss),
            "gaussian",
            row_bootstrap(
                lambda r, x=x, gram=gram: _effective_rank_rows(x, r, gram),
                len(x),
                seed=seed,
                resamples=resamples,
                centre=erank,
            ),
        )
        per_row = uniformity_rows(x)
        unif = g.uniformity(x, seed=seed)
        report.add(
            "uniformity",
            name,
            unif,
            g.uniformity(gauss, seed=seed),
            "gaussian",
            row_bootstrap(
                lambda r, v=per_row: float(np.log(v[r].mean())),
                len(per_row),
                seed=seed,
                centre=unif,
            ),
        )
    for a, b in ALIGNMENT_PAIRS:
        if a in items and b in items and items[a].dim == items[b].dim:
            x, y = items[a].matrix, items[b].matrix
            per_item = ((g._normalise(x) - g._normalise(y)) ** 2).sum(axis=1)
            report.add(
                "alignment",
                f"{a}~{b}",
                g.alignment(x, y),
                g.alignment_null(x, y, seed),
                "permutation",
                mean_interval(per_item, seed=seed),
            )
    for a, b in SPACE_PAIRS:
        if a in items and b in items:
            rows = g.sample_rows(items[a].n_rows, g.DEFAULT_MAX_ROWS, seed)
            x, y = items[a].matrix[rows], items[b].matrix[rows]
            null_mean, _ = g.cka_permutation_null(x, y, seed=seed)
            kx, ky = _centred_gram(x), _centred_gram(y)
            cka = g.linear_cka(x, y)
            report.add(
                "linear_cka",
                f"{a}~{b}",
                cka,
                null_mean,
                "permutation",
                _bootstrap_interval(
                    cka_resamples(kx, ky, resample_weights(len(rows), seed=seed)), cka
                ),
            )
            queries = g.sample_rows(items[a].n_rows, g.DEFAULT_MAX_ROWS, seed)
            na = g.knn_indices(items[a].matrix, OVERLAP_K, queries)
            nb = g.knn_indices(items[b].matrix, OVERLAP_K, queries)
            k = max(na.shape[1], 1)
            hits = (
                np.array(
                    [
                        len(np.intersect1d(r1, r2, assume_unique=True))
                        for r1, r2 in zip(na, nb, strict=True)
                    ]
                )
                / k
            )
            report.add(
                "knn_overlap",
                f"{a}~{b}",
                float(hits.mean()) if len(hits) else 0.0,
                g.knn_overlap_chance(items[a].n_rows, OVERLAP_K),
                "chance",
                mean_interval(hits, seed=seed),
            )


def co_interaction_matrix(train: Any) -> sp.csr_matrix:
    """``C = RᵀR`` over the binarised train interactions: ``C[i, j]`` users who have both."""
    r = sp.csr_matrix(train, dtype=np.float32)
    r.data[:] = 1.0
    return (r.T @ r).tocsr()


def shared_users(co: sp.csr_matrix, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``C[rows[i], others[i, j]]`` as a dense ``len(rows) × k`` array."""
    k = others.shape[1]
    vals = co[np.repeat(rows, k), others.ravel()]
    return np.asarray(vals, dtype=np.float64).reshape(len(rows), k)


def neighbour_coherence_values(
    final: np.ndarray,
    train: Any,
    raw: dict[str, np.ndarray],
    *,
    k: int = COHERENCE_K,
    seed: int = 0,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per item: what its top-``k`` final-space neighbours share with it, and what ``k`` random
    other items share with it (the null): ``{metric: (values, null_values)}``.

    The raw-text and raw-image cosines; the users the item shares with each neighbour
    (``neighbour_shared_users``, a pairwise count — not the neighbour's own degree, which
    measures popularity); and the share of neighbours within two hops of the item in the
    interaction graph (``neighbour_two_hop_share``: at least one user bought both).
    """
    rows = g.sample_rows(len(final), g.DEFAULT_MAX_ROWS, seed)
    nbrs = g.knn_indices(final, k, rows)
    rng = np.random.default_rng(seed)
    rand = rng.integers(0, len(final) - 1, size=nbrs.shape)
    rand = rand + (rand >= rows[:, None])  # never the item itself
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for modality, metric in (
        ("text", "neighbour_text_cosine"),
        ("image", "neighbour_image_cosine"),
    ):
        if modality in raw:
            x = raw[modality]
            out[metric] = (
                g.mean_neighbour_cosine(x, rows, nbrs),
                g.mean_neighbour_cosine(x, rows, rand),
            )
    co = co_interaction_matrix(train)
    near, far = shared_users(co, rows, nbrs), shared_users(co, rows, rand)
    out["neighbour_shared_users"] = (near.mean(axis=1), far.mean(axis=1))
    out["neighbour_two_hop_share"] = ((near > 0).mean(axis=1), (far > 0).mean(axis=1))
    return out


def neighbour_coherence(
    final: np.ndarray,
    train: Any,
    raw: dict[str, np.ndarray],
    *,
    k: int = COHERENCE_K,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """The paper's evidence as ``{metric: (value, null)}`` (means of
    :func:`neighbour_coherence_values`)."""
    return {
        m: (float(v.mean()), float(n.mean()))
        for m, (v, n) in neighbour_coherence_values(final, train, raw, k=k, seed=seed).items()
    }


def displacement_per_item(id_view: np.ndarray, final: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Per item ``‖h_i − H_i‖`` over the mean ``‖h_j − H_i‖`` of random pairs (both spaces
    standardised jointly, so the ratio is scale-free); ≈ 0 = the final vector sits on the ID
    vector. Measured in the full-dimensional spaces."""
    joint = np.concatenate([id_view, final]).astype(np.float64)
    joint_mean = joint.mean(axis=0)
    scale = np.sqrt(((joint - joint_mean) ** 2).sum(axis=1).mean())
    scale = scale if scale > 0 else 1.0
    a = (np.asarray(id_view, np.float64) - joint_mean) / scale
    b = (np.asarray(final, np.float64) - joint_mean) / scale
    own = np.linalg.norm(b - a, axis=1)
    perm = np.random.default_rng(seed).permutation(len(a))
    other = np.linalg.norm(b[perm] - a, axis=1).mean()
    return own / other if other > 0 else np.zeros_like(own)


def coembedding_displacement(id_view: np.ndarray, final: np.ndarray, *, seed: int = 0) -> float:
    """The mean of :func:`displacement_per_item`; ≈ 0 means the final vectors sit on the ID vectors."""
    return float(displacement_per_item(id_view, final, seed=seed).mean())


def displacement_distribution(values: np.ndarray) -> dict[str, list[float]]:
    """Quantiles and a histogram of the per-item displacement."""
    values = np.asarray(values, dtype=np.float64)
    hi = max(1.5, float(values.max(initial=0.0)))
    counts, edges = np.histogram(values, bins=DISPLACEMENT_BINS, range=(0.0, hi))
    return {
        "quantiles": list(DISPLACEMENT_QUANTILES),
        "values": [float(np.quantile(values, q)) for q in DISPLACEMENT_QUANTILES],
        "bin_edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
    }


def branch_variance_shares(item_branches: dict[str, np.ndarray]) -> dict[str, float]:
    """Per branch ``b``: ``Σ_d Cov(b_d, h_d) / Σ_d Var(h_d)`` of the final items ``h = Σ_b b``.

    The shares add up to 1 (the final space's variance splits over its additive branches);
    a negative share is a branch that cancels part of the others' spread.
    """
    names = list(item_branches)
    total = np.zeros_like(np.asarray(item_branches[names[0]], np.float64))
    for n in names:
        total = total + np.asarray(item_branches[n], np.float64)
    centred = total - total.mean(axis=0)
    var = (centred**2).sum()
    out: dict[str, float] = {}
    for n in names:
        b = np.asarray(item_branches[n], np.float64)
        out[n] = float(((b - b.mean(axis=0)) * centred).sum() / var) if var > 0 else np.nan
    return out


def _variance_share_rows(
    item_branches: dict[str, np.ndarray], name: str, rows: np.ndarray
) -> float:
    return float(branch_variance_shares({n: v[rows] for n, v in item_branches.items()})[name])


def id_dominance(
    loaded: LoadedModel, *, k: int = DOMINANCE_K, seed: int = 0
) -> tuple[float, float]:
    """Mean input-level ID share over (a seeded sample of) all users' top-``k``, and 1/n."""
    value, null, _ = id_dominance_with_interval(loaded, k=k, seed=seed)
    return value, null


def _dominance_pairs(loaded: LoadedModel, k: int, seed: int) -> Any:
    """The coalition cache and the attribution of (a seeded sample of) every top-``k``."""
    cache = coalition_cache(loaded)
    users = g.sample_rows(cache.n_users, DOMINANCE_MAX_USERS, seed)
    pair_users, pair_items, ranks = top_k_lists(cache, k, users)
    return cache, attribute(cache, pair_users, pair_items, ranks=ranks, standardised=False)


def _per_user_means(users: np.ndarray, values: np.ndarray) -> np.ndarray:
    _, where = np.unique(users, return_inverse=True)
    sums = np.bincount(where, weights=values)
    return sums / np.bincount(where)


def id_dominance_with_interval(
    loaded: LoadedModel, *, k: int = DOMINANCE_K, seed: int = 0, pairs: Any = None
) -> tuple[float, float, tuple[float, float]]:
    """:func:`id_dominance` with a bootstrap interval over users."""
    cache, result = pairs if pairs is not None else _dominance_pairs(loaded, k, seed)
    null = 1.0 / max(1, len(cache.players))
    if "id" not in cache.players or not len(result):
        return 0.0, null, (float("nan"), float("nan"))
    share = result.shares[cache.players.index("id")]
    per_user = _per_user_means(result.users, share)
    return float(share.mean()), null, mean_interval(per_user, seed=seed)


def branch_magnitudes(
    loaded: LoadedModel, *, k: int = DOMINANCE_K, seed: int = 0, pairs: Any = None
) -> dict[str, tuple[float, tuple[float, float]]]:
    """Per branch: mean ``|h_u · b_i|`` over the top-``k`` pairs, with a bootstrap over users."""
    cache, result = pairs if pairs is not None else _dominance_pairs(loaded, k, seed)
    out: dict[str, tuple[float, tuple[float, float]]] = {}
    if not len(result):
        return out
    h_u = cache.users[-1][result.users].astype(np.float64)
    for b, name in enumerate(cache.branches):
        mag = np.abs((h_u * cache.item_branches[b][result.items].astype(np.float64)).sum(axis=1))
        out[name] = (
            float(mag.mean()),
            mean_interval(_per_user_means(result.users, mag), seed=seed),
        )
    return out


def diagnose(
    loaded: LoadedModel, *, seed: int = 0, with_attribution: bool = True
) -> DiagnosticsReport:
    """Every diagnostic of ``loaded`` (see :data:`MEANINGS`), as one table-able report."""
    spaces = model_spaces(loaded)
    ds = loaded.dataset
    report = DiagnosticsReport(variant=loaded.variant, n_items=ds.n_items)
    space_diagnostics(report, spaces, seed=seed)
    final = spaces["final"].matrix
    raw = {m: spaces[f"raw_{m}"].matrix for m in ("text", "image") if f"raw_{m}" in spaces}
    for metric, (values, nulls) in neighbour_coherence_values(
        final, ds.train, raw, seed=seed
    ).items():
        report.add(
            metric,
            "final",
            float(values.mean()),
            float(nulls.mean()),
            "random items",
            mean_interval(values, seed=seed),
        )
    if "id_view" in spaces:
        per_item = displacement_per_item(spaces["id_view"].matrix, final, seed=seed)
        report.add(
            "coembedding_displacement",
            "id_view~final",
            float(per_item.mean()),
            1.0,
            "unpaired items",
            mean_interval(per_item, seed=seed),
        )
        report.distributions["coembedding_displacement"] = displacement_distribution(per_item)
    model = loaded.model
    emb = model.eval_embeddings()
    item_branches = {n: t.detach().cpu().double().numpy() for n, t in emb.item_branches.items()}
    if len(item_branches) > 1:
        shares = branch_variance_shares(item_branches)
        null = 1.0 / len(item_branches)
        n_items = len(next(iter(item_branches.values())))
        for name, value in shares.items():
            report.add(
                "branch_variance_share",
                name,
                float(value),
                null,
                "equal shares",
                row_bootstrap(
                    lambda r, name=name: _variance_share_rows(item_branches, name, r),
                    n_items,
                    seed=seed,
                    centre=float(value),
                ),
            )
    if with_attribution and len(model.players) > 1:
        pairs = _dominance_pairs(loaded, DOMINANCE_K, seed)
        for name, (size, interval) in branch_magnitudes(loaded, seed=seed, pairs=pairs).items():
            report.add("branch_magnitude", name, size, 0.0, "no effect", interval)
        dominance, equal, interval = id_dominance_with_interval(loaded, seed=seed, pairs=pairs)
        report.add("id_dominance", "top-10", dominance, equal, "equal shares", interval)
    return report


def store_diagnostics(
    loaded: LoadedModel, report: DiagnosticsReport | None = None
) -> DiagnosticsReport:
    """Compute (unless given) and store the report of ``loaded``, so the dashboard reads it
    instead of running minutes of SVDs on a page load."""
    if loaded.model_dir is None:
        raise ConfigError("only a model saved in a directory can store its diagnostics.")
    report = report if report is not None else diagnose(loaded)
    ModelDir(loaded.model_dir).store().write_json(
        DIAGNOSTICS_FILE, DIAGNOSTICS_FORMAT, report.to_json()
    )
    return report
