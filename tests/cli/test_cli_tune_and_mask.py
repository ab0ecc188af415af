"""``tune`` on the command line, and the mask rule named wherever a metric is printed."""

from __future__ import annotations

import json

from anchorrec.cli import main
from anchorrec.data.mmrec import save_mmrec
from tests.conftest import make_tiny_dataset


def test_tune_then_evaluate_name_the_mask_rule(tmp_path, capsys):
    data = save_mmrec(make_tiny_dataset(), tmp_path / "tiny")
    out = tmp_path / "tuned"
    argv = ["tune", str(data), "--variant", "ease", "--seeds", "0", "1", "--max-points", "2"]
    assert main([*argv, "--out", str(out), "--json"]) == 0
    printed = capsys.readouterr()  # with --json the table goes to stderr, the JSON to stdout
    assert "mask train" in printed.err and "recall@20" in printed.err
    summary = json.loads(printed.out)
    assert summary["grid_points"] == 2 and summary["seeds"] == [0, 1]
    assert main(["evaluate", str(out / "model"), "--mask", "train+valid", "--json"]) == 0
    printed = capsys.readouterr()
    assert "mask train+valid" in printed.err.splitlines()[0]
    assert json.loads(printed.out)["mask"] == "train+valid"
    grid_run = out / "grid" / "point-1"  # ease is closed form: its seeds share one fit
    assert main(["compare", str(grid_run), "--reference", str(out / "model")]) == 0
    assert "mask train" in capsys.readouterr().out
    # an existing output is a user error unless it is to be continued
    assert main([*argv, "--out", str(out)]) == 2
    assert "overwrite" in capsys.readouterr().err
    assert main([*argv, "--out", str(out), "--resume"]) == 0  # continues: nothing retrained
    assert "mask train" in capsys.readouterr().out
