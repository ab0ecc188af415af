"""New-product preview: who a product that nobody has bought yet would reach, and why.

A merchandiser gives a photo and the copy (title, description, category). They are encoded
with the offline encoders exactly as the catalogue import encodes a catalogue (the picture
through :mod:`anchorrec.encoders.image`, the text of :func:`anchorrec.data.items.encoder_texts`
through :mod:`anchorrec.encoders.text`), the item is placed in the model's catalogue with
:meth:`anchorrec.models.base.Recommender.place_items` (no interactions; the ID embedding of an
unseen item, the mean of the catalogue's item ID embeddings, the same rule input attribution
uses for a removed ID; every content kNN graph rebuilt with it inside), and every shopper's
score and rank of it come from that placed model, as if the item had been in the catalogue.
A product nobody has bought is ranked the way the product ranks it: through the model's
cold-start path when one is stored (:mod:`anchorrec.models.cold_start`; its explanation is
then the content scorer's own, :mod:`anchorrec.analysis.cold_explain`), else as the
published model ranks it (the ID-gated views leave it where the mean ID embedding puts it).

- :func:`encode_product` → :class:`ProductFeatures` (once per product, shared by variants);
- :func:`preview_item` → :class:`Preview`: the audience (shoppers whose top-K it enters),
  the rank distribution, the audience by segment (shopper group, past categories), the
  input-level attribution of its score for the audience, its nearest existing items in
  each space;
- edit mode (an existing item with a new copy or photo) lives in
  :mod:`anchorrec.analysis.preview_edit`.

A model that reads no item content (``id_only``) cannot rank an item by its content; its
preview says so (:attr:`Preview.can_rank` False and :attr:`Preview.reason`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from anchorrec.analysis.attribution import (
    Attribution,
    attribute,
    build_coalition_cache,
    describe_recommendation,
)
from anchorrec.analysis.cold_explain import ContentReason, explain_routed
from anchorrec.analysis.spaces import SPACE_ORDER, normalise_rows
from anchorrec.data.dataset import FUSED, IMAGE, TEXT, Dataset
from anchorrec.data.items import encoder_texts, item_title
from anchorrec.errors import AnchorRecError, ConfigError
from anchorrec.models.cold_start import ROUTED_LABEL, ranking_embeddings, routed_mask

if TYPE_CHECKING:
    from PIL import Image

    from anchorrec.models.checkpoint import LoadedModel

#: Largest photo accepted (bytes); the decoder also refuses decompression bombs.
MAX_PHOTO_BYTES = 20 * 1024 * 1024
#: Default top-K a shopper must have the item in to count in its audience.
DEFAULT_K = 20
#: Nearest existing items listed per space.
NEIGHBOURS = 5
#: Most audience members whose scores are attributed (the best-ranked first).
MAX_ATTRIBUTED = 2000
#: The spaces that are functions of an item's content alone (no ID embedding, no purchases):
#: a product with an existing item's photo and copy lands exactly on it there. The modality
#: views (``image_view`` …) are gated by the ID embedding, so a new product (the unseen ID)
#: lands where the gate puts it, not necessarily on the item whose content it copies.
CONTENT_SPACES: tuple[str, ...] = (
    "raw_image",
    "raw_text",
    "raw_fused",
    "anchor_image",
    "anchor_text",
    "anchor_mixup",
)
#: How an unseen item's ID embedding is chosen (said on every preview).
UNSEEN_ID_RULE = (
    "an unseen item's ID embedding is the mean of the catalogue's item ID embeddings (the "
    "attribution's rule for a removed ID) and it has no purchases"
)
GROUP_COLUMN = "group"
CATEGORY_COLUMN = "category"


class PreviewInputError(AnchorRecError):
    """A product to preview has a bad field (``field``: ``image``, ``title``, ``description``…)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


# ---------------------------------------------------------------------- the product
@dataclass(frozen=True)
class NewProduct:
    """What a merchandiser writes: the copy and the photo (a path, or the file's bytes)."""

    title: str
    description: str
    category: str | None = None
    image: str | os.PathLike[str] | bytes | None = None


