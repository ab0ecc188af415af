"""bench/speed/peer_speed.py: skips without a copy of the released code; its helpers are right.

Nothing here trains or needs the released code: the log parser, the ratio of medians, the
interleaving, the YAML rewrite, the guards and the stand-ins are checked on small inputs.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import torch

from bench.speed import peer_speed
from tests.conftest import PROJECT_ROOT

RELEASED_LOG = """\
01 Dec 16:17    INFO ██Server: 	host
01 Dec 16:17    INFO epoch 0 training [time: 53.61s, train loss: 42.0689]
01 Dec 16:17    INFO epoch 0 evaluating [time: 3.02s, valid_score: 0.012300]
PEER_EPOCH {"epoch": 0, "wall_s": 53.6, "cpu_s": 104.25}
01 Dec 16:18    INFO epoch 1 training [time: 51.50s, train loss: 40.1]
PEER_EPOCH {"epoch": 1, "wall_s": 51.5, "cpu_s": 101.5}
01 Dec 16:18    INFO epoch 1 evaluating [time: 4.70s, valid_score: 0.014100]
"""


def test_without_a_copy_it_says_so_and_exits_0(monkeypatch, capsys) -> None:
    monkeypatch.delenv(peer_speed.RELEASED_ENV, raising=False)
    assert peer_speed.main([]) == 0
    out = capsys.readouterr().out
    assert "skipped" in out and "--released" in out and "AnchorRec_SIGIR26" in out


def test_the_skip_also_holds_when_run_as_a_module(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "bench.speed.peer_speed"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == peer_speed.SKIP_MESSAGE


def test_a_folder_that_is_not_the_release_is_refused_by_name(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("")
    with pytest.raises(SystemExit, match=r"lacks src/models/anchorrec\.py"):
        peer_speed.main(["--released", str(tmp_path)])


def test_the_run_is_never_prepared_inside_the_repository(tmp_path) -> None:
    for rel in peer_speed.RELEASED_FILES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    inside = PROJECT_ROOT / "bench" / "results" / "never_created"
    with pytest.raises(SystemExit, match="inside the repository"):
        peer_speed.main(["--released", str(tmp_path), "--work", str(inside)])
    assert not inside.exists()


def test_the_released_log_gives_wall_and_cpu_seconds_per_epoch() -> None:
    times = peer_speed.parse_released_log(RELEASED_LOG)
    assert times == {"train_s": [53.61, 51.5], "eval_s": [3.02, 4.7], "cpu_s": [104.25, 101.5]}


def test_a_second_grid_point_in_the_log_is_an_error() -> None:
    with pytest.raises(ValueError, match="epoch 0 twice"):
        peer_speed.parse_released_log(RELEASED_LOG + RELEASED_LOG)


def test_ratio_of_medians_and_its_range_over_the_bracketing_runs() -> None:
    s = peer_speed.ratio_summary([[50.0, 54.0, 52.0], [60.0, 58.0]], [26.0, 30.0, 27.0])
    assert s["released_median_s"] == 54.0  # median of all five released epochs
    assert s["ours_median_s"] == 27.0
    assert s["ratio"] == pytest.approx(27 / 54, abs=1e-4)
    # the run medians are 52 and 59: our median over the slower, then over the faster
    assert s["ratio_range_bracketing_runs"] == [round(27 / 59, 4), round(27 / 52, 4)]
    assert s["released_range_s"] == [50.0, 60.0] and s["ours_range_s"] == [26.0, 30.0]
    with pytest.raises(ValueError):
        peer_speed.ratio_summary([[]], [1.0])


def test_released_runs_bracket_each_of_ours() -> None:
    order = peer_speed.interleaved_order(["paper", "default"], rounds=2)
    assert order == ["released", "paper", "released", "default", "released"] + [
        "paper",
        "released",
        "default",
        "released",
    ]
    assert peer_speed.bracketing(order, 1) == (0, 2)
    assert peer_speed.bracketing(order, 3) == (2, 4)
    scale = {"released": 10.0, "paper": 1.0, "default": 1.0}
    runs = [
        {"train_s": [scale[side] * (i + 1)] * 2, "cpu_s": [2 * scale[side] * (i + 1)] * 2}
        for i, side in enumerate(order)
    ]
    ratios = peer_speed.training_ratios(order, runs, ["paper"])
    # paper ran at positions 1 and 5 (2 and 6 s), bracketed by the released runs at 0, 2, 4
    # and 6 (10, 30, 50 and 70 s); the default runs and the last released run do not count
    wall = ratios["paper"]["train_s"]
    assert (wall["ours_median_s"], wall["released_median_s"], wall["ratio"]) == (4.0, 40.0, 0.1)
    assert wall["ratio_range_bracketing_runs"] == [round(4 / 70, 4), round(4 / 10, 4)]
    assert ratios["paper"]["cpu_s"]["ratio"] == 0.1


def test_yaml_keys_are_set_on_every_line_and_the_rest_is_kept() -> None:
    text = "embedding_size: 64\nn_layers: [1, 2, 3]\nlayer_norm_eps: 1e-12\nn_layers: [2]\n"
    out = peer_speed.set_yaml_keys(text, {"n_layers": [3], "epochs": 2, "use_gpu": False})
    assert out.splitlines() == [
        "embedding_size: 64",
        "n_layers: [3]",
        "layer_norm_eps: 1e-12",  # left as written
        "n_layers: [3]",
        "epochs: 2",
        "use_gpu: false",
    ]


def test_every_grid_of_the_released_config_has_its_single_value() -> None:
    released_grid = ["lambda_weight", "aal_loss", "learning_rate", "n_layers", "knn_k"]
    released_grid += ["amp_loss", "tau_weight"]
    assert set(released_grid) <= set(peer_speed.RELEASED_SINGLE_VALUES)
    from anchorrec.models.config import preset_config

    paper = preset_config("paper")  # the same values as our paper preset
    v = peer_speed.RELEASED_SINGLE_VALUES
    assert (v["n_layers"], v["knn_k"], v["lambda_weight"]) == (
        paper.modality_layers,
        paper.knn_k,
        paper.l2_weight,
    )
    training = getattr(paper, "train", paper)  # training settings may be their own part
    assert (v["learning_rate"], v["aal_loss"], v["amp_loss"], v["tau_weight"]) == (
        training.learning_rate,
        paper.aal_weight,
        paper.amp_weight,
        paper.temperature,
    )


@pytest.fixture
def standins(tmp_path, monkeypatch):
    for rel, text in peer_speed.STANDINS.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    names = ("torch_scatter", "lmdb", "torchvision", "torchvision.transforms")
    for name in names:
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield {n: importlib.import_module(n) for n in names}
    for name in names:
        sys.modules.pop(name, None)


def test_the_scatter_add_stand_in_sums_like_torch_scatter(standins) -> None:
    src = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    index = torch.tensor([0, 2, 0, 3, 2])
    out = standins["torch_scatter"].scatter_add(src, index, dim=0, dim_size=5)
    assert out.tolist() == [4.0, 0.0, 7.0, 4.0, 0.0]
    assert standins["torch_scatter"].scatter_add(src, index).tolist() == [4.0, 0.0, 7.0, 4.0]


def test_the_image_and_plot_stand_ins_refuse_to_be_used(standins) -> None:
    with pytest.raises(RuntimeError, match="stand-in"):
        standins["lmdb"].open("x")
    with pytest.raises(RuntimeError, match="stand-in"):
        standins["torchvision.transforms"].Compose([])


def test_metrics_agree_only_within_the_released_rounding() -> None:
    ours = {"users": 19445, "recall@20": 0.0029377, "ndcg@20": 0.0011117}
    assert peer_speed.metrics_agree({"users": 19445, "recall@20": 0.0029, "ndcg@20": 0.0011}, ours)
    assert not peer_speed.metrics_agree(
        {"users": 19445, "recall@20": 0.0030, "ndcg@20": 0.0011}, ours
    )
    assert not peer_speed.metrics_agree({**ours, "users": 19444}, ours)


def test_the_row_names_its_ratios_first() -> None:
    ratio = {"ratio": 0.5}
    figures = {
        "training": {"ratios": {"paper": {"cpu_s": {"ratio": 0.6}, "train_s": {"ratio": 0.55}}}},
        "evaluation": {"cpu_ratio": {"ratio": 0.3}, "ratio": ratio, "metrics_agree": True},
    }
    out = peer_speed.headline_figures(figures, 1.5)
    assert out["headline"] == [
        "paper_ratio_cpu",
        "paper_ratio_wall",
        "eval_ratio_cpu",
        "eval_ratio_wall",
        "metrics_agree",
    ]
    assert (out["paper_ratio_cpu"], out["eval_ratio_wall"]) == (0.6, 0.5)
    assert out["load_avg_1min"][0] == 1.5
    assert peer_speed.headline_figures({}, 0.0)["headline"] == []
