"""Reading and writing the MMRec directory layout.

A dataset directory ``<dir>/`` holds ``<name>.inter`` (TSV with a header: userID, itemID,
x_label 0 train / 1 valid / 2 test; other columns are ignored), ``image_feat.npy`` and
``text_feat.npy`` (one row per item), optionally ``fused_feat.npy`` (the fused image+text
feature), ``items.csv`` (item metadata, column ``item_id``) and ``users.csv``
(column ``user_id``).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from anchorrec.data.dataset import FUSED, IMAGE, TEST, TEXT, TRAIN, VALID, Dataset
from anchorrec.fileio import atomic_dir

FEATURE_FILES: dict[str, str] = {
    IMAGE: "image_feat.npy",
    TEXT: "text_feat.npy",
    FUSED: "fused_feat.npy",
}
ITEMS_FILE = "items.csv"
USERS_FILE = "users.csv"


def save_mmrec(
    ds: Dataset,
    out_dir: str | Path,
    *,
    extra_files: dict[str, bytes] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``ds`` as a complete MMRec directory, atomically (temporary directory, then rename).

    ``extra_files`` maps a relative path to bytes (images, a datasheet…) written alongside.
    """
    out_dir = Path(out_dir)
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        rows = []
        for label, m in ((TRAIN, ds.train), (VALID, ds.valid), (TEST, ds.test)):
            coo = m.tocoo()
            rows.append(
                pd.DataFrame(
                    {
                        "userID": coo.row.astype(np.int64),
                        "itemID": coo.col.astype(np.int64),
                        "x_label": label,
                    }
                )
            )
        inter = pd.concat(rows, ignore_index=True).sort_values(
            ["userID", "x_label", "itemID"], kind="stable"
        )
        buf = io.StringIO()
        inter.to_csv(buf, sep="\t", index=False)
        (tmp / f"{ds.name}.inter").write_text(buf.getvalue(), encoding="utf-8")
        for mod, arr in ds.features.items():
            np.save(tmp / FEATURE_FILES[mod], np.ascontiguousarray(arr, dtype=np.float32))
        if ds.items is not None:
            ds.items.to_csv(tmp / ITEMS_FILE, index=False)
        if ds.users is not None:
            ds.users.to_csv(tmp / USERS_FILE, index=False)
        for rel, data in (extra_files or {}).items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    return out_dir