@dataclass(frozen=True)
class ProductFeatures:
    """A product's encoded content: one raw row per modality and the copy it came from."""

    features: dict[str, np.ndarray]
    title: str
    description: str
    category: str | None
    text: str

    def row(self) -> dict[str, Any]:
        """The product as an ``items.csv`` row (title, description, category)."""
        return {"title": self.title, "description": self.description, "category": self.category}


def check_copy(title: str | None, description: str | None) -> tuple[str, str]:
    """Title and description stripped; :class:`PreviewInputError` naming an empty one."""
    out = []
    for name, value in (("title", title), ("description", description)):
        text = "" if value is None else str(value).strip()
        if not text:
            raise PreviewInputError(name, f"the product's {name} is empty; write one.")
        out.append(text)
    return out[0], out[1]


def read_photo(image: str | os.PathLike[str] | bytes) -> Image.Image:
    """The photo decoded as RGB, as the catalogue import decodes one; a bad photo raises
    :class:`PreviewInputError` (field ``image``) saying why."""
    from anchorrec.encoders.image import open_image

    if isinstance(image, bytes | bytearray):
        if len(image) > MAX_PHOTO_BYTES:
            raise PreviewInputError(
                "image",
                f"the photo is {len(image) / 1e6:.1f} MB; the limit is "
                f"{MAX_PHOTO_BYTES / 1e6:.0f} MB. Save a smaller JPEG or PNG.",
            )
        return _open_bytes(bytes(image))
    path = Path(image)
    try:
        if path.is_file() and path.stat().st_size > MAX_PHOTO_BYTES:
            raise PreviewInputError(
                "image",
                f"{path}: {path.stat().st_size / 1e6:.1f} MB, over the "
                f"{MAX_PHOTO_BYTES / 1e6:.0f} MB limit. Save a smaller JPEG or PNG.",
            )
        return open_image(path)
    except ValueError as exc:
        raise PreviewInputError("image", f"{path}: {exc}.") from None


def _open_bytes(data: bytes) -> Image.Image:
    import tempfile

    from anchorrec.encoders.image import open_image

    # through a file so that the same checks as the import apply (empty, bomb, corrupt)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo"
        path.write_bytes(data)
        try:
            return open_image(path)
        except ValueError as exc:
            raise PreviewInputError("image", f"the uploaded photo: {exc}.") from None


def product_text(title: str, description: str, category: str | None) -> str:
    """The text the text encoder reads for the product (the catalogue's one rule)."""
    row = {"title": title, "category": category or "", "description": description}
    return encoder_texts(pd.DataFrame([row]))[0]


def encode_product(product: NewProduct, device: str = "cpu") -> ProductFeatures:
    """Encode ``product``'s photo and copy with the offline encoders (image and text rows)."""
    from anchorrec.encoders.image import ImageEncoder
    from anchorrec.encoders.text import TextEncoder

    title, description = check_copy(product.title, product.description)
    if product.image is None:
        raise PreviewInputError("image", "no photo given; a new product needs its photo.")
    picture = read_photo(product.image)
    category = (product.category or "").strip() or None
    text = product_text(title, description, category)
    image_row = ImageEncoder(device).encode_images([picture])
    text_row = TextEncoder(device).encode([text])
    return ProductFeatures({IMAGE: image_row, TEXT: text_row}, title, description, category, text)


def _check_item(ds: Dataset, item: int) -> None:
    if not 0 <= int(item) < ds.n_items:
        raise ConfigError(f"item {item} does not exist; item ids run from 0 to {ds.n_items - 1}.")


