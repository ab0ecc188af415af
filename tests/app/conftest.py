"""A small shop with trained models and cached layouts, and an AppTest pointed at it.

The app tests do not depend on the bundled sample (built separately): they build a 60-item
catalogue with pictures, shopper groups, two trained variants (anchor and lightgcn, 2 epochs)
and PCA layouts once per session, in a private workspace ($ANCHORREC_HOME).
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.conftest import make_tiny_dataset

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
N_ITEMS = 60
CATEGORIES = ("bags", "shoes", "scarves", "rings")
COLOURS = ((200, 40, 40), (40, 120, 200), (60, 170, 80), (230, 180, 40))


def _jpeg(rgb: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 48), rgb).save(buf, format="JPEG")
    return buf.getvalue()


def build_shop(root: Path) -> Path:
    """Write the shop dataset with its models under ``root/shop`` and return the directory."""
    from anchorrec.analysis.diagnostics import store_diagnostics
    from anchorrec.analysis.projection import precompute_projections
    from anchorrec.data.mmrec import load_mmrec, save_mmrec
    from anchorrec.models.checkpoint import load_model
    from anchorrec.models.config import preset_config
    from anchorrec.training.trainer import train

    base = make_tiny_dataset(n_users=80, n_items=N_ITEMS, seed=0)
    cluster = np.arange(N_ITEMS) % 4
    items = pd.DataFrame(
        {
            "item_id": np.arange(N_ITEMS),
            "title": [f"{CATEGORIES[c].title()[:-1]} number {i}" for i, c in enumerate(cluster)],
            "description": [f"A {CATEGORIES[c][:-1]} from cluster {c}." for c in cluster],
            "category": [CATEGORIES[c] for c in cluster],
            "image": [f"images/{i:04d}.jpg" for i in range(N_ITEMS)],
        }
    )
    users = pd.DataFrame(
        {
            "user_id": np.arange(base.n_users),
            "group": [("visual", "textual")[u % 2] for u in range(base.n_users)],
        }
    )
    ds = dataclasses.replace(base, name="shop", items=items, users=users)
    images = {f"images/{i:04d}.jpg": _jpeg(COLOURS[c]) for i, c in enumerate(cluster)}
    out = save_mmrec(ds, root / "shop", extra_files=images)
    ds = load_mmrec(out)
    for variant in ("anchor", "lightgcn"):
        config = preset_config("default", variant=variant).replace(epochs=2, embedding_dim=16)
        model_dir = out / "models" / variant
        train(ds, variant, config, out_dir=model_dir, device="cpu", progress=False)
        loaded = load_model(model_dir, ds)
        precompute_projections(loaded, methods=("pca",))
        store_diagnostics(loaded)
    return out


@pytest.fixture(scope="session")
def shop(tmp_path_factory) -> Path:
    return build_shop(tmp_path_factory.mktemp("app"))


@pytest.fixture
def app_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ANCHORREC_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


@pytest.fixture
def app(shop, app_home):
    """An AppTest of app.py opened on the shop through the URL (as a shared link would)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["dataset"] = str(shop)
    return at


def add_shop_ids(src: Path, dest: Path) -> Path:
    """A copy of the shop as ``import-catalog`` leaves a catalogue: items.csv keeps the shop's
    own item ids (``original_item_id``) and user_id_map.csv its shopper ids (written for
    spreadsheets, so a formula-like id gets a leading quote)."""
    import shutil

    from anchorrec.data.shop_ids import ITEM_COLUMN, USER_MAP_FILE
    from anchorrec.fileio import csv_bytes

    shutil.copytree(src, dest)
    items = pd.read_csv(dest / "items.csv")
    items.insert(1, ITEM_COLUMN, [f"SKU-{i:03d}" for i in range(len(items))])
    items.to_csv(dest / "items.csv", index=False)
    n_users = len(pd.read_csv(dest / "users.csv"))
    own = [f"C{u:04d}" for u in range(n_users)]
    own[7] = "=U7"  # a spreadsheet formula if written raw
    umap = pd.DataFrame({"original_id": own, "user_id": np.arange(n_users)})
    (dest / USER_MAP_FILE).write_bytes(csv_bytes(umap))
    return dest


@pytest.fixture(scope="session")
def imported_shop(shop, tmp_path_factory) -> Path:
    return add_shop_ids(shop, tmp_path_factory.mktemp("imported") / "shop")
