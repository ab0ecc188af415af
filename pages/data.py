"""Data: open an MMRec directory, or import a product catalogue (CSV + photos) and encode it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from anchorrec import workspace as ws
from anchorrec.data.upload import MAX_CSV_MB, MAX_ZIP_MB, Upload, import_uploaded_catalog
from anchorrec.ui import cached
from anchorrec.ui.errors import user_errors
from anchorrec.ui.progress import tqdm_progress
from anchorrec.ui.state import open_dataset_next_run, sidebar
from anchorrec.ui.text import plain

MMREC_FORMAT = (
    "An MMRec dataset directory holds `<name>.inter` (tab-separated `userID`, `itemID`, "
    "`x_label` 0 train / 1 valid / 2 test), `image_feat.npy` and `text_feat.npy` (one row "
    "per item), optionally `items.csv` and `users.csv`. Trained models in its `models/` "
    "folder appear in the variant toggle."
)
CATALOGUE_FORMAT = (
    "**items.csv**: `item_id`, `title`, `image` (path relative to the image folder), "
    "optionally `description`, `category` and any attribute.  \n"
    "**interactions.csv**: `user_id`, `item_id`, optionally `timestamp`.  \n"
    "**Photos**: a folder on this machine, or a zip upload "
    f"(≤ {MAX_ZIP_MB} MB; unpacked safely, paths escaping the folder are refused).  \n"
    "Texts are encoded with all-MiniLM-L6-v2 and photos with EfficientNet-Lite0, offline."
)


def _validation_report(path: Path) -> None:
    ds = cached.load_dataset(path)
    features = ", ".join(f"{m} {ds.features[m].shape[1]}-d" for m in ds.modalities) or "none"
    st.success(
        f"{plain(ds.name)}: {ds.n_users:,} users, {ds.n_items:,} items, {ds.n_interactions:,} "
        f"interactions (train {ds.train.nnz:,} / valid {ds.valid.nnz:,} / test {ds.test.nnz:,}), "
        f"features: {features}."
    )
    for w in ds.warnings:
        st.warning(plain(w))  # warnings quote the user's files: text, not Markdown


def _upload(file) -> Upload | None:
    return None if file is None else Upload(file.name, file.getvalue())


def _open_directory() -> None:
    st.markdown(MMREC_FORMAT)
    with st.form("open_mmrec"):
        raw = st.text_input("Directory", placeholder="/path/to/dataset", key="data_open_path")
        go = st.form_submit_button("Validate and open", type="primary", key="data_open_go")
    if go:
        with user_errors("Dataset"):
            path = ws.check_dataset_dir(raw)
            with st.spinner("Validating…"):
                _validation_report(path)
            ws.register_dataset(path)
            open_dataset_next_run(path)
        st.button("Open it", on_click=lambda: None)


def _import_catalogue() -> None:
    st.markdown(CATALOGUE_FORMAT)
    with st.form("import_catalogue"):
        name = st.text_input("Dataset name", value="my-catalogue")
        c1, c2 = st.columns(2)
        items = c1.file_uploader(f"items.csv (≤ {MAX_CSV_MB} MB)", type=["csv"])
        inter = c2.file_uploader(f"interactions.csv (≤ {MAX_CSV_MB} MB)", type=["csv"])
        c3, c4 = st.columns(2)
        photos_dir = c3.text_input("Photo folder on this machine", placeholder="/path/to/images")
        photos_zip = c4.file_uploader(f"…or a zip of the photos (≤ {MAX_ZIP_MB} MB)", type=["zip"])
        c5, c6 = st.columns(2)
        k_core = c5.number_input("k-core", min_value=1, max_value=50, value=5)
        split = c6.selectbox("Split", ["auto", "random", "chronological"])
        submitted = st.form_submit_button("Import and encode", type="primary")
    if submitted:
        with user_errors("Import"):
            out_dir = ws.workspace_datasets_dir() / ws.safe_name(name)
            with tqdm_progress("Encoding the catalogue"):
                ds = import_uploaded_catalog(
                    out_dir,
                    _upload(items),
                    _upload(inter),
                    photos_zip=_upload(photos_zip),
                    photos_dir=photos_dir,
                    k_core=int(k_core),
                    split=split,
                    progress=True,
                )
            st.success(f"Imported {plain(ds.name)} to {plain(out_dir)}.")
            _validation_report(out_dir)
            open_dataset_next_run(out_dir)
            st.button("Open it", on_click=lambda: None)


def render() -> None:
    sidebar()
    st.title("Data")
    st.caption(
        f"Datasets you import are written to the workspace `{ws.workspace_datasets_dir()}` (set "
        f"ANCHORREC_HOME to move it); models trained in the app go to "
        f"`{ws.workspace_home() / 'models'}`."
    )
    tab_dir, tab_cat = st.tabs(["Open an MMRec directory", "Import a product catalogue"])
    with tab_dir:
        _open_directory()
    with tab_cat:
        _import_catalogue()


render()
