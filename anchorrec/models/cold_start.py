"""The cold-start path: items with little train history are ranked through their content.

Every modality view of the AnchorRec family is gated by the item's ID embedding
(``z = E_i ⊙ σ(·)``), so an item nobody has bought can only rescale one fixed vector: the
model as trained never shows it. The cold-start path is fitted *on top of* a trained model
(its weights, and every figure measured on them, are unchanged) and stored beside it:

- an item is **routed** when it has at most ``threshold`` train purchases;
- a routed item's score for shopper u is a *raw content score* ``r(u, i) = q_u · v_i``
  mapped onto the scale of u's own scores of the catalogue,

      cold(u, i) = μ_u + σ_u · (spread · (r(u, i) − m_u) / s_u + shift),

  where (μ_u, σ_u) are the mean and spread of the model's scores h_u · h_j of shopper u and
  (m_u, s_u) those of the raw content score, over the same items (a ``global`` calibration
  uses one pair for all shoppers instead);
- every other item keeps its score h_u · h_i exactly.

Three raw content scores (the ``mechanism``):

- ``content``: the content kNN of the shopper's history,
  ``r(u, i) = mean_{j ∈ train(u)} [w · cos_image(j, i) + (1 − w) · cos_text(j, i)]``, i.e.
  ``q_u = [w q̄ᵤ^img, (1−w) q̄ᵤ^txt]`` (the mean unit vectors of u's purchases) and
  ``v_i = [x̂ᵢ^img, x̂ᵢ^txt]``;
- ``taste``: the same kNN with two changes that read each shopper's own taste. The features
  are centred (each unit vector minus the catalogue's mean unit vector, then re-normalised),
  so the direction every product shares no longer counts as resemblance; and the image weight
  is the shopper's own, ``w_u = σ(κ (z_u^img − z_u^txt))``, where ``z_u^m`` is how much more
  alike u's past purchases are to each other in modality m than a typical shopper's are
  (the mean pairwise cosine of u's purchases, standardised over shoppers). A shopper whose
  purchases look alike buys by look; one whose copy reads alike, by description;
- ``generator``: a content → item-embedding generator distilled from the frozen model's warm
  items (ridge regression of h_i on v_i, the teacher-student idea of ALDI),
  ``r(u, i) = h_u · G v_i``.

The whole map is linear in the item side, so the routed ranking is an ordinary dot product
of augmented embeddings (:func:`apply_cold_start`): every ranking path (recommend, evaluate,
preview, audit) reads it through the one :func:`anchorrec.models.ranking.top_k_items`.
The calibration (mechanism, threshold, w, spread, shift, G) is fitted on valid only
(:mod:`anchorrec.training.cold_start_fit`) and stored as :data:`COLD_START_FILE` in the model's
derived store, tagged with the model's fingerprint.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
import torch

from anchorrec.data.dataset import IMAGE, TEXT, Dataset
from anchorrec.errors import ConfigError
from anchorrec.models.base import Embeddings
from anchorrec.models.cold_start_store import COLD_START_FILE, COLD_START_FORMAT

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel
    from anchorrec.models.model_dir import ModelDir

#: The raw content scores.
CONTENT = "content"
GENERATOR = "generator"
TASTE = "taste"
MECHANISMS = (CONTENT, GENERATOR, TASTE)
#: The calibrations: one (μ, σ, m, s) per shopper, or one for everybody.
PER_SHOPPER = "per-shopper"
TAIL_CALIBRATION = "per-shopper tail"
GLOBAL = "global"
CALIBRATIONS = (TAIL_CALIBRATION, PER_SHOPPER, GLOBAL)
#: Most catalogue items the per-shopper statistics are read over (a fixed random sample).
STAT_ITEMS = 4096
#: Said wherever a routed item's score or explanation is shown.
ROUTED_LABEL = "new arrival, ranked by its photo and copy (cold-start path)"


@dataclass(frozen=True)
class ColdStart:
    """A fitted cold-start calibration (see the module docstring for the maths)."""

    mechanism: str
    calibration: str
    threshold: int
    image_weight: float
    spread: float
    shift: float
    #: the generator's ridge map (content width × d), ``generator`` only
    generator: np.ndarray | None = None
    ridge: float = 0.0
    dataset_fingerprint: str = ""
    #: what the fit measured (valid, and test once reported), for the pages and the docs
    report: dict[str, Any] = field(default_factory=dict)
    #: ``taste`` only: κ, the catalogue's mean unit vector (image then text) and the
    #: shoppers' coherence scale (median and sd of image, then of text)
    sharpness: float = 0.0
    centre: np.ndarray | None = None
    taste_scale: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.mechanism not in MECHANISMS:
            raise ConfigError(f"unknown cold-start mechanism {self.mechanism!r}; use {MECHANISMS}.")
        if self.calibration not in CALIBRATIONS:
            raise ConfigError(
                f"unknown cold-start calibration {self.calibration!r}; use {CALIBRATIONS}."
            )
        if self.mechanism == GENERATOR and self.generator is None:
            raise ConfigError("a generator calibration needs its generator matrix.")
        if self.mechanism == TASTE and (self.centre is None or self.taste_scale is None):
            raise ConfigError("a taste calibration needs its centre and its taste scale.")
        if not 0.0 <= self.image_weight <= 1.0:
            raise ConfigError(f"image_weight must be in [0, 1] (got {self.image_weight}).")

    @property
    def name(self) -> str:
        return f"{self.mechanism} ({self.calibration})"

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["generator"] = None if self.generator is None else self.generator.round(6).tolist()
        out["centre"] = None if self.centre is None else self.centre.round(7).tolist()
        out["taste_scale"] = None if self.taste_scale is None else list(self.taste_scale)
        return out

    @staticmethod
    def from_json(data: dict[str, Any], where: str = "cold_start.json") -> ColdStart:
        names = {f.name for f in dataclasses.fields(ColdStart)}
        missing = [n for n in ("mechanism", "calibration", "threshold") if n not in data]
        if missing:
            raise ConfigError(f"{where}: missing field(s) {missing}; refit with `cold-start fit`.")
        kwargs = {k: v for k, v in data.items() if k in names}
        if kwargs.get("generator") is not None:
            kwargs["generator"] = np.asarray(kwargs["generator"], dtype=np.float32)
        if kwargs.get("centre") is not None:
            kwargs["centre"] = np.asarray(kwargs["centre"], dtype=np.float32)
        if kwargs.get("taste_scale") is not None:
            kwargs["taste_scale"] = tuple(float(x) for x in kwargs["taste_scale"])
        try:
            return ColdStart(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}; refit with `cold-start fit`.") from None


# ---------------------------------------------------------------------- content side
def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def _require_image_and_text(features: dict[str, np.ndarray]) -> None:
    missing = [m for m in (IMAGE, TEXT) if m not in features]
    if missing:
        raise ConfigError(
            f"the cold-start path reads image and text features; this dataset lacks {missing}."
        )


def content_vectors(features: dict[str, np.ndarray], image_weight: float) -> np.ndarray:
    """``v_i = [√w · x̂ᵢ^image, √(1−w) · x̂ᵢ^text]``: ``v_i · v_j = w cos_img + (1−w) cos_txt``."""
    _require_image_and_text(features)
    w = float(image_weight)
    return np.hstack(
        [np.sqrt(w) * _unit_rows(features[IMAGE]), np.sqrt(1 - w) * _unit_rows(features[TEXT])]
    ).astype(np.float32)


def history_weights(train: sp.spmatrix) -> sp.csr_matrix:
    """Row-normalised train matrix: ``R̂_uj = 1/|train(u)|`` on u's purchases."""
    train = sp.csr_matrix(train, dtype=np.float32)
    counts = np.asarray(train.sum(axis=1)).ravel()
    inv = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0).astype(np.float32)
    return sp.csr_matrix(sp.diags(inv) @ train)


