"""The New product page's parts: the product form, each variant's audience, the why, the
nearest existing items. The computing is :mod:`anchorrec.analysis.preview`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from anchorrec.analysis import preview as pv
from anchorrec.data.dataset import Dataset
from anchorrec.models.checkpoint import LoadedModel
from anchorrec.photos import read_photo_file
from anchorrec.ui.images import item_image_path, item_title, show_item_card
from anchorrec.ui.show import table
from anchorrec.ui.text import md, plain

UPLOAD, CATALOGUE = "Upload a photo", "Pick a catalogue photo"
#: Uploads above this are refused with a message (the library's own cap).
MAX_UPLOAD_MB = pv.MAX_PHOTO_BYTES // (1024 * 1024)
#: Spaces offered for the nearest items, the content-only ones first.
NEAREST_FIRST = pv.CONTENT_SPACES
SPACE_WORDS = {
    "raw_image": "photo (raw image feature)",
    "raw_text": "copy (raw text feature)",
    "raw_fused": "photo + copy (fused feature)",
    "final": "final vectors (what ranks)",
}
#: Where ``python -m bench.research.preview_recall`` records how previews predicted launches.
RECALL_RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "preview_recall.jsonl"
PAST_LAUNCHES = (
    "Each new arrival of the dataset was previewed from its photo and copy alone (its few "
    "train purchases and its trained ID embedding removed) and the prediction compared with "
    "the shoppers who really bought it later (valid and test). *Top-20 recall*: the share of "
    "those buyers whose top-20 it entered; *top-200 recall*: the share among the 200 "
    "shoppers the preview ranks it best for; AUC 0.5 is chance. Intervals and the protocol: "
    "docs/preview.md."
)


def past_launch_table(dataset_name: str, path: Path = RECALL_RESULTS) -> pd.DataFrame | None:
    """The newest recorded preview-vs-launch figures of ``dataset_name`` (seed 0, one row per
    ranker; None when none were recorded for it)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    latest: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("data") != dataset_name or row.get("target") != "valid+test":
            continue
        if row.get("seed") != 0 or row.get("variant", "").startswith("active@"):
            continue
        if row.get("protocol") == "item" or row["variant"] not in latest:
            latest[row["variant"]] = row  # the one-at-a-time preview where there is one
    if not latest:
        return None
    return pd.DataFrame(
        [
            {
                "ranker": v,
                "top-20 recall %": None if r.get("audience_rule") else 100 * r["recall"],
                "top-200 recall %": None if r.get("cannot_rank") else 100 * r["top_recall"],
                "AUC": None if r.get("cannot_rank") else r["auc"],
                "new arrivals": r["arrivals"],
            }
            for v, r in latest.items()
        ]
    )


@dataclass(frozen=True)
class ProductInput:
    """What the form holds: the copy and the photo's bytes (None when missing)."""

    title: str
    description: str
    category: str
    photo: bytes | None
    photo_name: str

    def digest(self) -> str:
        h = hashlib.sha256()
        for part in (self.title, self.description, self.category):
            h.update(part.encode() + b"\0")
        h.update(self.photo or b"")
        return h.hexdigest()[:16]


def _fill_from(ds: Dataset) -> None:
    """Copy the picked catalogue item's copy into the form's fields (a starting point)."""
    item = int(st.session_state["np_item"])
    row = ds.items.iloc[item] if ds.items is not None else pd.Series(dtype=object)
    for key, column in (("np_title", "title"), ("np_desc", "description"), ("np_cat", "category")):
        value = row.get(column) if column in row else ""
        st.session_state[key] = "" if value is None or value != value else str(value)


