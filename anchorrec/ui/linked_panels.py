"""Layout panels as one component drawn in the browser: the spaces of *Embedding spaces* and
the Figure-1 panels of *Positional collapse*.

Every panel is drawn by the GPU (WebGL; a plain canvas where the browser has none) from one
binary payload. Hover, click, box and lasso selection, zoom and pan (linked: every panel shows
the same region) and the filter that hides points happen in the browser, at once and in every
panel; only a finished selection goes back to the server, which summarises it.

The payload (:func:`encode`) is columnar: a small JSON header, then typed arrays. It has two
parts. The *layout* (the items, their titles, every panel's points, the filter fields) is large
and changes only with the layout; the *look* (colouring, selection, matches) is small. The
browser keeps the layouts it has received under their content key, so once a session has sent
a layout, a rerun (a selection, a colour change) sends only the look and the key
(:func:`show`). Positions are scaled to integers in ``[0, SCALE]`` per panel and axis (what an
autoscaled chart shows), items are referred to by their row in the shared ``items`` array.

Above :data:`POINT_BUDGET` points in all, every panel keeps the same stratified sample of items
(each stratum of the strata given, e.g. the categories, in proportion and none left out).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anchorrec.ui.charts import (
    LEVEL_PALETTE,
    MAX_LEVELS,
    SELECTED_COLOUR,
    SPACE_COLOURS,
    limit_levels,
)

if TYPE_CHECKING:
    from anchorrec.data.dataset import Dataset

#: Positions are sent as 16-bit integers in ``[0, SCALE]``.
SCALE = 65_535
#: Steps of the numeric colour scale (Viridis, low to high).
SCALE_STEPS = 64
MISSING_COLOUR = "#bbbbbb"
COMPONENT = "anchorrec.linked_panels"
#: Points (all panels together) drawn in full; above it, a stratified sample of items.
#: 23,033 items in ten panels (a Clothing-sized catalogue) stay under it.
POINT_BUDGET = 400_000
SAMPLE_SEED = 0
MAGIC = b"ALP1"
_ASSETS = Path(__file__).with_name("linked_panels")
_SENT = "_linked_panels_sent"


@dataclass(frozen=True)
class Panel:
    """One layout: row ``r`` of ``xy`` is item ``item_ids[r]`` (of space ``tags[r]`` if joint)."""

    space: str
    title: str
    caption: str
    xy: np.ndarray
    item_ids: np.ndarray
    tags: np.ndarray | None = None
    wide: bool = False
    heading: str = ""
    #: pixels (0: the grid's default)
    height: int = 0
    #: a joint layout of two spaces: join this many items' two points by a segment
    links: int = 0


@dataclass
class Payload:
    """What the component draws: :attr:`layout` (meta and arrays) and :attr:`look`."""

    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]
    look: dict[str, Any]
    look_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    key: str = ""

    @property
    def items(self) -> np.ndarray:
        return self.arrays["items"]


def _scaled(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if not finite.any():
        return np.full(len(values), SCALE // 2, dtype=np.uint16)
    low, high = float(values[finite].min()), float(values[finite].max())
    span = high - low or 1.0
    out = np.where(finite, (values - low) / span, 0.5)
    return np.rint(out * SCALE).astype(np.uint16)


def viridis(steps: int = SCALE_STEPS) -> list[str]:
    """``steps`` colours of the Viridis scale, low to high, as ``#rrggbb``."""
    from plotly.colors import sample_colorscale, unlabel_rgb

    out = []
    for c in sample_colorscale("Viridis", [i / (steps - 1) for i in range(steps)]):
        r, g, b = (round(float(v)) for v in unlabel_rgb(c))
        out.append(f"#{r:02x}{g:02x}{b:02x}")
    return out