def user_profiles(train: sp.spmatrix, content: np.ndarray) -> np.ndarray:
    """``q_u`` = mean content vector of u's train purchases (zero without any)."""
    return np.asarray(history_weights(train) @ content, dtype=np.float32)


def catalogue_centre(features: dict[str, np.ndarray]) -> np.ndarray:
    """The catalogue's mean unit vector, image then text (the ``taste`` centre)."""
    return np.hstack([_unit_rows(features[m]).mean(0) for m in (IMAGE, TEXT)]).astype(np.float32)


def centred_units(features: dict[str, np.ndarray], centre: np.ndarray) -> list[np.ndarray]:
    """Image and text unit vectors, centred by ``centre`` and re-normalised."""
    n_img = features[IMAGE].shape[1]
    parts = (centre[:n_img], centre[n_img:])
    if len(centre) != n_img + features[TEXT].shape[1]:
        raise ConfigError(
            f"the stored cold-start centre is {len(centre)}-d but this dataset's image + text "
            f"features are {n_img + features[TEXT].shape[1]}-d; refit the cold-start path."
        )
    return [
        _unit_rows(_unit_rows(features[m]) - c) for m, c in zip((IMAGE, TEXT), parts, strict=True)
    ]


def history_coherence(train: sp.spmatrix, units: np.ndarray) -> np.ndarray:
    """Per shopper, the mean cosine between two different past purchases (0 below two)."""
    train = sp.csr_matrix(train, dtype=np.float32)
    return _coherence(np.asarray(train @ units), np.asarray(train.sum(axis=1)).ravel())


