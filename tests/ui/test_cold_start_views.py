"""The Overview's warm vs new-arrival table is read from the stored cold-start path alone."""

from __future__ import annotations

import shutil

import pytest

from anchorrec.models.cold_start_store import COLD_START_FILE
from anchorrec.workspace import MODELS_DIR, SAMPLE_DATASET_DIR

SHIPPED = SAMPLE_DATASET_DIR / MODELS_DIR


def test_the_table_reads_the_stored_figures_without_loading_a_model(tmp_path):
    from anchorrec.ui.cold_start_views import warm_new_table

    copies = {}
    for variant in ("anchor", "lightgcn"):
        d = tmp_path / variant
        d.mkdir()
        for name in ("config.json", COLD_START_FILE):
            if (SHIPPED / variant / name).is_file():
                shutil.copy2(SHIPPED / variant / name, d / name)
        copies[variant] = d
    if not (copies["anchor"] / COLD_START_FILE).is_file():
        pytest.skip("the shipped anchor model has no stored cold-start path")
    frame = warm_new_table(copies)
    assert list(frame["model"]) == ["anchor"]  # an ID-only model has no path: no row
    row = frame.iloc[0]
    assert row["new, cold start"] > row["new, published"]
    assert row["cost to warm"] == pytest.approx(row["warm, cold start"] - row["warm, published"])
    assert row["cost to warm"] <= 0


def test_an_edited_model_does_not_read_the_old_path(tmp_path):
    from anchorrec.ui.cold_start_views import warm_new_table

    d = tmp_path / "anchor"
    shutil.copytree(SHIPPED / "anchor", d, ignore=shutil.ignore_patterns("projections", "per_user"))
    if not (d / COLD_START_FILE).is_file():
        pytest.skip("the shipped anchor model has no stored cold-start path")
    config = (d / "config.json").read_text()
    (d / "config.json").write_text(config.replace('"seed": 0', '"seed": 0 '))  # another model
    assert warm_new_table({"anchor": d}).empty
