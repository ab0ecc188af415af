"""The New product page: a catalogue photo and copy in, each variant's audience out, and
errors as messages (a model whose features the offline encoders did not make)."""

from __future__ import annotations

import pytest

from tests.app.app_support import tables_with
from tests.app.conftest import APP
from tests.preview_support import encoded_shop, items_table

pytestmark = pytest.mark.slow  # the shop is encoded with the real offline encoders


@pytest.fixture(scope="module")
def eshop(tmp_path_factory):
    return encoded_shop(tmp_path_factory)


def _page(dataset, variants: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["dataset"] = str(dataset)
    at.query_params["variant"] = variants
    at.run()
    return at.switch_page("pages/new_product.py").run()


def _fill(at, item: int):
    at.radio(key="np_source").set_value("Pick a catalogue photo").run()
    at.selectbox(key="np_item").set_value(item).run()
    return at


def test_a_catalogue_photo_and_copy_give_each_variant_an_audience(eshop, app_home):
    at = _fill(_page(eshop, "anchor,lightgcn"), 3)
    row = items_table().iloc[3]
    assert at.text_input(key="np_title").value == row.title  # the copy filled the form
    at.text_input(key="np_title").set_value("A brand new ring").run()
    at.toggle(key="np_go").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    segments = tables_with(at, "segment", "audience", "share reached")
    assert len(segments) == 1  # anchor's; lightgcn says it cannot rank it
    assert set(segments[0]["name"]) >= {"all", "visual", "textual"}
    assert any("cannot rank" in i.value for i in at.info)
    assert any("ranked #" in m.value for m in at.markdown)  # the why of a shopper
    assert at.selectbox(key="np_why_user").value is not None
    assert "photo (raw image feature)" in [t.label for t in at.tabs]


def test_empty_copy_is_a_message_not_a_traceback(eshop, app_home):
    at = _fill(_page(eshop, "anchor"), 1)
    at.text_area(key="np_desc").set_value("   ").run()
    at.toggle(key="np_go").set_value(True).run()
    assert not at.exception
    assert any("description" in e.value and "empty" in e.value for e in at.error)
    assert not tables_with(at, "segment", "audience")


def test_a_model_with_other_features_says_so(shop, app_home):
    at = _fill(_page(shop, "anchor"), 2)  # the app shop: random 32-d features, not encoders'
    at.toggle(key="np_go").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("1280-d" in e.value or "-d but" in e.value for e in at.error)


def test_a_model_with_a_cold_start_path_explains_the_product_by_its_content(eshop, app_home):
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.cold_start import (
        COLD_START_FILE,
        CONTENT,
        TAIL_CALIBRATION,
        ColdStart,
        write_cold_start,
    )
    from anchorrec.models.model_dir import ModelDir

    ds = load_mmrec(eshop)
    model_dir = eshop / "models" / "anchor"
    cold = ColdStart(CONTENT, TAIL_CALIBRATION, 0, 0.5, 1.0, 1.0, None, 0.0, ds.fingerprint)
    write_cold_start(ModelDir(model_dir), cold)
    try:
        at = _fill(_page(eshop, "anchor"), 3)
        at.toggle(key="np_go").set_value(True).run()
        assert not at.exception, [e.message for e in at.exception]
        captions = " ".join(c.value for c in at.caption)
        assert "Cold-start path (content scorer, exact)" in captions
        assert tables_with(at, "past purchase", "image", "text", "total")
        # switched off: the published ranking and its input attribution again
        at.toggle(key="cold_start_np").set_value(False).run()
        assert not at.exception
        assert "Cold-start path (content scorer, exact)" not in " ".join(
            c.value for c in at.caption
        )
    finally:
        (model_dir / COLD_START_FILE).unlink(missing_ok=True)