def _coherence(total: np.ndarray, n: np.ndarray) -> np.ndarray:
    """:func:`history_coherence` from the sums of each shopper's purchases' unit vectors."""
    n = np.asarray(n, dtype=np.float64)
    pairs = n * (n - 1)
    squares = (np.asarray(total, dtype=np.float64) ** 2).sum(1)
    return np.where(pairs > 0, (squares - n) / np.maximum(pairs, 1), 0.0)


def taste_scale(train: sp.spmatrix, units: list[np.ndarray]) -> tuple[float, float, float, float]:
    """Median and sd of :func:`history_coherence` over shoppers with two purchases or more,
    image then text."""
    many = np.asarray(sp.csr_matrix(train).sum(axis=1)).ravel() >= 2
    out: list[float] = []
    for x in units:
        p = history_coherence(train, x)[many] if many.any() else np.zeros(1)
        out += [float(np.median(p)), float(max(p.std(), 1e-9))]
    return out[0], out[1], out[2], out[3]


def taste_basis(ds: Dataset) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """What a ``taste`` path stores from the catalogue it is fitted on: the centre
    (:func:`catalogue_centre`) and the shoppers' coherence scale (:func:`taste_scale`)."""
    centre = catalogue_centre(ds.features)
    return centre, taste_scale(ds.train, centred_units(ds.features, centre))


def taste_weights(
    train: sp.spmatrix, units: list[np.ndarray], scale: tuple[float, ...], sharpness: float
) -> np.ndarray:
    """Each shopper's image weight ``w_u = σ(κ (z_u^img − z_u^txt))``."""
    coherence = [history_coherence(train, x) for x in units]
    return _taste_weights(coherence, scale, sharpness)


def _taste_weights(
    coherence: list[np.ndarray], scale: tuple[float, ...], sharpness: float
) -> np.ndarray:
    z = [(p - scale[2 * k]) / scale[2 * k + 1] for k, p in enumerate(coherence)]
    return (1.0 / (1.0 + np.exp(-sharpness * (z[0] - z[1])))).astype(np.float32)


@dataclass(frozen=True)
class RawScore:
    """``r(u, i) = users[u] · items[i]`` (U×D and I×D)."""

    users: np.ndarray
    items: np.ndarray