def product_form(ds: Dataset) -> ProductInput:
    """The photo (uploaded, or a catalogue item's) and the copy."""
    left, right = st.columns([1, 2])
    with left:
        source = st.radio("Photo", (UPLOAD, CATALOGUE), horizontal=True, key="np_source")
        photo, name = None, ""
        if source == UPLOAD:
            up = st.file_uploader(
                f"Product photo (JPEG, PNG or WebP, at most {MAX_UPLOAD_MB} MB)",
                type=["jpg", "jpeg", "png", "webp"],
                key="np_upload",
            )
            if up is not None:
                photo, name = up.getvalue(), up.name
        else:
            item = st.selectbox(
                "Catalogue item",
                range(ds.n_items),
                format_func=lambda i: f"#{i} {item_title(ds, i)}",
                key="np_item",
                on_change=_fill_from,
                args=(ds,),
                help="Its photo is used; its copy fills the fields as a starting point.",
            )
            path = item_image_path(ds, int(item))
            if path is not None:
                try:  # the size is checked before a byte is read (a huge file is refused)
                    photo, name = read_photo_file(path, pv.MAX_PHOTO_BYTES), path.name
                except ValueError as exc:
                    st.warning(plain(f"{path.name}: {exc}."))
        if photo is not None and len(photo) <= pv.MAX_PHOTO_BYTES:
            data = thumbnail_bytes(photo)
            if data:
                st.image(data, width=160, caption=plain(name))
    with right:
        title = st.text_input("Title", key="np_title")
        description = st.text_area("Description", key="np_desc", height=100)
        category = st.text_input("Category (optional)", key="np_cat")
    return ProductInput(title, description, category, photo, name)


def thumbnail_bytes(photo: bytes) -> bytes | None:
    """A small JPEG of an uploaded photo (None when it cannot be decoded)."""
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():  # a decompression bomb is refused, never decoded
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im: Image.Image = Image.open(io.BytesIO(photo))
            im.draft("RGB", (320, 320))  # JPEG: decode at a reduced scale
            im = im.convert("RGB")
            im.thumbnail((320, 320))
            buf = io.BytesIO()
            im.save(buf, format="JPEG", quality=85)
            return buf.getvalue()
    except Exception:  # noqa: BLE001 - an undecodable upload: the encoder says why
        return None


def check(product: ProductInput) -> None:
    """Refuse a product with no photo or an empty copy (PreviewInputError names the field)."""
    pv.check_copy(product.title, product.description)
    if product.photo is None:
        raise pv.PreviewInputError("photo", "upload a photo or pick a catalogue item's.")


@st.cache_resource(show_spinner="Encoding the photo and copy…", max_entries=8)
def _encode(digest: str, _product: ProductInput) -> pv.ProductFeatures:
    return pv.encode_product(
        pv.NewProduct(_product.title, _product.description, _product.category, _product.photo)
    )


def encoded(product: ProductInput) -> pv.ProductFeatures:
    """The product encoded with the offline encoders (cached by its content)."""
    check(product)
    return _encode(product.digest(), product)


@st.cache_resource(show_spinner="Placing the product in the catalogue…", max_entries=8)
def _preview(
    fingerprint: str,
    digest: str,
    k: int,
    _loaded: LoadedModel,
    _features: pv.ProductFeatures,
    cold_start: bool = False,
) -> pv.Preview:
    return pv.preview_item(_loaded, _features, k)


def preview(loaded: LoadedModel, features: pv.ProductFeatures, digest: str, k: int) -> pv.Preview:
    """:func:`anchorrec.analysis.preview.preview_item`, cached per model, product, K and
    whether the cold-start path ranks it."""
    on = loaded.cold_start is not None
    return _preview(loaded.fingerprint, digest, k, loaded, features, on)


def show_audience(ds: Dataset, p: pv.Preview) -> None:
    """The audience count, its rank distribution and the audience by segment."""
    if not p.can_rank:
        st.info(plain(p.reason))
        return
    r = p.ranks
    st.metric(f"Shoppers with it in their top-{p.k}", f"{len(p.audience):,}")
    st.caption(
        f"Median rank {np.median(r):.0f} of {p.n_items} items (best {r.min()}, 10% of shoppers "
        f"at {np.quantile(r, 0.1):.0f} or better)."
    )
    seg = p.segments.rename(columns={"median_rank": "median rank", "share": "share reached"})
    seg["share reached"] = 100 * seg["share reached"]
    table(seg, key=f"np_seg_{p.variant}", formats={"share reached": "%.1f%%"}, height=240)
    with st.expander("Rank distribution"):
        table(p.distribution, key=f"np_dist_{p.variant}")