# ---------------------------------------------------------------------- placing the item
def placed_model(
    loaded: LoadedModel,
    product: ProductFeatures | dict[str, np.ndarray],
    items: np.ndarray | None = None,
    *,
    fresh: bool = True,
) -> LoadedModel:
    """``loaded`` with the product placed in its catalogue (see ``Recommender.place_items``).

    Appended (``items`` None) as item ``n_items``, or replacing the content of ``items``
    (``fresh``: as if never seen: no train purchases, the unseen ID embedding). The
    returned model's dataset matches it (features, train split, items.csv row).
    """
    feats = product.features if isinstance(product, ProductFeatures) else product
    model = loaded.model
    placed = model.place_items(feats, items, fresh=fresh)
    placed.eval()
    ds = loaded.dataset
    n_new = int(placed.n_items - ds.n_items)
    features = {}
    raw = getattr(placed, "_raw", {})
    for m, x in ds.features.items():
        if m in raw:
            features[m] = raw[m]
        elif m == FUSED:  # shipped but unused by this model: derived for the placed rows too
            from anchorrec.data.features import build_fused_features

            features[m] = build_fused_features(raw[IMAGE], raw[TEXT])
        else:
            features[m] = x
    train, valid, test = ds.train, ds.valid, ds.test
    items_df = ds.items
    if n_new:
        pad = sp.csr_matrix((ds.n_users, n_new), dtype=np.float32)
        train, valid, test = (sp.hstack([m, pad]).tocsr() for m in (train, valid, test))
        if items_df is not None:
            row = product.row() if isinstance(product, ProductFeatures) else {}
            extra = pd.DataFrame(
                [{"item_id": ds.n_items + j, **row} for j in range(n_new)],
            )
            items_df = pd.concat([items_df, extra], ignore_index=True)
    else:
        train = sp.csr_matrix(getattr(placed, "_train", train), dtype=np.float32)
        if items_df is not None and isinstance(product, ProductFeatures) and items is not None:
            items_df = items_df.copy()
            for column, value in product.row().items():
                if column in items_df.columns:
                    items_df[column] = items_df[column].astype(object)
                    items_df.loc[np.asarray(items, dtype=np.int64), column] = value
    placed_ds = dataclasses.replace(
        ds,
        n_items=int(placed.n_items),
        train=train,
        valid=valid,
        test=test,
        features=features,
        items=items_df,
        fingerprint=f"{ds.fingerprint}+placed",
    )
    return dataclasses.replace(loaded, model=placed, dataset=placed_ds, model_dir=None)