@dataclass(frozen=True)
class ContentParts:
    """``r(u, i) = Σ_j R̂_uj [w_img[u] · img_j · img_i + w_txt[u] · txt_j · txt_i]``."""

    image: np.ndarray
    text: np.ndarray
    w_image: np.ndarray
    w_text: np.ndarray
    #: each shopper's mean image and text vector of their purchases
    profiles: tuple[np.ndarray, np.ndarray]


def content_parts(cold: ColdStart, ds: Dataset) -> ContentParts:
    """The two modalities of the ``content`` or ``taste`` score of ``cold`` on ``ds``."""
    _require_image_and_text(ds.features)
    if cold.mechanism == TASTE:
        assert cold.centre is not None and cold.taste_scale is not None
        units = centred_units(ds.features, cold.centre)
        train = sp.csr_matrix(ds.train, dtype=np.float32)
        n = np.asarray(train.sum(axis=1)).ravel()
        sums = [np.asarray(train @ x) for x in units]  # one product serves both uses
        w = _taste_weights([_coherence(t, n) for t in sums], cold.taste_scale, cold.sharpness)
        inv = np.where(n > 0, 1.0 / np.maximum(n, 1), 0.0).astype(np.float32)[:, None]
        profiles = (sums[0] * inv, sums[1] * inv)
        return ContentParts(units[0], units[1], w, (1.0 - w).astype(np.float32), profiles)
    w = np.full(ds.n_users, cold.image_weight, dtype=np.float32)
    img, txt = (_unit_rows(ds.features[m]) for m in (IMAGE, TEXT))
    weights = history_weights(ds.train)
    profiles = (np.asarray(weights @ img), np.asarray(weights @ txt))
    return ContentParts(img, txt, w, (1.0 - w).astype(np.float32), profiles)


def parts_score(parts: ContentParts) -> RawScore:
    """The factor matrices of a :class:`ContentParts` score."""
    q_img, q_txt = parts.profiles
    users = np.hstack([parts.w_image[:, None] * q_img, parts.w_text[:, None] * q_txt])
    return RawScore(users.astype(np.float32), np.hstack([parts.image, parts.text]))


def routed_items(train: sp.spmatrix, threshold: int) -> np.ndarray:
    """Boolean mask of the items with at most ``threshold`` train purchases."""
    counts = np.asarray(sp.csr_matrix(train).sum(axis=0)).ravel()
    return counts <= threshold


# ---------------------------------------------------------------------- the calibrated map
def raw_score(
    cold: ColdStart, emb: Embeddings, ds: Dataset, parts: ContentParts | None = None
) -> RawScore:
    """The mechanism's raw content score as two factor matrices (``parts``: the
    :func:`content_parts` of ``cold`` on ``ds``, when the caller has them)."""
    if cold.mechanism in (CONTENT, TASTE):
        return parts_score(content_parts(cold, ds) if parts is None else parts)
    content = content_vectors(ds.features, cold.image_weight)
    assert cold.generator is not None
    if cold.generator.shape[0] != content.shape[1]:
        raise ConfigError(
            f"the stored generator reads {cold.generator.shape[0]}-d content but this dataset's "
            f"is {content.shape[1]}-d; refit the cold-start path."
        )
    users = emb.users.detach().to("cpu", torch.float32).numpy()
    return RawScore(users, content @ cold.generator)


def stat_items(n_items: int, routed: np.ndarray) -> np.ndarray:
    """The items the score statistics are read over: the unrouted ones (all when none),
    at most :data:`STAT_ITEMS` of them (a fixed draw, so a model's figures never move)."""
    pool = np.flatnonzero(~routed) if (~routed).any() else np.arange(n_items)
    if len(pool) > STAT_ITEMS:
        pool = np.sort(np.random.default_rng(0).choice(pool, STAT_ITEMS, replace=False))
    return pool


