"""Readers browsing models while a writer trains and swaps in new versions: no errors and
never a model assembled from two versions."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from anchorrec.data.mmrec import save_mmrec
from anchorrec.models.checkpoint import load_model, save_model
from anchorrec.models.config import preset_config
from anchorrec.models.recommend import recommend
from anchorrec.training.trainer import train
from anchorrec.workspace import find_models
from tests.conftest import make_tiny_dataset

VERSIONS = 6


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory) -> Path:
    return save_mmrec(make_tiny_dataset(), tmp_path_factory.mktemp("conc") / "tiny")


def test_readers_never_see_a_mixed_or_half_written_version(dataset_dir: Path) -> None:
    from anchorrec.data.mmrec import load_mmrec

    ds = load_mmrec(dataset_dir)
    cfg = preset_config("default", variant="mf", epochs=1, batch_size=64)
    model_dir = dataset_dir / "models" / "mf"
    first = train(ds, "mf", cfg, seed=0, progress=False, device="cpu")
    save_model(first.model, ds, model_dir, metrics={"version": 0}, extra={"version": 0})

    errors: list[BaseException] = []
    seen: list[set[int]] = [set(), set()]
    stop = threading.Event()

    def browse(slot: int) -> None:
        while not stop.is_set():
            try:
                entries = find_models(dataset_dir, ds.fingerprint)
                assert any(e.path.name == "mf" for e in entries)
                loaded = load_model(model_dir, ds)
                # config.json, weights (checksum verified on load) and metrics.json agree
                assert loaded.info["version"] == loaded.metrics["version"]
                recs = recommend(loaded, [0, 1], k=5)
                assert len(recs) == 10
                seen[slot].add(loaded.info["version"])
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    readers = [threading.Thread(target=browse, args=(i,), daemon=True) for i in range(2)]
    for t in readers:
        t.start()
    try:
        for version in range(1, VERSIONS + 1):
            result = train(ds, "mf", cfg, seed=version, progress=False, device="cpu")
            save_model(
                result.model,
                ds,
                model_dir,
                metrics={"version": version},
                extra={"version": version},
                overwrite=True,
            )
            time.sleep(0.05)
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=60)
    assert not errors, errors[0]
    assert all(s for s in seen), "each reader loaded at least one version"
    final = load_model(model_dir, ds)
    assert final.info["version"] == VERSIONS
    leftovers = [p.name for p in model_dir.parent.iterdir() if p.name != "mf"]
    assert leftovers == [], f"temporary directories left behind: {leftovers}"
    assert np.isfinite(final.metrics["version"])


def test_atomic_writes_get_the_mode_of_a_plain_write(tmp_path: Path) -> None:
    import os
    import stat

    from anchorrec.fileio import atomic_write_json

    plain = tmp_path / "plain.json"
    plain.write_text("{}")
    atomic = tmp_path / "atomic.json"
    atomic_write_json(atomic, {})
    assert stat.S_IMODE(os.stat(atomic).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)
