"""Two models of one variant on Positional collapse: each keeps its own numbers and name.

The page used to rename cached diagnostics reports in place over a zip of two lists ordered
differently (stored reports first, freshly computed ones after), so each model's numbers
appeared under the other's name, in every later session of the process.
"""

from __future__ import annotations

import shutil

import pytest

from tests.app.conftest import APP


@pytest.fixture(scope="module")
def two_lightgcns(shop, tmp_path_factory):
    """The shop with a second LightGCN (another seed, diagnostics not computed yet)."""
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.config import preset_config
    from anchorrec.training.trainer import train

    copy = tmp_path_factory.mktemp("names") / "shop"
    shutil.copytree(shop, copy)
    ds = load_mmrec(copy)
    config = preset_config("default", variant="lightgcn").replace(epochs=2, embedding_dim=16)
    train(ds, "lightgcn", config, out_dir=copy / "models" / "lightgcn-b", seed=1, device="cpu",
          progress=False)  # fmt: skip
    return copy


def _diagnostics(at):
    (table,) = [d.value for d in at.dataframe if "key" in d.value.columns]
    return table


def _final_rank(table, name: str) -> str:
    """The final vectors' effective rank as the page shows it: ``value [low, high]``."""
    row = table[(table["key"] == "effective_rank") & (table["space"] == "final vectors")]
    return str(row[name].iloc[0])


def test_each_model_keeps_its_numbers_under_its_own_name(two_lightgcns, app_home):
    from streamlit.testing.v1 import AppTest

    from anchorrec.analysis.diagnostics import read_diagnostics
    from anchorrec.analysis.diagnostics_report import format_interval

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"dataset": str(two_lightgcns), "variant": "lightgcn-b,lightgcn"})
    at.run()
    at.switch_page("pages/collapse.py").run()
    at.button(key="diag_compute").click().run()  # lightgcn-b's are computed now
    assert not at.exception, [e.message for e in at.exception]
    assert not [i for i in at.info if "not computed yet" in i.value]  # the notice is gone
    table = _diagnostics(at)
    truth = {
        name: format_interval(
            read_diagnostics(two_lightgcns / "models" / name).row("effective_rank", "final")
        )
        for name in ("lightgcn", "lightgcn-b")
    }
    # two seeds: a swap would show in the table's value and interval
    assert truth["lightgcn"] != truth["lightgcn-b"]
    for name, shown in truth.items():
        assert _final_rank(table, name) == shown

    # another session, one model: the shared cached report kept its own name
    again = AppTest.from_file(APP, default_timeout=120)
    again.query_params.update({"dataset": str(two_lightgcns), "variant": "lightgcn"})
    again.run()
    again.switch_page("pages/collapse.py").run()
    table = _diagnostics(again)
    assert "lightgcn-b" not in table.columns
    assert _final_rank(table, "lightgcn") == truth["lightgcn"]
