"""anchorrec.data: the Dataset type, MMRec directories, catalogue import, archive unpacking.

Public entry points::

    load_mmrec(path, *, name=None, on_duplicate="warn") -> Dataset
    save_mmrec(ds, out_dir, *, extra_files=None, overwrite=False) -> Path
    import_catalog(items_csv, interactions_csv, images_dir, out_dir, ...) -> Dataset
    build_fused_features(image, text) -> np.ndarray
    safe_extract_zip(zip_path, target_dir, max_bytes) -> Path

The names are loaded on first use (PEP 562): importing one submodule does not import
the others (and torch with them).
"""

from __future__ import annotations

from anchorrec.lazy import lazy_names

_EXPORTS = {
    "Dataset": "anchorrec.data.dataset",
    "build_fused_features": "anchorrec.data.features",
    "find_dataset_root": "anchorrec.data.archive",
    "import_catalog": "anchorrec.data.catalog",
    "load_mmrec": "anchorrec.data.mmrec",
    "mmrec_split": "anchorrec.data.dataset",
    "safe_extract_zip": "anchorrec.data.archive",
    "save_mmrec": "anchorrec.data.mmrec",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_names(__name__, _EXPORTS, globals())
