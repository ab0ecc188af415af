"""The lists the shop shows: a new arrival ranked by the cold-start path is marked and
explained in the path's own game, not the model's."""

from __future__ import annotations

import numpy as np

from tests.app.app_support import tables_with


def test_a_routed_item_in_the_shown_list_says_why_in_its_own_game(app, shop):
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.cold_start import (
        COLD_START_FILE,
        PER_SHOPPER,
        TASTE,
        ColdStart,
        taste_basis,
        write_cold_start,
    )
    from anchorrec.models.model_dir import ModelDir

    ds = load_mmrec(shop)
    counts = np.asarray(ds.train.sum(axis=0)).ravel()
    threshold = int(np.quantile(counts, 0.2))  # a fifth of the catalogue goes by content
    centre, scale = taste_basis(ds)
    cold = ColdStart(
        TASTE, PER_SHOPPER, threshold, 0.5, 1.0, 2.0, dataset_fingerprint=ds.fingerprint,
        sharpness=3.0, centre=centre, taste_scale=scale,
    )  # fmt: skip
    model_dir = shop / "models" / "anchor"
    write_cold_start(ModelDir(model_dir), cold)
    try:
        app.query_params["variant"] = "anchor"
        at = app.run()
        at.switch_page("pages/recommendations.py").run()
        assert not at.exception, [e.message for e in at.exception]
        shown = tables_with(at, "new arrival")
        assert shown, "the list the shop shows is on the page"
        routed = shown[0][shown[0]["new arrival"].astype(str) != ""]
        assert len(routed), "a shift of 2 sd puts routed items in the list"
        assert not [c.value for c in at.caption if c.value.startswith("★ #")]  # on request
        at.button(key="rec_marked_anchor_why").click().run()
        assert not at.exception, [e.message for e in at.exception]
        whys = [c.value for c in at.caption if c.value.startswith("★ #")]
        assert len(whys) == len(routed)  # one line each, in the path's own game
        assert all("Ranked by its photo and copy" in w for w in whys)
        assert any("content scorer's exact split" in c.value for c in at.caption)
        at.toggle(key="cold_start_rec").set_value(False).run()  # the published ranking
        assert not at.exception
        assert not [c.value for c in at.caption if c.value.startswith("★ #")]
    finally:
        (model_dir / COLD_START_FILE).unlink(missing_ok=True)
