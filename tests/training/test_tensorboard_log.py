"""``train --log-dir``: TensorBoard event files a tensorboard reader lists, or a message that
says how to install tensorboard."""

from __future__ import annotations

import sys

import pytest

from anchorrec.cli import main
from anchorrec.data.mmrec import save_mmrec
from tests.conftest import make_tiny_dataset


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return save_mmrec(make_tiny_dataset(), tmp_path_factory.mktemp("tb") / "tiny")


def test_log_dir_writes_losses_and_valid_metrics_per_epoch(data_dir, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logs = tmp_path / "runs" / "mf"
    argv = ["train", str(data_dir), "--variant", "mf", "--epochs", "3", "--patience", "5"]
    argv += ["--out", str(tmp_path / "model"), "--device", "cpu", "--quiet"]
    assert main([*argv, "--log-dir", str(logs)]) == 0
    events = list(logs.glob("events.out.tfevents.*"))
    assert events, "no event file written"
    acc = EventAccumulator(str(logs))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"loss/total", "loss/bpr", "valid/recall@20", "valid/ndcg@20", "lr"} <= tags
    recall = acc.Scalars("valid/recall@20")
    assert [e.step for e in recall] == [1, 2, 3]
    import json

    log = [json.loads(x) for x in (tmp_path / "model" / "train_log.jsonl").read_text().splitlines()]
    assert [round(e.value, 6) for e in recall] == [round(r["valid"]["recall@20"], 6) for r in log]


def test_without_tensorboard_the_message_says_how_to_install_it(
    data_dir, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if absent
    argv = ["train", str(data_dir), "--variant", "mf", "--epochs", "1"]
    argv += ["--out", str(tmp_path / "model"), "--log-dir", str(tmp_path / "logs")]
    assert main(argv) == 2
    assert "pip install tensorboard" in capsys.readouterr().err
    assert not (tmp_path / "model").exists()
