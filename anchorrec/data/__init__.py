"""anchorrec.data: the Dataset type, MMRec directories, catalogue import, archive unpacking.

Public entry points::

    load_mmrec(path, *, name=None, on_duplicate="warn") -> Dataset
    save_mmrec(ds, out_dir, *, extra_files=None, overwrite=False) -> Path
    import_catalog(items_csv, interactions_csv, images_dir, out_dir, ...) -> Dataset
    build_fused_features(image, text) -> np.ndarray
    safe_extract_zip(zip_path, target_dir, max_bytes) -> Path
"""

from anchorrec.data.archive import find_dataset_root, safe_extract_zip
from anchorrec.data.catalog import import_catalog
from anchorrec.data.dataset import Dataset, mmrec_split
from anchorrec.data.features import build_fused_features
from anchorrec.data.mmrec import load_mmrec, save_mmrec

__all__ = [
    "Dataset",
    "build_fused_features",
    "find_dataset_root",
    "import_catalog",
    "load_mmrec",
    "mmrec_split",
    "safe_extract_zip",
    "save_mmrec",
]
