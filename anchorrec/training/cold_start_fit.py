"""Fitting the cold-start path on valid (:mod:`anchorrec.models.cold_start` has the maths).

Every setting is chosen on the valid split only: the threshold (most train purchases of a
routed item), the image weight w of the content score, the spread and the shift of the
calibration, and the generator's ridge. For each (mechanism, calibration) the grid's best
setting is the one with the highest new-arrival Recall@20 on valid whose warm Recall@20 on
valid is at most ``warm_budget`` below the model's own (ties: the smaller warm cost); the
mechanism kept is the best of those by the same rule. Test never enters a choice.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from anchorrec.errors import ConfigError
from anchorrec.evaluation.item_groups import group_masks
from anchorrec.evaluation.metrics import evaluated_users, seen_items
from anchorrec.models.cold_start import (
    CALIBRATIONS,
    CONTENT,
    GENERATOR,
    GLOBAL,
    MECHANISMS,
    TASTE,
    Affine,
    ColdStart,
    affine,
    content_parts,
    content_vectors,
    parts_score,
    routed_items,
    score_moments,
    stat_items,
    taste_basis,
)

if TYPE_CHECKING:
    from anchorrec.data.dataset import Dataset
    from anchorrec.models.checkpoint import LoadedModel

#: The grid searched on valid.
THRESHOLDS = (1, 2, 3)
IMAGE_WEIGHTS = (0.25, 0.5)
SPREADS = (0.5, 1.0, 1.5, 2.0, 3.0)
SHIFTS = tuple(float(x) for x in np.round(np.arange(-3.0, 2.01, 0.1), 2))
RIDGES = (10.0,)
#: κ of the ``taste`` mechanism's per-shopper image weight.
SHARPNESSES = (1.0, 3.0, 10.0)
#: Most warm Recall@20 on valid a setting may cost.
WARM_BUDGET = 0.005
K = 20


@dataclass(frozen=True)
class Trial:
    """One setting's valid figures."""

    mechanism: str
    calibration: str
    threshold: int
    image_weight: float
    spread: float
    shift: float
    ridge: float
    warm: float
    new: float
    all: float
    sharpness: float = 0.0

    def cost(self, base_warm: float) -> float:
        return base_warm - self.warm


def ridge_generator(content: np.ndarray, target: np.ndarray, ridge: float) -> np.ndarray:
    """``G = argmin ‖V G − H‖² + ridge ‖G‖²`` over the rows given (content → embedding)."""
    v = torch.from_numpy(content.astype(np.float64))
    h = torch.from_numpy(target.astype(np.float64))
    gram = v.T @ v + ridge * torch.eye(v.shape[1], dtype=v.dtype)
    return torch.linalg.solve(gram, v.T @ h).to(torch.float32).numpy()


