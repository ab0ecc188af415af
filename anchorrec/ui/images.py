"""Product pictures: where an item's image is, and small cached thumbnails of it."""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
import streamlit as st
from PIL import Image, UnidentifiedImageError

from anchorrec.data.dataset import Dataset
from anchorrec.data.items import display_title, display_titles, item_image_path
from anchorrec.data.shop_ids import item_label
from anchorrec.photos import read_photo_file
from anchorrec.ui.text import plain

__all__ = [
    "item_image_path",
    "item_title",
    "item_titles",
    "show_item_card",
    "thumbnail",
    "thumbnail_uri",
]

THUMB_SIZE = 200


@st.cache_data(show_spinner=False, max_entries=4096)
def thumbnail(path: str, size: int = THUMB_SIZE) -> bytes | None:
    """A JPEG thumbnail (longest side ``size``) of the image at ``path``; None if unreadable."""
    try:
        with warnings.catch_warnings():
            # PIL only warns between its pixel limit and twice it: refuse those bombs too
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            data = read_photo_file(path)  # a regular file within the limit, checked first
            with Image.open(io.BytesIO(data)) as source:
                source.draft("RGB", (size, size))  # JPEG: decode at a reduced scale
                im = source.convert("RGB")
                im.thumbnail((size, size))
                buf = io.BytesIO()
                im.save(buf, format="JPEG", quality=85)
                return buf.getvalue()
    except (
        OSError,
        UnidentifiedImageError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        return None  # undecodable, truncated or a decompression bomb: no picture
    except Exception:  # noqa: BLE001 - any decoder failure on an untrusted file means no picture
        return None


def thumbnail_uri(ds: Dataset, item: int, size: int = 96) -> str | None:
    """The item's thumbnail as a ``data:`` URI (for image columns of tables); None if none."""
    path = item_image_path(ds, item)
    data = thumbnail(str(path), size) if path is not None else None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode() if data else None


def item_title(ds: Dataset, item: int) -> str:
    """The item's title for a person to read (:func:`anchorrec.data.items.display_title`)."""
    return display_title(ds, item)


@st.cache_resource(show_spinner=False, max_entries=8)
def _item_titles(path: str, fingerprint: str, stamp: str, _ds: Dataset) -> np.ndarray:
    return np.asarray(display_titles(_ds), dtype=object)


def item_titles(ds: Dataset) -> np.ndarray:
    """Every item's title (index = item id; never mutate it), built once per version of the
    catalogue's files, not on every run of a page that labels its points."""
    if ds.path is None:
        return np.asarray(display_titles(ds), dtype=object)
    from anchorrec.ui.cached import dataset_stamp

    return _item_titles(str(ds.path), ds.fingerprint, dataset_stamp(ds.path), ds)


def show_item_card(ds: Dataset, item: int, *, caption: str = "", size: int = 140) -> None:
    """Thumbnail (or a placeholder) and the title of ``item`` in the current container."""
    path = item_image_path(ds, item)
    data = thumbnail(str(path), max(size, THUMB_SIZE)) if path is not None else None
    if data is not None:
        st.image(data, width=size)
    else:
        st.caption("(no image)")
    title_md = plain(item_title(ds, item))  # catalogue text: never Markdown
    label_md = plain(item_label(ds, item))
    st.caption(f"**{label_md}** {title_md}" + (f"  \n{caption}" if caption else ""))