#: Items at the top of each shopper's scores the ``tail`` calibration reads.
TAIL = 50


@dataclass(frozen=True)
class Moments:
    """Per shopper: mean and spread of the model's scores (``mu``, ``sigma``) and of the raw
    content score (``m``, ``s``) over the same catalogue items."""

    mu: np.ndarray
    sigma: np.ndarray
    m: np.ndarray
    s: np.ndarray


def _mean_sd(x: torch.Tensor, calibration: str) -> tuple[np.ndarray, np.ndarray]:
    if calibration == TAIL_CALIBRATION:
        x = torch.topk(x, min(TAIL, x.shape[1]), dim=1).values
    if calibration == GLOBAL:
        mean, sd = x.mean().expand(x.shape[0]), x.std(correction=0).expand(x.shape[0])
    else:
        mean, sd = x.mean(1), x.std(1, correction=0)
    return mean.double().numpy().copy(), sd.clamp_min(1e-9).double().numpy().copy()


def score_moments(calibration: str, model: np.ndarray, content: np.ndarray) -> Moments:
    """:class:`Moments` of both scores (``model``, ``content``: U × P, the same P items)."""
    mu, sigma = _mean_sd(torch.from_numpy(model), calibration)
    m, s = _mean_sd(torch.from_numpy(content), calibration)
    return Moments(mu, sigma, m, s)


@dataclass(frozen=True)
class Affine:
    """Per shopper: ``cold(u, i) = alpha[u] · r(u, i) + beta[u]``."""

    alpha: np.ndarray
    beta: np.ndarray


def affine(mom: Moments, spread: float, shift: float, empty: np.ndarray) -> Affine:
    """``cold = μ_u + σ_u (spread · (r − m_u) / s_u + shift)`` as ``α_u r + β_u``; a shopper
    with no history (``empty``) has no content signal: routed items go to the bottom."""
    alpha = spread * mom.sigma / mom.s
    beta = mom.mu - alpha * mom.m + shift * mom.sigma
    alpha[empty] = 0.0
    beta[empty] = mom.mu[empty] - 50.0 * mom.sigma[empty]
    return Affine(alpha.astype(np.float32), beta.astype(np.float32))


def _calibrate(
    cold: ColdStart,
    users: np.ndarray,
    items: np.ndarray,
    raw: RawScore,
    routed: np.ndarray,
    rows: np.ndarray | None = None,
) -> Affine:
    pool = stat_items(items.shape[0], routed)
    if rows is None or cold.calibration == GLOBAL:  # one pair for everybody reads everybody
        empty = ~np.abs(raw.users).any(axis=1)
        mom = score_moments(cold.calibration, users @ items[pool].T, raw.users @ raw.items[pool].T)
        return affine(mom, cold.spread, cold.shift, empty)
    sub_raw = raw.users[rows]
    mom = score_moments(cold.calibration, users[rows] @ items[pool].T, sub_raw @ raw.items[pool].T)
    sub = affine(mom, cold.spread, cold.shift, ~np.abs(sub_raw).any(axis=1))
    alpha = np.full(len(users), np.nan, dtype=np.float32)  # rows not asked for: no number
    beta = np.full(len(users), np.nan, dtype=np.float32)
    alpha[rows], beta[rows] = sub.alpha, sub.beta
    return Affine(alpha, beta)


def calibrated(
    cold: ColdStart,
    emb: Embeddings,
    ds: Dataset,
    rows: np.ndarray | None = None,
    parts: ContentParts | None = None,
) -> tuple[RawScore, Affine, np.ndarray]:
    """(raw score factors, per-shopper affine map, routed mask) of ``cold`` on ``emb``.

    With ``rows`` (shoppers), a per-shopper map is computed for those shoppers only (the
    others' entries are NaN): an explanation of one shopper then costs one row. ``parts``:
    as :func:`raw_score`."""
    routed = routed_items(ds.train, cold.threshold)
    users = emb.users.detach().to("cpu", torch.float32).numpy()
    items = emb.items.detach().to("cpu", torch.float32).numpy()
    raw = raw_score(cold, emb, ds, parts)
    rows = None if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    return raw, _calibrate(cold, users, items, raw, routed, rows), routed


