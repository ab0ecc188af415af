"""The app survives what the adversarial round broke it with: a broken model folder, a
damaged training log, a decompression-bomb photo, catalogue text holding Markdown, and a
``?dataset=`` link with a NUL byte or 100,000 characters. Every page draws, without an
exception, and says what is wrong."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from anchorrec.ui.text import plain
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


# ------------------------------------------------------------------------------ round three
IMAGE_LINK = "![p](http://127.0.0.1:8802/x.png)"
SIGN_IN = "[Session expired - sign in again](http://evil.invalid/login)"


def _sidebar_messages(at) -> list[str]:
    return [m.value for kind in ("error", "warning", "info") for m in getattr(at.sidebar, kind)]


@pytest.mark.parametrize(
    "params",
    [
        {"user": IMAGE_LINK},
        {"item": SIGN_IN},
        {"variant": f"anchor,{SIGN_IN}"},
        {"variant": f"{IMAGE_LINK},lightgcn", "user": SIGN_IN, "item": IMAGE_LINK},
        {"user": "<img src=x onerror=alert(1)>", "item": "$\\frac{1}{0}$"},
        {"variant": ":red[**Admin notice**] www.evil.invalid mail@evil.invalid"},
    ],
    ids=["user-image", "item-link", "variant-link", "all-three", "html-and-latex", "autolinks"],
)
def test_deep_link_values_reach_the_sidebar_as_text(shop, app_home, params):
    at = _app(str(shop), **params)
    at.run()
    _no_exception(at)
    said = _sidebar_messages(at)
    assert said, "the bad link is named"
    for text in said:  # nothing of the link is Markdown: no image, no link, no HTML, no maths
        assert not re.search(r"(?<!\\)[\[\]<>$*]", text), text  # every bracket escaped
        assert "http://" not in text and "www." not in text, text  # no autolink either
    joined = "\n".join(said)
    for value in params.values():  # each bad value is quoted, escaped
        for part in value.split(","):
            if part not in ("anchor", "lightgcn"):
                assert plain(repr(part)) in joined or plain(part) in joined, (part, joined)


@pytest.mark.parametrize("value", ["0_1", "3\u2028", "\xa03", "\u0663", "3 ", "+3", "1e3"])
def test_a_link_number_that_int_would_take_is_refused(shop, app_home, value):
    at = _app(str(shop), user=value)
    at.run()
    _no_exception(at)
    assert any("is not a number" in m for m in _sidebar_messages(at)), _sidebar_messages(at)
    assert at.sidebar.number_input[0].value == 0  # not 1, not 3: the link's user is not guessed


def test_audit_downloads_are_bytes_whose_address_survives_a_rerun(app):
    at = app.run()
    at.switch_page("pages/audit.py").run()
    _no_exception(at)
    buttons = at.get("download_button")
    assert len(buttons) >= 4  # a CSV and an HTML report per variant
    assert not [b.proto.label for b in buttons if b.proto.deferred_file_id], "deferred"
    first = {b.proto.label: b.proto.url for b in buttons}
    assert all(first.values())
    at.run()  # another download's rerun: the same files at the same addresses
    _no_exception(at)
    assert {b.proto.label: b.proto.url for b in at.get("download_button")} == first


def test_a_huge_sparse_catalogue_photo_is_refused_before_reading(shop, app_home, tmp_path):
    import resource

    copy = tmp_path / "shop"
    shutil.copytree(shop, copy)
    with open(copy / "images" / "0007.jpg", "r+b") as fh:
        fh.truncate(3 * 1024**3)  # 3 GB, sparse: reading it whole would take 3 GB of memory
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    at = _app(str(copy), variant="anchor", item="7")
    at.run()
    at.switch_page("pages/new_product.py").run()
    at.radio(key="np_source").set_value("Pick a catalogue photo").run()
    at.selectbox(key="np_item").set_value(7).run()
    _no_exception(at)
    said = [m.value for kind in ("warning", "error", "info") for m in getattr(at, kind)]
    assert any(plain("0007.jpg") in w and "over the 20 MB limit" in w for w in said), said
    at.switch_page("pages/spaces.py").run()  # the lists' pictures: "no image", not a read
    _no_exception(at)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 1024**2, f"the process grew by {grown_kib / 1024:.0f} MiB"


def _full_disk_script() -> None:
    import streamlit as st

    from anchorrec.ui.errors import user_errors

    with user_errors("Importing the catalogue", stop=False):
        raise OSError("4096 requested and 0 written")  # NumPy's full disk: no errno
    with user_errors("Saving", stop=False):
        import errno

        raise OSError(errno.ENOSPC, "No space left on device", "/data/x.npy")
    st.write("the page goes on")


def test_a_full_disk_in_the_app_is_a_message_not_a_traceback():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_full_disk_script).run()
    _no_exception(at)
    said = [e.value for e in at.error]
    assert len(said) == 2 and all("no space left" in s for s in said), said
    assert "the page goes on" in [m.value for m in at.markdown]
