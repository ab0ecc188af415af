"""What a newcomer meets: links that warn, groups that pick their shoppers, honest what-ifs,
layout settings shown at once, words for the diagnostics and blanks where nothing was measured."""

from __future__ import annotations

from tests.app.app_support import panels_data, table_with


def _no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_a_link_to_an_unknown_variant_warns_instead_of_substituting_silently(app):
    app.query_params.update({"variant": "lightgcn,nosuchmodel"})
    at = app.run()
    _no_exception(at)
    warnings = [w.value for w in at.sidebar.warning]
    assert any("'nosuchmodel'" in w and "showing lightgcn" in w for w in warnings)
    assert at.sidebar.multiselect[0].value == ["lightgcn"]


def test_a_link_to_an_out_of_range_shopper_or_item_warns(app):
    app.query_params.update({"user": "5000", "item": "-3"})
    at = app.run()
    _no_exception(at)
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "user=5000 is out of range (0 to 79); showing user 79" in warnings
    assert "item=-3 is out of range (0 to 59); showing item 0" in warnings
    assert at.sidebar.number_input[0].value == 79
    at.run()  # the warning was about the link, once
    assert not at.sidebar.warning


def test_choosing_a_planted_group_selects_a_shopper_of_that_group(app, shop):
    from anchorrec.data.mmrec import load_mmrec

    groups = load_mmrec(shop).users["group"]
    app.query_params["user"] = "0"  # user 0 is 'visual'
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    at.selectbox(key="rec_group").set_value("textual").run()
    _no_exception(at)
    user = int(at.selectbox(key="rec_user").value)
    assert groups.iloc[user] == "textual"
    assert at.sidebar.number_input[0].value == user  # the whole app follows
    assert any(m.value.startswith(f"**Shopper {user}**") for m in at.markdown)


def test_what_if_on_an_id_only_model_says_every_item_ties(app):
    app.query_params["variant"] = "lightgcn"
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    _no_exception(at)
    assert any("removing it leaves every item with the same score" in i.value for i in at.info)
    assert not [m for m in at.metric if m.label.startswith("without")]  # no pseudo-ranks
    assert not [d for d in at.dataframe if "without history" in d.value.columns]


def test_the_top_k_shows_shares_in_words_right_after_the_title(app):
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    (table,) = [d for d in at.dataframe if "score" in d.value.columns][:1]
    order = list(table.proto.column_order)
    assert order[:6] == ["image", "rank", "title", "id share", "image share", "text share"]
    assert any("raised (right of 0) or lowered" in c.value for c in at.caption)


def test_compute_layouts_shows_the_method_parameters_as_soon_as_it_is_picked(app):
    at = app.run()
    at.switch_page("pages/spaces.py").run()
    labels = lambda: {n.label for n in at.number_input}  # noqa: E731
    assert "Neighbours" not in labels()
    at.selectbox(key="lay_method").set_value("umap").run()  # no submit
    assert {"Neighbours", "Min. distance", "Seed"} <= labels()
    at.selectbox(key="lay_method").set_value("tsne").run()
    assert "Perplexity" in labels() and "Neighbours" not in labels()
    captions = " ".join(c.value for c in at.caption)
    assert "takes a second" not in captions and "Measured on an idle 2-core machine" in captions


def test_positional_collapse_shows_words_and_blanks_not_none(app):
    app.query_params["variant"] = "anchor,lightgcn"
    at = app.run()
    at.switch_page("pages/collapse.py").run()
    _no_exception(at)
    (element,) = [d for d in at.dataframe if "key" in d.value.columns]
    shown = element.value  # what the browser draws: text, since it draws any null as "None"
    missing = shown["lightgcn"] == ""
    assert missing.any()  # an ID-only model has no picture or text space
    assert shown["lightgcn"].map(lambda v: isinstance(v, str)).all()  # no null to draw
    assert not {"None", "nan"} & set(shown["lightgcn"])
    values = [v.split(" [")[0] for v in shown.loc[~missing, "anchor"] if v]  # value [low, high]
    assert values and all(float(v) == float(f"{float(v):.3g}") for v in values)
    assert list(element.proto.column_order) == [
        "metric",
        "space",
        "anchor",
        "lightgcn",
        "null",
        "verdict",  # whether the variants' intervals are apart
    ]


def test_a_selection_is_summarised_with_its_items_and_a_csv(app):
    at = app.run()
    at.switch_page("pages/spaces.py").run()
    items = [4, 8, 12, 13, 17]  # bags, bags, bags, shoes, shoes
    at.session_state["spaces_panels"] = {
        "selection": {"items": items, "gesture": "box", "space": "final", "seq": 1}
    }
    at.run()
    _no_exception(at)
    assert "Selection — 5 items" in [s.value for s in at.subheader]
    by = table_with(at, "category", "items", "share")
    assert dict(zip(by["category"], by["items"], strict=True)) == {"bags": 3, "shoes": 2}
    listed = table_with(at, "image", "item", "train interactions")
    assert listed["item"].tolist() == [4, 8, 12, 13, 17]
    assert "Download the 5 items (CSV)" in [b.proto.label for b in at.get("download_button")]


def test_search_rings_the_matches_in_every_panel(app):
    at = app.run()
    at.switch_page("pages/spaces.py").run()
    at.text_input(key="spaces_search").input("number 42").run()
    _no_exception(at)
    assert any(c.value == "1 item matches." for c in at.caption)
    data = panels_data(at)
    assert data["found"] == [42] and len(data["panels"]) >= 3
    row = data["items"].index(42)
    assert data["titles"][row] == "Scarve number 42"
    assert all(row in p["rows"] for p in data["panels"])  # ringed wherever the item lies
