"""The app survives what the adversarial round broke it with: a broken model folder, a
damaged training log, a decompression-bomb photo, catalogue text holding Markdown, and a
``?dataset=`` link with a NUL byte or 100,000 characters. Every page draws, without an
exception, and says what is wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.app.conftest import APP

PAGES = (
    "pages/overview.py",
    "pages/spaces.py",
    "pages/recommendations.py",
    "pages/collapse.py",
    "pages/audit.py",
    "pages/train.py",
    "pages/data.py",
)


def _no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _app(dataset: str, **params: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["dataset"] = dataset
    at.query_params.update(params)
    return at


def _every_page(at) -> None:
    at.run()
    _no_exception(at)
    for page in PAGES:
        at.switch_page(page).run()
        _no_exception(at)
        assert at.title or at.info, f"{page} drew nothing"  # its page, or "open a dataset"


@pytest.fixture
def broken_shop(shop, tmp_path) -> Path:
    """The shop with three broken model folders and a damaged training log."""
    copy = tmp_path / "shop"
    shutil.copytree(shop, copy)
    models = copy / "models"
    # an edited hyper-parameter (the checksum no longer matches)
    shutil.copytree(models / "anchor", models / "edited")
    config = models / "edited" / "config.json"
    info = json.loads(config.read_text())
    info["hyper_parameters"]["knn_k"] = 3
    config.write_text(json.dumps(info))
    # a string where an object belongs
    shutil.copytree(models / "anchor", models / "mangled")
    config = models / "mangled" / "config.json"
    info = json.loads(config.read_text())
    info["hyper_parameters"] = "x"
    config.write_text(json.dumps(info))
    # config.json a directory
    shutil.copytree(models / "lightgcn", models / "hollow")
    (models / "hollow" / "config.json").unlink()
    (models / "hollow" / "config.json").mkdir()
    # the usable lightgcn's training log is damaged
    with open(models / "lightgcn" / "train_log.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"epoch": 3, "loss": \n[1, 2]\n')
    return copy


def test_broken_models_are_listed_as_broken_and_every_page_works(broken_shop):
    at = _app(str(broken_shop), variant="anchor,lightgcn")
    _every_page(at)
    at.switch_page("pages/overview.py").run()
    _no_exception(at)
    errors = "\n".join(e.value for e in at.sidebar.error)
    for name, reason in (("edited", "config\\_sha256"), ("mangled", "hyper\\_parameters")):
        assert name in errors and reason in errors, errors
    assert "hollow" in errors and "cannot be read" in errors
    variants = at.sidebar.multiselect[0]
    assert set(variants.options) == {"anchor", "lightgcn"}  # the broken ones are not offered
    table = at.dataframe[1].value  # the variants table still lists the usable models
    assert {"anchor", "lightgcn"} <= set(table["variant"])


def test_a_decompression_bomb_photo_leaves_every_page_working(shop, app_home, tmp_path):
    copy = tmp_path / "shop"
    shutil.copytree(shop, copy)
    # 12,000 × 12,000 1-bit (144 Mpx: past PIL's limit, below twice it, where PIL only
    # warns) written under the JPEG's name: ~20 KB on disk, 432 MB as RGB.
    Image.new("1", (12_000, 12_000)).save(copy / "images" / "0007.png", optimize=False)
    (copy / "images" / "0007.png").replace(copy / "images" / "0007.jpg")
    at = _app(str(copy), variant="anchor,lightgcn", item="7", user="3")
    _every_page(at)
    at.switch_page("pages/spaces.py").run()
    _no_exception(at)
    assert any("Inspector — item 7" in s.value for s in at.subheader)


def test_catalogue_text_is_drawn_as_text_not_markdown(shop, app_home, tmp_path):
    import pandas as pd

    copy = tmp_path / "shop"
    shutil.copytree(shop, copy)
    items = pd.read_csv(copy / "items.csv", dtype=str, keep_default_na=False)
    items.loc[7, "title"] = "**Bold** [link](http://example.invalid/a)"
    items.loc[7, "description"] = "![x](http://example.invalid/x.png) # not a heading"
    items.to_csv(copy / "items.csv", index=False)
    at = _app(str(copy), variant="anchor", item="7")
    at.run()
    at.switch_page("pages/spaces.py").run()
    _no_exception(at)
    drawn = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert any("x.png" in t for t in drawn), "the description is shown"
    for text in drawn:  # every image and link of the catalogue is escaped
        assert "![x](" not in text and "[link](" not in text, text
    assert any("\\!\\[x\\](http\u2060://example.invalid/x.png)" in t for t in drawn)
    assert any("\\*\\*Bold\\*\\*" in t for t in drawn)


@pytest.mark.parametrize(
    "dataset, says",
    [("/tmp/a\x00b", "NUL character"), ("/x" * 50_000, "characters long")],
    ids=["nul-byte", "100k-characters"],
)
def test_a_bad_dataset_link_is_a_message_on_every_page(app_home, dataset, says):
    at = _app(dataset)
    _every_page(at)
    at.switch_page("pages/overview.py").run()
    assert any(says in e.value for e in at.sidebar.error), [e.value for e in at.sidebar.error]