@torch.no_grad()
def item_ranks(
    users: torch.Tensor, items: torch.Tensor, train: sp.csr_matrix, item: int, batch: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """Every user's score of ``item`` and its rank (1 = best) among the user's unseen items.

    Rank is one plus the number of unseen items scored strictly higher; a user who already
    bought ``item`` gets rank 0.
    """
    n_users = users.shape[0]
    scores = np.zeros(n_users, dtype=np.float64)
    ranks = np.zeros(n_users, dtype=np.int64)
    item_t = items.T.contiguous()
    train = train.tocsr()
    for start in range(0, n_users, batch):
        stop = min(start + batch, n_users)
        s = users[start:stop] @ item_t
        sub = train[start:stop].tocoo()
        if sub.nnz:
            s[torch.as_tensor(sub.row), torch.as_tensor(sub.col)] = -torch.inf
        own = s[:, item].clone()
        higher = (s > own[:, None]).sum(1)
        seen = torch.isinf(own)
        r = (higher + 1).masked_fill(seen, 0)
        ranks[start:stop] = r.cpu().numpy()
        full = users[start:stop] @ items[item]
        scores[start:stop] = full.double().cpu().numpy()
    return scores, ranks


# ---------------------------------------------------------------------- segments
def shopper_segments(ds: Dataset, max_categories: int = 30) -> list[tuple[str, str, np.ndarray]]:
    """(kind, name, shopper ids) of every segment: ``users.csv``'s ``group`` column when it
    has one, and each past category (the shoppers with a train purchase in it)."""
    out: list[tuple[str, str, np.ndarray]] = []
    if ds.users is not None and GROUP_COLUMN in ds.users.columns:
        groups = ds.users[GROUP_COLUMN].astype(str).to_numpy()[: ds.n_users]
        for g in sorted(set(groups)):
            out.append(("shopper group", g, np.flatnonzero(groups == g)))
    if ds.items is not None and CATEGORY_COLUMN in ds.items.columns:
        cats = ds.items[CATEGORY_COLUMN].fillna("").astype(str).to_numpy()
        train = ds.train.tocsc()
        names = [c for c in pd.Series(cats).value_counts().index if c][:max_categories]
        for c in sorted(names):
            cols = np.flatnonzero(cats == c)
            buyers = np.unique(train[:, cols].tocoo().row)
            if len(buyers):
                out.append(("bought before", c, buyers))
    return out


def segment_table(ds: Dataset, ranks: np.ndarray, k: int) -> pd.DataFrame:
    """Per segment: shoppers, audience (rank 1..k), share reached, median rank."""
    rows = []
    everyone = ("all shoppers", "all", np.arange(len(ranks)))
    for kind, name, users in [everyone, *shopper_segments(ds)]:
        r = ranks[users]
        unseen = r[r > 0]
        hit = (r > 0) & (r <= k)
        rows.append(
            {
                "segment": kind,
                "name": name,
                "shoppers": len(users),
                "audience": int(hit.sum()),
                "share": float(hit.mean()) if len(users) else 0.0,
                "median_rank": float(np.median(unseen)) if len(unseen) else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def rank_distribution(ranks: np.ndarray, k: int, n_items: int) -> pd.DataFrame:
    """How many shoppers rank the item in each band (``1–K``, then wider bands)."""
    edges = sorted({k, 2 * k, 5 * k, 10 * k, 50 * k, n_items})
    edges = [e for e in edges if e <= n_items] or [n_items]
    rows, low = [], 1
    r = ranks[ranks > 0]
    for high in edges:
        rows.append({"ranks": f"{low}–{high}", "shoppers": int(((r >= low) & (r <= high)).sum())})
        low = high + 1
    rows.append({"ranks": "already bought", "shoppers": int((ranks == 0).sum())})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- the results
@dataclass(frozen=True)
class Preview:
    """One variant's preview of one new product.

    ``scores`` / ``ranks`` have one entry per shopper (``ranks``: 1 = top of the shopper's
    unseen items, in the catalogue with the product placed; 0 never happens for a new item).
    ``audience`` are the shoppers with rank ≤ ``k``. ``attribution`` covers the best-ranked
    :data:`MAX_ATTRIBUTED` of them (input level, the mean game). ``neighbours`` maps a space
    to the nearest existing items (``item``, ``title``, ``cosine``, ``rank``).
    """

    variant: str
    k: int
    can_rank: bool
    reason: str = ""
    item: int = -1
    n_items: int = 0
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ranks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    distribution: pd.DataFrame = field(default_factory=pd.DataFrame)
    attribution: Attribution | None = None
    neighbours: dict[str, pd.DataFrame] = field(default_factory=dict)
    placed: Any = None
    #: each content kNN graph's neighbours of the product (existing items, heaviest edge first)
    graph_neighbours: dict[str, np.ndarray] = field(default_factory=dict)
    #: the coalition cache of the placed model (the attribution's forward passes)
    coalitions: Any = None
    #: ranked by the cold-start path (its explanations are :attr:`reasons`, not attribution)
    routed: bool = False
    #: the content scorer's exact explanation for the best-ranked audience (routed only)
    reasons: list[ContentReason] = field(default_factory=list)

    @property
    def audience(self) -> np.ndarray:
        """Shopper ids whose top-``k`` the product enters, best-ranked first."""
        if not self.can_rank:
            return np.zeros(0, dtype=np.int64)
        hit = np.flatnonzero((self.ranks > 0) & (self.ranks <= self.k))
        return hit[np.lexsort((hit, self.ranks[hit]))]

    def audience_table(self, ds: Dataset | None = None) -> pd.DataFrame:
        """One row per audience shopper: ``user``, ``rank``, ``score`` (and ``group``)."""
        users = self.audience
        out = pd.DataFrame({"user": users, "rank": self.ranks[users], "score": self.scores[users]})
        if ds is not None and ds.users is not None and GROUP_COLUMN in ds.users.columns:
            out["group"] = ds.users[GROUP_COLUMN].astype(str).to_numpy()[users]
        return out

    def attribution_shares(self) -> pd.DataFrame:
        """Mean share ``|φ|/Σ|φ|`` and mean signed φ of each input over the attributed audience
        (for a routed product: image and text of the content scorer's exact split)."""
        if self.routed:
            img = np.array([abs(r.image_total) for r in self.reasons])
            txt = np.array([abs(r.text_total) for r in self.reasons])
            tot = np.maximum(img + txt, 1e-12)
            signed = [
                np.mean([getattr(r, f"{m}_total") for r in self.reasons]) for m in ("image", "text")
            ]
            return pd.DataFrame(
                {
                    "input": ["image (content path)", "text (content path)"],
                    "mean_share": [float((img / tot).mean()), float((txt / tot).mean())]
                    if len(img)
                    else [0.0, 0.0],
                    "mean_phi": signed if len(img) else [0.0, 0.0],
                }
            )
        a = self.attribution
        if a is None or not len(a):
            return pd.DataFrame(columns=["input", "mean_share", "mean_phi"])
        return pd.DataFrame(
            {
                "input": list(a.players),
                "mean_share": a.shares.mean(axis=1),
                "mean_phi": a.values.mean(axis=1),
            }
        )

    def why(self, user: int) -> str:
        """One sentence on why ``user`` ranks the product where it does (any shopper)."""
        if not self.can_rank:
            return self.reason
        if self.routed and self.placed is not None:
            found = [r for r in self.reasons if r.user == int(user)]
            reason = (
                found[0] if found else explain_routed(self.placed, np.array([user]), self.item)[0]
            )
            return reason.sentence(self.placed.dataset).replace(
                "Ranked", "The new product is ranked", 1
            )
        if self.attribution is not None and int(user) in set(self.attribution.users.tolist()):
            j = int(np.flatnonzero(self.attribution.users == int(user))[0])
            a = self.attribution
        else:
            a = explain_shopper(self, int(user))
            j = 0
        row = {"item": self.item, "rank": int(self.ranks[int(user)]), **a.record(j)}
        row.update({f"phi_{p}": row["attribution"][p] for p in a.players})
        text = describe_recommendation(row, a.players)
        return text.replace(f"Item #{self.item}", "The new product", 1)

    def to_json(self, ds: Dataset | None = None, shoppers: int = 50) -> dict[str, Any]:
        """A JSON-ready summary (the CLI's ``--json``)."""
        out: dict[str, Any] = {"variant": self.variant, "k": self.k, "can_rank": self.can_rank}
        if not self.can_rank:
            out["reason"] = self.reason
            return out
        aud = self.audience_table(ds)
        out.update(
            {
                "unseen_id_rule": UNSEEN_ID_RULE,
                "ranked_by": ROUTED_LABEL if self.routed else "the model (published ranking)",
                "routed": self.routed,
                "why_first": [r.sentence(ds) + f" (shopper {r.user})" for r in self.reasons[:3]],
                "catalogue_items": self.n_items,
                "audience_size": int(len(aud)),
                "audience": aud.head(shoppers).to_dict(orient="records"),
                "rank_quantiles": {
                    str(q): float(np.quantile(self.ranks, q)) for q in (0.1, 0.25, 0.5, 0.75, 0.9)
                },
                "rank_distribution": self.distribution.to_dict(orient="records"),
                "segments": self.segments.to_dict(orient="records"),
                "attribution": self.attribution_shares().to_dict(orient="records"),
                "neighbours": {s: t.to_dict(orient="records") for s, t in self.neighbours.items()},
            }
        )
        return out


def explain_shopper(preview: Preview, user: int) -> Attribution:
    """Input-level attribution of ``user``'s score of the previewed product."""
    if not preview.can_rank or preview.placed is None:
        raise ConfigError(preview.reason or "this preview has no model to explain.")
    if not 0 <= int(user) < len(preview.ranks):
        raise ConfigError(f"user {user} does not exist (users 0..{len(preview.ranks) - 1}).")
    cache = preview.coalitions or build_coalition_cache(preview.placed)
    return attribute(cache, int(user), np.array([preview.item]), standardised=False)


def cannot_rank(loaded: LoadedModel, k: int) -> Preview:
    """The preview of a model that reads no item content: it cannot rank a new product."""
    return Preview(
        variant=loaded.variant,
        k=k,
        can_rank=False,
        reason=(
            f"{loaded.variant} reads only the purchase history: a product nobody has bought "
            "has no signal in it, so this model cannot rank it (it would never show it)."
        ),
    )


def nearest_items(
    spaces: dict[str, torch.Tensor], item: int, n_catalogue: int, ds: Dataset, n: int = NEIGHBOURS
) -> dict[str, pd.DataFrame]:
    """The ``n`` nearest existing items (ids below ``n_catalogue``) of ``item`` in each space."""
    out = {}
    order = [s for s in SPACE_ORDER if s in spaces] + sorted(set(spaces) - set(SPACE_ORDER))
    for name in order:
        x = spaces[name].detach().to("cpu", torch.float32).numpy()
        if x.shape[0] <= item:
            continue
        xn = normalise_rows(x[:n_catalogue])
        q = normalise_rows(x[item : item + 1])[0]
        sims = xn @ q
        if item < n_catalogue:
            sims[item] = -np.inf
        top = np.argsort(-sims, kind="stable")[:n]
        out[name] = pd.DataFrame(
            {
                "item": top.astype(np.int64),
                "title": [item_title(ds.items, int(i)) or f"item {int(i)}" for i in top],
                "cosine": sims[top],
                "rank": np.arange(1, len(top) + 1),
            }
        )
    return out


def preview_item(
    loaded: LoadedModel,
    product: ProductFeatures,
    k: int = DEFAULT_K,
    *,
    explain: bool = True,
    neighbours: int = NEIGHBOURS,
) -> Preview:
    """Place ``product`` in ``loaded``'s catalogue as a new item and score it for every shopper."""
    if k < 1:
        raise ConfigError(f"k must be >= 1 (got {k}).")
    if loaded.model.id_only:
        return cannot_rank(loaded, k)
    ds = loaded.dataset
    placed = placed_model(loaded, product)
    item = ds.n_items
    emb = ranking_embeddings(placed)
    scores, ranks = item_ranks(emb.users, emb.items, placed.dataset.train, item)
    routed = bool(routed_mask(placed)[item])
    result = Preview(
        variant=loaded.variant,
        k=k,
        can_rank=True,
        item=item,
        n_items=int(placed.model.n_items),
        scores=scores,
        ranks=ranks,
        segments=segment_table(ds, ranks, k),
        distribution=rank_distribution(ranks, k, int(placed.model.n_items)),
        neighbours=nearest_items(emb.spaces, item, ds.n_items, placed.dataset, neighbours)
        if neighbours
        else {},
        placed=placed,
        graph_neighbours=_graph_neighbours(placed.model, item),
        routed=routed,
    )
    if explain and routed:  # its own game: the content scorer's exact split
        users = result.audience[:MAX_ATTRIBUTED]
        return dataclasses.replace(result, reasons=explain_routed(placed, users, item))
    if explain:
        users = result.audience[:MAX_ATTRIBUTED]
        cache = build_coalition_cache(placed)
        result = dataclasses.replace(
            result,
            coalitions=cache,
            attribution=attribute(
                cache, users, np.full(len(users), item), ranks=ranks[users], standardised=False
            ),
        )
    return result


def _graph_neighbours(model: object, item: int) -> dict[str, np.ndarray]:
    """``item``'s neighbours in each content view's kNN graph (a multimodal model's; none for
    another)."""
    from anchorrec.models.multimodal import MultimodalRecommender

    return model.graph_neighbours(item) if isinstance(model, MultimodalRecommender) else {}