class _ValidRanker:
    """Valid figures of many settings, cheaply.

    A routed item's calibrated score is increasing in its raw score for every shopper, so a
    shopper's top-K is the best K of two fixed lists: the top-K unrouted items by the model's
    score and the top-K routed items by the raw score. Each setting only re-merges them.
    """

    def __init__(self, users: np.ndarray, items: np.ndarray, ds, split: str = "valid") -> None:
        self.ds = ds
        self.eval_users = evaluated_users(ds, split)
        self.model_scores = users @ items.T
        seen = seen_items(ds, split)[self.eval_users].tocoo()
        self.seen = (torch.as_tensor(seen.row), torch.as_tensor(seen.col))
        self.truth = torch.from_numpy(ds.split(split)[self.eval_users].toarray() > 0)
        self.masks = {name: torch.from_numpy(m) for name, m in group_masks(ds).items()}
        self.sizes = {name: (self.truth & m[None, :]).sum(1) for name, m in self.masks.items()}
        scores = torch.from_numpy(self.model_scores[self.eval_users])
        self.base = self._figures(self._top(scores, torch.ones(ds.n_items, dtype=torch.bool)))

    def _top(
        self, scores: torch.Tensor, allowed: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        scores = scores.clone()
        scores[self.seen] = -torch.inf
        scores[:, ~allowed] = -torch.inf
        val, idx = torch.topk(scores, K, dim=1)
        return val, idx

    def _figures(self, top: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        idx = top[1]
        hit = self.truth.gather(1, idx)
        out = {}
        for name, mask in self.masks.items():
            sizes = self.sizes[name]
            keep = sizes > 0
            hits = (hit & mask[idx]).sum(1)
            out[name] = float((hits[keep] / sizes[keep]).mean()) if keep.any() else float("nan")
        return out

    def prepare(self, raw: np.ndarray, routed: np.ndarray) -> _Candidates:
        """The two candidate lists of one (raw score, routed items), best first, with the
        running count of each group's hits along each list."""
        u = self.eval_users
        allowed = torch.from_numpy(routed)
        lists = []
        for scores, keep in ((self.model_scores[u], ~allowed), (raw[u], allowed)):
            val, idx = self._top(torch.from_numpy(scores), keep)
            hit = self.truth.gather(1, idx).numpy()
            cum = {}
            for name, mask in self.masks.items():
                got = (hit & mask.numpy()[idx.numpy()]).cumsum(1)
                cum[name] = np.hstack([np.zeros((len(u), 1)), got])
            lists.append((val.numpy(), cum))
        sizes = {name: s.numpy().astype(np.float64) for name, s in self.sizes.items()}
        return _Candidates(
            lists[0][0][:, ::-1].copy(), lists[1][0], lists[0][1], lists[1][1], sizes
        )

    def trial(self, cand: _Candidates, aff: Affine) -> dict[str, float]:
        """Valid figures of one calibration: cold candidate j (0-based, best first) is in the
        merged top-K iff its score beats the warm list's (K−1−j)-th, so the top-K holds the
        first ``n`` cold and the first ``K − n`` warm candidates."""
        u = self.eval_users
        with np.errstate(invalid="ignore"):
            cold = aff.alpha[u, None] * cand.cold + aff.beta[u, None]
        n = (np.isfinite(cand.cold) & (cold > cand.warm_reversed)).sum(1)
        rows = np.arange(len(u))
        out = {}
        for name, size in cand.sizes.items():
            keep = size > 0
            hits = cand.warm_hits[name][rows, K - n] + cand.cold_hits[name][rows, n]
            out[name] = float((hits[keep] / size[keep]).mean()) if keep.any() else float("nan")
        return out


@dataclass(frozen=True)
class _Candidates:
    #: the warm list's scores, worst first (position K−1−j in column j)
    warm_reversed: np.ndarray
    cold: np.ndarray
    #: group → hits among the first m candidates (U × (K+1))
    warm_hits: dict[str, np.ndarray]
    cold_hits: dict[str, np.ndarray]
    sizes: dict[str, np.ndarray]


def fit_trials(
    users: np.ndarray,
    items: np.ndarray,
    ds,
    *,
    thresholds: Iterable[int] = THRESHOLDS,
    image_weights: Iterable[float] = IMAGE_WEIGHTS,
    spreads: Iterable[float] = SPREADS,
    shifts: Iterable[float] = SHIFTS,
    ridges: Iterable[float] = RIDGES,
    sharpnesses: Iterable[float] = SHARPNESSES,
    mechanisms: Iterable[str] = MECHANISMS,
    calibrations: Iterable[str] = CALIBRATIONS,
    log: Callable[[str], None] | None = None,
) -> tuple[dict[str, float], list[Trial]]:
    """The model's valid figures and every setting's (``users``/``items``: its embeddings)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # thousands of small merges: threads cost more than they give
    try:
        return _fit_trials(
            users,
            items,
            ds,
            thresholds,
            image_weights,
            spreads,
            shifts,
            ridges,
            sharpnesses,
            mechanisms,
            calibrations,
            log,
        )
    finally:
        torch.set_num_threads(threads)


def _fit_trials(
    users: np.ndarray,
    items: np.ndarray,
    ds,
    thresholds: Iterable[int],
    image_weights: Iterable[float],
    spreads: Iterable[float],
    shifts: Iterable[float],
    ridges: Iterable[float],
    sharpnesses: Iterable[float],
    mechanisms: Iterable[str],
    calibrations: Iterable[str],
    log: Callable[[str], None] | None,
) -> tuple[dict[str, float], list[Trial]]:
    ranker = _ValidRanker(users, items, ds)
    spreads, shifts = tuple(spreads), tuple(shifts)
    mechanisms, calibrations = tuple(mechanisms), tuple(calibrations)
    image_weights, ridges, sharpnesses = tuple(image_weights), tuple(ridges), tuple(sharpnesses)
    empty = np.asarray(ds.train.sum(axis=1)).ravel() == 0
    trials: list[Trial] = []
    for t in thresholds:
        routed = routed_items(ds.train, t)
        if not routed.any():
            continue
        pool = stat_items(ds.n_items, routed)
        model_pool = ranker.model_scores[:, pool]
        for mech, w, lam, kappa, raw in _raw_scores(
            users, items, ds, routed, image_weights, ridges, sharpnesses, mechanisms
        ):
            cand = ranker.prepare(raw, routed)
            no_history = empty if mech != GENERATOR else np.zeros_like(empty)
            for cal in calibrations:
                mom = score_moments(cal, model_pool, np.ascontiguousarray(raw[:, pool]))
                for spread, shift in itertools.product(spreads, shifts):
                    got = ranker.trial(cand, affine(mom, spread, shift, no_history))
                    trials.append(Trial(mech, cal, t, w, spread, shift, lam, *_three(got), kappa))
        if log:
            log(f"threshold={t}: {len(trials)} settings")
    return ranker.base, trials


def _raw_scores(
    users: np.ndarray,
    items: np.ndarray,
    ds: Dataset,
    routed: np.ndarray,
    image_weights: tuple[float, ...],
    ridges: tuple[float, ...],
    sharpnesses: tuple[float, ...],
    mechanisms: tuple[str, ...],
) -> Iterator[tuple[str, float, float, float, np.ndarray]]:
    """Every raw score the grid compares, one at a time (each is shoppers × items):
    (mechanism, image weight, ridge, κ, scores)."""
    for w in image_weights:
        if CONTENT in mechanisms:
            raw = parts_score(content_parts(ColdStart(CONTENT, GLOBAL, 0, w, 1.0, 0.0), ds))
            yield CONTENT, w, 0.0, 0.0, raw.users @ raw.items.T
        if GENERATOR in mechanisms:
            content = content_vectors(ds.features, w)
            for lam in ridges:
                g = ridge_generator(content[~routed], items[~routed], lam)
                yield GENERATOR, w, lam, 0.0, users @ (content @ g).T
    if TASTE in mechanisms:
        centre, scale = taste_basis(ds)
        for kappa in sharpnesses:
            probe = ColdStart(
                TASTE, GLOBAL, 0, 0.5, 1.0, 0.0, sharpness=kappa, centre=centre, taste_scale=scale
            )
            raw = parts_score(content_parts(probe, ds))
            yield TASTE, 0.5, 0.0, kappa, raw.users @ raw.items.T


def _three(got: dict[str, float]) -> tuple[float, float, float]:
    return got["warm"], got["new"], got["all"]


def best_trial(
    trials: list[Trial], base_warm: float, warm_budget: float = WARM_BUDGET
) -> Trial | None:
    """The setting with the best valid new-arrival recall within the warm budget."""
    ok = [t for t in trials if t.cost(base_warm) <= warm_budget]
    if not ok:
        return None
    return max(ok, key=lambda t: (t.new, -t.cost(base_warm)))


def best_per_mechanism(
    trials: list[Trial], base_warm: float, warm_budget: float = WARM_BUDGET
) -> dict[str, Trial]:
    """``"<mechanism> (<calibration>)"`` → its best setting."""
    out: dict[str, Trial] = {}
    for mech, cal in itertools.product(MECHANISMS, CALIBRATIONS):
        mine = [t for t in trials if t.mechanism == mech and t.calibration == cal]
        best = best_trial(mine, base_warm, warm_budget)
        if best is not None:
            out[f"{mech} ({cal})"] = best
    return out


def cold_start_of(trial: Trial, users: np.ndarray, items: np.ndarray, ds) -> ColdStart:
    """The :class:`ColdStart` of a chosen setting (the generator refitted on its warm items)."""
    generator = None
    if trial.mechanism == GENERATOR:
        content = content_vectors(ds.features, trial.image_weight)
        routed = routed_items(ds.train, trial.threshold)
        generator = ridge_generator(content[~routed], items[~routed], trial.ridge)
    centre = scale = None
    if trial.mechanism == TASTE:
        centre, scale = taste_basis(ds)
    return ColdStart(
        mechanism=trial.mechanism,
        calibration=trial.calibration,
        threshold=trial.threshold,
        image_weight=trial.image_weight,
        spread=trial.spread,
        shift=trial.shift,
        generator=generator,
        ridge=trial.ridge,
        sharpness=trial.sharpness,
        centre=centre,
        taste_scale=scale,
        dataset_fingerprint=ds.fingerprint,
    )


def fit_cold_start(
    loaded: LoadedModel,
    *,
    warm_budget: float = WARM_BUDGET,
    log: Callable[[str], None] | None = None,
    **grid: Iterable,
) -> tuple[ColdStart, dict[str, Trial], dict[str, float]]:
    """Fit the cold-start path of ``loaded`` on valid: (chosen calibration, the best setting
    of every mechanism, the model's own valid figures)."""
    if loaded.model.id_only:
        raise ConfigError(
            f"{loaded.variant} reads no item content: it has no cold-start path to fit."
        )
    emb = loaded.model.eval_embeddings()
    users = emb.users.detach().to("cpu", torch.float32).numpy()
    items = emb.items.detach().to("cpu", torch.float32).numpy()
    base, trials = fit_trials(users, items, loaded.dataset, log=log, **grid)
    per = best_per_mechanism(trials, base["warm"], warm_budget)
    best = best_trial(list(per.values()), base["warm"], warm_budget)
    if best is None:
        raise ConfigError(
            f"no cold-start setting keeps warm Recall@{K} on valid within {warm_budget} of "
            "the model's; widen the budget or the grid."
        )
    cold = cold_start_of(best, users, items, loaded.dataset)
    report = {
        "fitted_on": "valid",
        "warm_budget": warm_budget,
        "valid_off": base,
        "valid_on": {"warm": best.warm, "new": best.new, "all": best.all},
        "mechanisms": {name: dataclasses.asdict(t) for name, t in per.items()},
    }
    return dataclasses.replace(cold, report=report), per, base


def with_test_report(loaded: LoadedModel, cold: ColdStart) -> ColdStart:
    """``cold`` with its test figures recorded for the pages (warm, new and all, with it and
    with the published ranking). Recorded after the choice; nothing is chosen on them."""
    from anchorrec.evaluation.item_groups import warm_new_report

    if not loaded.dataset.test.nnz:
        return cold
    report = warm_new_report(dataclasses.replace(loaded, cold_start=cold), "test")
    return dataclasses.replace(cold, report={**cold.report, "test": report})
