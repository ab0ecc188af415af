"""Data: open an MMRec directory, or import a product catalogue (CSV + photos) and encode it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from anchorrec import workspace as ws
from anchorrec.ui import cached
from anchorrec.ui.errors import user_errors
from anchorrec.ui.progress import tqdm_progress
from anchorrec.ui.state import sidebar

#: Upload caps (the server-wide cap is server.maxUploadSize in .streamlit/config.toml).
MAX_CSV_MB = 50
MAX_ZIP_MB = 200
MB = 1024 * 1024


def _check_size(upload, cap_mb: int) -> None:
    from anchorrec.errors import DatasetError

    if upload is not None and upload.size > cap_mb * MB:
        raise DatasetError(
            f"{upload.name} is {upload.size / MB:.0f} MB; the limit is {cap_mb} MB. "
            "For larger catalogues give the folder path instead, or use "
            "`python -m anchorrec import-catalog`."
        )


def _validation_report(path: Path) -> None:
    ds = cached.load_dataset(path)
    st.success(
        f"{ds.name}: {ds.n_users:,} users, {ds.n_items:,} items, {ds.n_interactions:,} "
        f"interactions (train {ds.train.nnz:,} / valid {ds.valid.nnz:,} / test {ds.test.nnz:,}), "
        f"features: {', '.join(f'{m} {ds.features[m].shape[1]}-d' for m in ds.modalities) or 'none'}."
    )
    for w in ds.warnings:
        st.warning(w)


def _open(path: Path) -> None:
    st.session_state["_goto_dataset"] = str(path)
    st.rerun()


sidebar()
st.title("Data")
st.caption(
    f"Datasets you import are written to the workspace `{ws.workspace_datasets_dir()}` "
    f"(set ANCHORREC_HOME to move it); models trained in the app go to `{ws.workspace_home() / 'models'}`."
)

tab_dir, tab_cat = st.tabs(["Open an MMRec directory", "Import a product catalogue"])

with tab_dir:
    st.markdown(
        "An MMRec dataset directory holds `<name>.inter` (tab-separated `userID`, `itemID`, "
        "`x_label` 0 train / 1 valid / 2 test), `image_feat.npy` and `text_feat.npy` (one row "
        "per item), optionally `items.csv` and `users.csv`. Trained models in its `models/` "
        "folder appear in the variant toggle."
    )
    with st.form("open_mmrec"):
        raw = st.text_input("Directory", placeholder="/path/to/dataset", key="data_open_path")
        go = st.form_submit_button("Validate and open", type="primary", key="data_open_go")
    if go:
        with user_errors("Dataset"):
            path = ws.check_dataset_dir(raw)
            with st.spinner("Validating…"):
                _validation_report(path)
            ws.register_dataset(path)
            st.session_state["_goto_dataset"] = str(path)
        st.button("Open it", on_click=lambda: None)

with tab_cat:
    st.markdown(
        "**items.csv**: `item_id`, `title`, `image` (path relative to the image folder), "
        "optionally `description`, `category` and any attribute.  \n"
        "**interactions.csv**: `user_id`, `item_id`, optionally `timestamp`.  \n"
        "**Photos**: a folder on this machine, or a zip upload "
        f"(≤ {MAX_ZIP_MB} MB; unpacked safely, paths escaping the folder are refused).  \n"
        "Texts are encoded with all-MiniLM-L6-v2 and photos with EfficientNet-Lite0, offline."
    )
    with st.form("import_catalogue"):
        name = st.text_input("Dataset name", value="my-catalogue")
        c1, c2 = st.columns(2)
        items_up = c1.file_uploader(f"items.csv (≤ {MAX_CSV_MB} MB)", type=["csv"])
        inter_up = c2.file_uploader(f"interactions.csv (≤ {MAX_CSV_MB} MB)", type=["csv"])
        c3, c4 = st.columns(2)
        images_dir = c3.text_input("Photo folder on this machine", placeholder="/path/to/images")
        images_zip = c4.file_uploader(f"…or a zip of the photos (≤ {MAX_ZIP_MB} MB)", type=["zip"])
        c5, c6 = st.columns(2)
        k_core = c5.number_input("k-core", min_value=1, max_value=50, value=5)
        split = c6.selectbox("Split", ["auto", "random", "chronological"])
        submitted = st.form_submit_button("Import and encode", type="primary")
    if submitted:
        with user_errors("Import"):
            from anchorrec.data.archive import safe_extract_zip
            from anchorrec.data.catalog import import_catalog
            from anchorrec.errors import AnchorRecError, DatasetError

            if items_up is None or inter_up is None:
                raise DatasetError("Upload both items.csv and interactions.csv.")
            _check_size(items_up, MAX_CSV_MB)
            _check_size(inter_up, MAX_CSV_MB)
            _check_size(images_zip, MAX_ZIP_MB)
            out_dir = ws.workspace_datasets_dir() / ws.safe_name(name)
            if out_dir.exists():
                raise DatasetError(f"{out_dir} already exists; choose another dataset name.")
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".upload-") as tmp:
                tmp_path = Path(tmp)
                (tmp_path / "items.csv").write_bytes(items_up.getvalue())
                (tmp_path / "interactions.csv").write_bytes(inter_up.getvalue())
                if images_zip is not None:
                    (tmp_path / "images.zip").write_bytes(images_zip.getvalue())
                    photos = safe_extract_zip(
                        tmp_path / "images.zip", tmp_path / "images", max_bytes=4 * MAX_ZIP_MB * MB
                    )
                elif images_dir.strip():
                    photos = Path(images_dir.strip()).expanduser()
                else:
                    raise DatasetError(
                        "Give the photo folder's path or upload a zip of the photos."
                    )
                try:
                    with tqdm_progress("Encoding the catalogue"):
                        ds = import_catalog(
                            tmp_path / "items.csv",
                            tmp_path / "interactions.csv",
                            photos,
                            out_dir,
                            k_core=int(k_core),
                            split=split,
                            device="auto",
                            progress=True,
                            name=ws.safe_name(name),
                        )
                except AnchorRecError as exc:  # name the uploaded file, not its temporary copy
                    raise type(exc)(
                        str(exc)
                        .replace(f"{tmp_path}/", "uploaded ")
                        .replace(str(tmp_path), "upload")
                    ) from exc
            st.success(f"Imported {ds.name} to {out_dir}.")
            _validation_report(out_dir)
            st.session_state["_goto_dataset"] = str(out_dir)
            st.button("Open it", on_click=lambda: None)
