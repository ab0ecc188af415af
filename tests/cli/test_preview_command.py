"""``python -m anchorrec preview``: JSON out, exit 2 with the field named on bad input."""

from __future__ import annotations

import json

import pytest

from anchorrec.cli import main
from tests.preview_support import encoded_shop, items_table

pytestmark = pytest.mark.slow  # the shop is encoded with the real offline encoders


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    return encoded_shop(tmp_path_factory)


def _args(shop, **over):
    row = items_table().iloc[4]
    args = {
        "--title": row.title,
        "--description": row.description,
        "--image": str(shop / row.image),
        "--category": row.category,
    }
    args.update(over)
    out = [str(shop / "models" / "anchor"), str(shop / "models" / "lightgcn"), "--k", "5"]
    for key, value in args.items():
        if value is not None:
            out += [key, value]
    return ["preview", *out]


def test_preview_json(shop, capsys):
    assert main([*_args(shop), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    anchor, lightgcn = records
    assert anchor["can_rank"] and anchor["variant"] == "anchor"
    assert anchor["audience_size"] == sum(
        s["audience"] for s in anchor["segments"] if s["segment"] == "shopper group"
    )
    assert anchor["neighbours"]["raw_image"][0]["item"] == 4
    assert not lightgcn["can_rank"] and "cannot rank" in lightgcn["reason"]


def test_preview_text_and_edit(shop, capsys):
    assert main(_args(shop)) == 0
    out = capsys.readouterr().out
    assert "enters the top-5 of" in out and "cannot rank" in out
    edit = ["preview", str(shop / "models" / "anchor"), "--edit", "4", "--title", "Ring model 3"]
    assert main([*edit, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["edit"] and record["item"] == 4
    assert record["audience_before"] == record["stay"] + record["leave"]


@pytest.mark.parametrize(
    ("over", "flag"),
    [
        ({"--title": "  "}, "--title"),
        ({"--description": ""}, "--description"),
        ({"--image": "/nonexistent/photo.jpg"}, "--image"),
        ({"--image": None}, "--image"),
    ],
)
def test_bad_input_exits_2_naming_the_flag(shop, capsys, tmp_path, over, flag):
    assert main(_args(shop, **over)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {flag}") and "Traceback" not in err


def test_a_file_that_is_not_a_photo(shop, capsys, tmp_path):
    bad = tmp_path / "copy.txt"
    bad.write_text("hello")
    assert main(_args(shop, **{"--image": str(bad)})) == 2
    assert "not a recognised image" in capsys.readouterr().err
    assert main(["preview", str(shop / "models" / "anchor"), "--edit", "4"]) == 2
    assert "what changes" in capsys.readouterr().err