def shopper_choices(p: pv.Preview, n: int = 50) -> list[int]:
    """The audience first, then the best-ranked other shoppers (so there is always a choice)."""
    order = np.lexsort((np.arange(len(p.ranks)), p.ranks))
    return [int(u) for u in order[:n]]


def show_why(ds: Dataset, previews: dict[str, tuple[str, pv.Preview]]) -> None:
    """The why for one shopper under one variant: a sentence and each input's φ."""
    ranked = {n: v for n, v in previews.items() if v[1].can_rank}
    if not ranked:
        return
    st.subheader("Why would a shopper see it?")
    cols = st.columns([1, 1, 2])
    name = cols[0].selectbox(
        "Variant", list(ranked), format_func=lambda n: ranked[n][0], key="np_why_model"
    )
    p = ranked[name][1]
    users = shopper_choices(p)
    user = cols[1].selectbox(
        "Shopper",
        users,
        format_func=lambda u: f"{u} (rank {p.ranks[u]})",
        key="np_why_user",
        help="The audience first (best rank first), then the closest other shoppers.",
    )
    cols[2].markdown(plain(p.why(int(user))))
    if p.routed:  # the content scorer's own game, exact
        show_content_reason(ds, p, int(user), cols[2])
        return
    a = pv.explain_shopper(p, int(user))
    phi = pd.DataFrame({"input": list(a.players), "φ": a.values[:, 0]})
    cols[2].bar_chart(phi, x="input", y="φ", horizontal=True, height=160)
    shares = p.attribution_shares()
    if len(shares):
        st.caption(
            "Over its whole audience: "
            + ", ".join(f"{r.input} {r.mean_share:.0%}" for r in shares.itertuples())
            + " of |φ| on average."
        )


def show_content_reason(ds: Dataset, p: pv.Preview, user: int, where: Any) -> None:
    """A routed product's why: the shopper's past purchases its photo and copy resemble."""
    from anchorrec.analysis.cold_explain import explain_routed

    found = [r for r in p.reasons if r.user == user]
    reason = found[0] if found else explain_routed(p.placed, np.array([user]), p.item)[0]
    where.caption(
        md(
            "Cold-start path (content scorer, exact): score {:+.3f} = shopper offset {:+.3f} "
            "+ image {:+.3f} + text {:+.3f}.",
            reason.score,
            reason.offset,
            reason.image_total,
            reason.text_total,
        )
    )
    with where:
        table(
            reason.table(p.placed.dataset),
            key=f"np_reason_{p.variant}",
            formats={c: "%+.4f" for c in ("image", "text", "total")},
        )


def show_nearest(ds: Dataset, previews: dict[str, tuple[str, pv.Preview]], n: int = 5) -> None:
    """The nearest existing items of the product in each space of one variant, with pictures."""
    ranked = {name: v for name, v in previews.items() if v[1].can_rank}
    if not ranked:
        return
    st.subheader("Nearest existing items")
    name = st.selectbox(
        "Spaces of", list(ranked), format_func=lambda k: ranked[k][0], key="np_near_model"
    )
    p = ranked[name][1]
    spaces = [s for s in NEAREST_FIRST if s in p.neighbours]
    spaces += [s for s in p.neighbours if s not in spaces]
    for tab, space in zip(st.tabs([SPACE_WORDS.get(s, s) for s in spaces]), spaces, strict=True):
        with tab:
            near = p.neighbours[space].head(n)
            for col, row in zip(st.columns(n), near.itertuples(), strict=False):
                with col:
                    show_item_card(ds, int(row.item), caption=f"cosine {row.cosine:.2f}", size=120)


def past_launches(ds: Dataset) -> None:
    """How well previews predicted this dataset's past launches (where it was measured)."""
    with st.expander("How well did previews predict past launches?"):
        found = past_launch_table(ds.name)
        if found is None:
            st.markdown(
                "Not measured for this dataset (it needs new arrivals with later purchases); "
                "docs/preview.md has the photo sample's figures."
            )
            return
        st.markdown(PAST_LAUNCHES)
        table(found, key="np_past", formats={c: "%.1f" for c in found.columns[1:3]})