def apply_cold_start(cold: ColdStart, emb: Embeddings, ds: Dataset) -> Embeddings:
    """``emb`` with the routed items scored by the cold-start path (augmented embeddings).

    ``users' = [h_u, α_u q_u, β_u]`` and ``items' = [h_i, 0, 0]`` for an item kept,
    ``[0, v_i, 1]`` for a routed one; the branches and spaces are the model's (the
    explanations of a routed item read :func:`anchorrec.analysis.cold_explain` instead).
    """
    if cold.dataset_fingerprint and not ds.fingerprint.startswith(cold.dataset_fingerprint):
        raise ConfigError(
            f"the cold-start calibration was fitted on dataset {cold.dataset_fingerprint}, not "
            f"{ds.fingerprint}; refit it for this dataset."
        )
    raw, aff, routed = calibrated(cold, emb, ds)
    if not routed.any():
        return emb
    users = emb.users.detach().to("cpu", torch.float32).numpy()
    items = emb.items.detach().to("cpu", torch.float32).numpy()
    keep = (~routed).astype(np.float32)[:, None]
    cold_col = routed.astype(np.float32)[:, None]
    new_users = np.hstack([users, aff.alpha[:, None] * raw.users, aff.beta[:, None]])
    new_items = np.hstack([items * keep, raw.items * cold_col, cold_col])
    device, dtype = emb.users.device, emb.users.dtype
    return dataclasses.replace(
        emb,
        users=torch.from_numpy(np.ascontiguousarray(new_users)).to(device, dtype),
        items=torch.from_numpy(np.ascontiguousarray(new_items)).to(device, dtype),
    )


# ---------------------------------------------------------------------- stored with the model
def read_cold_start(model_dir: ModelDir, ds: Dataset) -> ColdStart | None:
    """The stored calibration of the model in ``model_dir`` for ``ds``, or None (none
    fitted, written for another model or dataset, or unreadable)."""
    data = model_dir.store().read_json(COLD_START_FILE, COLD_START_FORMAT)
    if data is None:
        return None
    try:
        cold = ColdStart.from_json(data, str(model_dir.path / COLD_START_FILE))
    except ConfigError:
        return None
    if cold.dataset_fingerprint and cold.dataset_fingerprint != ds.fingerprint:
        return None
    return cold


def write_cold_start(model_dir: ModelDir, cold: ColdStart) -> None:
    """Store ``cold`` beside the model (atomic write, tagged with the model's fingerprint)."""
    model_dir.store().write_json(COLD_START_FILE, COLD_START_FORMAT, cold.to_json())


def with_cold_start(loaded: LoadedModel, on: bool) -> LoadedModel:
    """``loaded`` ranking through its cold-start path (``on``) or as published (off)."""
    if on:
        return loaded
    return dataclasses.replace(loaded, cold_start=None)


def ranking_embeddings(loaded: LoadedModel) -> Embeddings:
    """The embeddings the product ranks by: the model's, through its cold-start path when
    one is attached (see :func:`with_cold_start`)."""
    emb = loaded.model.eval_embeddings()
    if loaded.cold_start is None or loaded.model.id_only:
        return emb
    return apply_cold_start(loaded.cold_start, emb, loaded.dataset)


def routed_mask(loaded: LoadedModel) -> np.ndarray:
    """Which items ``loaded`` ranks through the cold-start path (all False when off)."""
    if loaded.cold_start is None or loaded.model.id_only:
        return np.zeros(loaded.dataset.n_items, dtype=bool)
    return routed_items(loaded.dataset.train, loaded.cold_start.threshold)