def colouring(
    values: np.ndarray | pd.Series | None, name: str, items: np.ndarray
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """How the panels colour ``items``: by level (a legend entry each), on a scale, or not.

    ``values`` holds one value per catalogue item. A discrete colouring keeps every level its
    own colour up to :data:`MAX_LEVELS` (the rest "other"); a numeric one with more levels
    than that is drawn on the Viridis scale, missing values grey. Returns the header (kind,
    name, palette, legend or range) and the per-item arrays (``colour``: palette index;
    ``colour_value``: the value of a scale).
    """
    if values is None:
        return {"kind": "none", "name": "", "palette": []}, {}
    picked = pd.Series(np.asarray(values, dtype=object)[items]) if len(items) else pd.Series([])
    whole = pd.Series(np.asarray(values))
    if pd.api.types.is_numeric_dtype(whole) and whole.nunique() > MAX_LEVELS:
        v = pd.to_numeric(picked, errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(v)
        low = float(np.nanmin(v)) if finite.any() else 0.0
        high = float(np.nanmax(v)) if finite.any() else 1.0
        step = np.rint((v - low) / ((high - low) or 1.0) * (SCALE_STEPS - 1))
        index = np.where(finite, np.nan_to_num(step), SCALE_STEPS).astype(np.uint16)
        head = {
            "kind": "scale",
            "name": name,
            "palette": [*viridis(), MISSING_COLOUR],
            "range": [low, high],
        }
        return head, {"colour": index, "colour_value": v.astype(np.float32)}
    order, index = _level_codes(picked)
    palette = [LEVEL_PALETTE[i % len(LEVEL_PALETTE)] for i in range(len(order))]
    head = {"kind": "levels", "name": name, "palette": palette, "legend": order}
    return head, {"colour": index}


def _segments(tags: np.ndarray, ids: np.ndarray, names: list[str], links: int) -> np.ndarray:
    """Point pairs ``[a, b]`` of the first ``links`` items drawn in both of a two-space layout."""
    if len(names) != 2 or links <= 0:
        return np.zeros((0, 2), dtype=np.int32)
    first = np.flatnonzero(tags == names[0])
    second = {int(ids[r]): int(r) for r in np.flatnonzero(tags == names[1])}
    pairs = [[int(r), second[int(ids[r])]] for r in first if int(ids[r]) in second]
    return np.asarray(pairs[:links], dtype=np.int32).reshape(-1, 2)


def stratified_items(
    items: np.ndarray, strata: np.ndarray | None, size: int, seed: int = SAMPLE_SEED
) -> np.ndarray:
    """A seeded sample of ``size`` of ``items`` (sorted), each stratum in proportion.

    ``strata`` holds one label per catalogue item (None: one stratum). Every stratum keeps at
    least one item, the rest of ``size`` is shared by largest remainder, so a rare category is
    not lost as it can be in a uniform sample, nor a late one as in the first ``size`` rows.
    """
    items = np.asarray(items, dtype=np.int64)
    if size >= len(items):
        return items
    rng = np.random.default_rng(seed)
    labels = np.zeros(len(items), dtype=np.int64)
    if strata is not None:
        _, labels = np.unique(np.asarray(strata, dtype=str)[items], return_inverse=True)
    counts = np.bincount(labels)
    quota = counts / counts.sum() * size
    take = np.minimum(counts, np.maximum(1, np.floor(quota).astype(np.int64)))
    spare = size - int(take.sum())
    if spare > 0:
        room = np.flatnonzero(take < counts)
        order = room[np.argsort(-(quota[room] - np.floor(quota[room])), kind="stable")]
        for s in order[:spare]:
            take[s] += 1
    chosen = [
        rng.choice(np.flatnonzero(labels == s), size=int(k), replace=False)
        for s, k in enumerate(take)
    ]
    return np.sort(items[np.concatenate(chosen)])


def _level_codes(values: pd.Series) -> tuple[list[str], np.ndarray]:
    """The levels of ``values`` (at most :data:`MAX_LEVELS`, sorted) and each value's index."""
    levels = limit_levels(values).to_numpy().astype(str)
    order, index = np.unique(levels, return_inverse=True)
    return [str(v) for v in order], index.astype(np.uint16)


def _codes(values: np.ndarray, items: np.ndarray) -> tuple[list[str], np.ndarray]:
    return _level_codes(pd.Series(np.asarray(values, dtype=object)[items]))


def _text_arrays(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 byte array and the offset of each (``n + 1`` offsets)."""
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def payload(
    panels: Sequence[Panel],
    titles: np.ndarray,
    colour: np.ndarray | pd.Series | None = None,
    colour_name: str = "",
    *,
    selected: Sequence[int] = (),
    found: Sequence[int] = (),
    columns: int = 3,
    shop_ids: np.ndarray | None = None,
    filters: Mapping[str, np.ndarray] | None = None,
    strata: np.ndarray | None = None,
    budget: int = POINT_BUDGET,
) -> Payload:
    """The component's data: shared items (id, title, the shop's own id when an imported
    catalogue has one, the levels of each filter field) and each panel's points.

    ``filters`` maps a field name to one value per catalogue item (the browser hides the items
    of the levels unticked); ``strata`` (one label per item) guides the sample above ``budget``.
    The layout part is built once for the same objects (the pages pass cached layouts, titles
    and filters), so a rerun builds only the look.
    """
    meta, arrays, key = _layout(panels, titles, shop_ids, filters, strata, budget)
    items = arrays["items"]
    head, look_arrays = _colouring(colour, colour_name, items)
    present = np.isin(np.asarray(selected, dtype=np.int64), items)
    look_arrays["selected"] = np.asarray(selected, dtype=np.int32)[present]
    look_arrays["found"] = np.asarray(found, dtype=np.int32)[np.isin(found, items)]
    look = {"colour": head, "ring": SELECTED_COLOUR, "columns": int(columns)}
    return Payload(meta, arrays, look, look_arrays, key)


_COLOURINGS: list[tuple[tuple[Any, ...], dict[str, Any], dict[str, np.ndarray]]] = []


def _colouring(
    values: np.ndarray | pd.Series | None, name: str, items: np.ndarray
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """:func:`colouring`, reused for the same values and items (a rerun's colour is the last)."""
    plain = None if values is None else np.asarray(values)
    for (was, was_name, was_items), head, arrays in _COLOURINGS:
        if was_name == name and was_items is items and _same(was, plain):
            return head, dict(arrays)
    head, arrays = colouring(values, name, items)
    _COLOURINGS.append(((plain, name, items), head, arrays))
    del _COLOURINGS[:-_KEEP_LAYOUTS]
    return head, dict(arrays)


#: Recent layouts: (the objects they were built from, meta, arrays, key), newest last.
_LAYOUTS: list[tuple[tuple[Any, ...], dict[str, Any], dict[str, np.ndarray], str]] = []
_KEEP_LAYOUTS = 4


def _layout(
    panels: Sequence[Panel],
    titles: np.ndarray,
    shop_ids: np.ndarray | None,
    filters: Mapping[str, np.ndarray] | None,
    strata: np.ndarray | None,
    budget: int,
) -> tuple[dict[str, Any], dict[str, np.ndarray], str]:
    sources = (tuple(panels), titles, shop_ids, filters, strata, budget)
    for built, meta, arrays, key in _LAYOUTS:
        if _same(built, sources):
            return meta, arrays, key
    meta, arrays = _build_layout(panels, titles, shop_ids, filters, strata, budget)
    key = _layout_key(meta, arrays)
    _LAYOUTS.append((sources, meta, arrays, key))
    del _LAYOUTS[:-_KEEP_LAYOUTS]
    return meta, arrays, key


def _same(a: object, b: object) -> bool:
    """Whether two layout sources are equal: the same objects, or equal arrays and values."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b))
        )
    if isinstance(a, Panel) and isinstance(b, Panel):
        return all(_same(getattr(a, f), getattr(b, f)) for f in Panel.__dataclass_fields__)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _build_layout(
    panels: Sequence[Panel],
    titles: np.ndarray,
    shop_ids: np.ndarray | None,
    filters: Mapping[str, np.ndarray] | None,
    strata: np.ndarray | None,
    budget: int,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    ids_of = [np.asarray(p.item_ids, dtype=np.int64) for p in panels]
    items = np.unique(np.concatenate(ids_of)) if ids_of else np.zeros(0, dtype=np.int64)
    total = sum(len(i) for i in ids_of)
    sampled = 0
    if total > budget and len(items):
        keep = stratified_items(items, strata, max(1, int(len(items) * budget / total)))
        sampled = len(items)
        items = keep
    arrays: dict[str, np.ndarray] = {"items": items.astype(np.int32)}
    names = [str(t) for t in np.asarray(titles, dtype=object)[items]]
    arrays["title"], arrays["title_at"] = _text_arrays(names)
    if shop_ids is not None:
        arrays["shop"], arrays["shop_at"] = _text_arrays([str(v) for v in shop_ids[items]])
    out_panels = []
    for n, (p, ids) in enumerate(zip(panels, ids_of, strict=True)):
        rows = np.searchsorted(items, ids)
        shown = (rows < len(items)) & (items[np.minimum(rows, len(items) - 1)] == ids)
        xy = np.asarray(p.xy, dtype=float)
        arrays[f"p{n}.x"] = _scaled(xy[:, 0])[shown]
        arrays[f"p{n}.y"] = _scaled(-xy[:, 1])[shown]  # screen y grows downwards
        arrays[f"p{n}.rows"] = rows[shown].astype(np.int32)
        entry: dict[str, Any] = {
            "space": p.space,
            "title": p.title,
            "caption": p.caption,
            "wide": p.wide,
            "heading": p.heading,
            "height": int(p.height),
            "n": int(shown.sum()),
        }
        if p.tags is not None:
            tags = np.asarray(p.tags).astype(str)
            tag_names = list(dict.fromkeys(tags.tolist()))
            entry["tag_names"] = tag_names
            entry["tag_colours"] = [
                SPACE_COLOURS.get(t, LEVEL_PALETTE[i % len(LEVEL_PALETTE)])
                for i, t in enumerate(tag_names)
            ]
            position = {t: i for i, t in enumerate(tag_names)}
            codes = np.array([position[t] for t in tags], dtype=np.uint8)
            arrays[f"p{n}.tags"] = codes[shown]
            # indices after the sample: a pair whose items were both kept
            kept = np.cumsum(shown) - 1
            pairs = _segments(tags, ids, tag_names, p.links)
            pairs = pairs[shown[pairs].all(axis=1)] if len(pairs) else pairs
            arrays[f"p{n}.links"] = kept[pairs].astype(np.int32).ravel()
        out_panels.append(entry)
    fields = []
    for f, (name, values) in enumerate((filters or {}).items()):
        levels, codes = _codes(values, items)
        fields.append({"name": name, "levels": levels})
        arrays[f"f{f}"] = codes
    meta = {
        "panels": out_panels,
        "fields": fields,
        "n_items": int(len(items)),
        "sampled_from": int(sampled),
        "shop_ids": shop_ids is not None,
    }
    return meta, arrays


def _layout_key(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.blake2b(digest_size=12)
    digest.update(json.dumps(meta, sort_keys=True).encode("utf-8"))
    for name in sorted(arrays):
        digest.update(name.encode("utf-8"))
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


_DTYPES = {"u8": np.uint8, "u16": np.uint16, "i32": np.int32, "f32": np.float32}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}


def encode(data: Payload, *, with_layout: bool = True) -> bytes:
    """The binary payload: ``ALP1``, the header's length (uint32, little-endian), the JSON
    header, then each array 4-byte aligned (its offset, type and length in the header)."""
    arrays = {**(data.arrays if with_layout else {}), **data.look_arrays}
    sections: dict[str, list[Any]] = {}
    blobs: list[bytes] = []
    at = 0
    for name, values in arrays.items():
        values = np.ascontiguousarray(values).astype(np.asarray(values).dtype.newbyteorder("<"))
        raw = values.tobytes()
        sections[name] = [at, _CODES[values.dtype.newbyteorder("=")], int(values.size)]
        pad = -len(raw) % 4
        blobs.append(raw + b"\0" * pad)
        at += len(raw) + pad
    header = {
        "key": data.key,
        "layout": data.meta if with_layout else None,
        "look": data.look,
        "sections": sections,
    }
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(len(text) + 8) % 4)
    return b"".join([MAGIC, len(text).to_bytes(4, "little"), text, *blobs])


def decode(blob: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and arrays of :func:`encode`'s payload (what the browser reads)."""
    if blob[:4] != MAGIC:
        raise ValueError("not a linked-panels payload (no ALP1 mark)")
    size = int.from_bytes(blob[4:8], "little")
    header = json.loads(blob[8 : 8 + size].decode("utf-8"))
    base = 8 + size
    arrays = {}
    for name, (at, code, count) in header["sections"].items():
        dtype = np.dtype(_DTYPES[code]).newbyteorder("<")
        arrays[name] = np.frombuffer(blob, dtype=dtype, count=count, offset=base + at)
    return header, arrays


def selection_items(state: object) -> tuple[list[int], object] | None:
    """The item ids of the component's last selection and a signature of it (None if none).

    The component's state is ``{"selection": {"items": [...], "gesture": ..., "seq": n}}``;
    anything else (an absent or malformed state) reads as no selection.
    """
    if not isinstance(state, dict):
        return None
    sel = state.get("selection")
    if not isinstance(sel, dict) or not isinstance(sel.get("items"), list):
        return None
    ids: list[int] = []
    seen: set[int] = set()
    for i in sel["items"]:
        try:
            item = int(i)
        except (TypeError, ValueError):
            continue
        if item not in seen:
            seen.add(item)
            ids.append(item)
    return ids, json.dumps(sel, sort_keys=True, default=str)


def needs_layout(state: object, sent: str | None, key: str) -> bool:
    """Whether the layout ``key`` must travel: not sent to this session's browser yet, or the
    browser asked for it again (``state["need"]``: a page it holds no copy of)."""
    if sent != key:
        return True
    return isinstance(state, dict) and state.get("need") == key


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


_RENDERER: Callable[..., Any] | None = None


def _renderer() -> Callable[..., Any]:
    """The component's mounting command, registered once per process."""
    global _RENDERER
    if _RENDERER is None:
        import streamlit as st

        _RENDERER = st.components.v2.component(
            COMPONENT, html="", css=_asset("panels.css"), js=_asset("panels.js")
        )
    return _RENDERER


def _nothing() -> None:
    return None


def show(data: Payload, *, key: str, on_change: Callable[[], None]) -> None:
    """Draw the panels of ``data`` (from :func:`payload`); ``on_change`` runs on a selection.

    The layout travels once per session and component: later runs send its key and the look.
    """
    import streamlit as st

    sent: dict[str, str] = st.session_state.setdefault(_SENT, {})
    with_layout = needs_layout(st.session_state.get(key), sent.get(key), data.key)
    blob = encode(data, with_layout=with_layout)
    sent[key] = data.key
    _renderer()(
        key=key,
        data=blob,
        on_selection_change=on_change,
        on_need_change=_nothing,
        height="content",
    )


_FILTERS: dict[tuple[int, str], tuple[Dataset, dict[str, np.ndarray]]] = {}


def catalogue_filters(ds: Dataset) -> dict[str, np.ndarray]:
    """:func:`filter_fields` of ``ds``, built once per dataset object (never mutate them)."""
    key = (id(ds), str(getattr(ds, "fingerprint", "")))
    hit = _FILTERS.get(key)
    if hit is None or hit[0] is not ds:
        while len(_FILTERS) >= 8:
            _FILTERS.pop(next(iter(_FILTERS)))
        hit = _FILTERS[key] = (ds, filter_fields(ds))
    return hit[1]


def filter_fields(ds: Dataset) -> dict[str, np.ndarray]:
    """The fields the panels' filter offers, one value per catalogue item: the category, the
    popularity segment (head, torso, tail), new or warm (by train interactions) and every
    attribute of a few levels."""
    from anchorrec.analysis.audit import COLD_MAX_INTERACTIONS, popularity_buckets
    from anchorrec.ui.tables import NOT_ATTRIBUTES

    out: dict[str, np.ndarray] = {}
    items = ds.items
    if items is not None and "category" in items.columns:
        out["category"] = items["category"].to_numpy()
    popularity = np.asarray(ds.item_popularity())
    out["popularity segment"] = popularity_buckets(popularity)
    out["new or warm"] = np.where(
        popularity == 0,
        "new (no train interaction)",
        np.where(popularity <= COLD_MAX_INTERACTIONS, f"cold (≤ {COLD_MAX_INTERACTIONS})", "warm"),
    ).astype(object)
    if items is not None:
        skip = {*NOT_ATTRIBUTES, "category"}
        for column in items.columns:
            values = items[column]
            if column in skip or values.nunique(dropna=False) > MAX_LEVELS:
                continue
            out[f"attribute: {column}"] = values.to_numpy()
    return out
