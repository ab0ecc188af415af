"""The registry of derived results drives ``prepare``, the pages' "prepare first" check and
the background job's progress; a stored background-game cache is read by a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anchorrec.analysis import derived
from anchorrec.cli import main
from tests.conftest import make_tiny_dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(dataset directory, model directory) of an untrained-but-saved anchor model."""
    from anchorrec.data.mmrec import load_mmrec, save_mmrec
    from anchorrec.models.checkpoint import save_model
    from anchorrec.models.registry import build_model

    root = tmp_path_factory.mktemp("derived")
    data = save_mmrec(make_tiny_dataset(n_users=40, n_items=30), root / "tiny")
    ds = load_mmrec(data)
    return data, Path(save_model(build_model("anchor", ds, seed=0), ds, root / "model"))


@pytest.fixture
def extra(monkeypatch, tmp_path):
    """A result declared by one ``register`` call (as another engineer would add one)."""
    calls: list[dict[str, str]] = []

    def compute(analysis, params):
        calls.append(dict(params))
        name = f"extra-{params['game']}.json"
        (tmp_path / name).write_text(json.dumps({"fingerprint": analysis.loaded.fingerprint}))
        return params["game"]

    def read(model_dir, params):
        path = tmp_path / f"extra-{params['game']}.json"
        return params["game"] if path.is_file() else None

    monkeypatch.setattr(derived, "RESULTS", dict(derived.RESULTS))
    result = derived.register(
        derived.Derived(
            key="extra",
            words="The extra result",
            params=(derived.Param("game", derived.GAMES),),
            file=lambda p: f"extra-{p['game']}.json",
            read=read,
            compute=compute,
            cost=derived.Cost.SECONDS,
            inline_max_items=3,
        )
    )
    return result, calls


def test_the_registry_spells_the_games_and_methods_of_the_library():
    from anchorrec.analysis.attribution import GAMES
    from anchorrec.analysis.projection import METHODS

    assert derived.GAMES == GAMES
    assert set(derived.METHODS) == set(METHODS)
    for result in derived.RESULTS.values():
        for param in result.params:
            assert set(param.choices) <= set(derived.GAMES) | set(derived.METHODS)


def test_a_key_declared_twice_is_refused():
    with pytest.raises(ValueError, match="declared twice"):
        derived.register(derived.RESULTS[derived.DIAGNOSTICS])


def test_prepare_steps_walk_every_result_and_parameter():
    steps = derived.prepare_steps(["m/a", "m/b"], {"game": ("background",), "method": ("pca",)})
    labels = [s.label for s in steps]
    assert labels[:6] == [
        "a: per-user metrics",
        "a: diagnostics",
        "a: coalition cache (background)",
        "a: reliance (background)",
        "a: accuracy game (background)",
        "a: layouts (pca)",
    ]
    assert len(steps) == 2 * len(derived.RESULTS)
    skipped = derived.prepare_steps(["m/a"], skip=[derived.DIAGNOSTICS])
    assert derived.DIAGNOSTICS not in {s.result.key for s in skipped}


def test_the_progress_file_reads_back_and_ignores_garbage(tmp_path):
    path = tmp_path / "progress.json"
    derived.Progress(3, 4, "a: layouts (pca)").write(path)
    back = derived.Progress.read(path)
    assert back == derived.Progress(3, 4, "a: layouts (pca)") and back.fraction == 0.75
    path.write_text("{not json")
    assert derived.Progress.read(path) is None
    assert derived.Progress.read(tmp_path / "absent.json") is None


def test_a_registered_result_is_prepared_checked_and_counted(trained, extra, tmp_path, monkeypatch):
    from anchorrec.ui import prepared
    from anchorrec.workspace import ModelEntry

    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    data, model = trained
    result, calls = extra
    entry = ModelEntry("model", model, "anchor", "dataset")
    ds = make_tiny_dataset(n_users=40, n_items=30)
    assert prepared.is_missing("extra", entry, ds, game="background")
    progress = tmp_path / "progress.json"
    argv = ["prepare", str(model), "--data", str(data), "--quiet", "--methods", "pca"]
    argv += ["--no-diagnostics", "--games", "background", "--progress-file", str(progress)]
    assert main(argv) == 0
    assert calls == [{"game": "background"}]  # prepare computed it, under the games asked
    assert not prepared.is_missing("extra", entry, ds, game="background")
    assert prepared.is_missing("extra", entry, ds, game="mean")
    assert not prepared.is_missing("extra", entry, ds)  # any game
    done = derived.Progress.read(progress)
    assert (
        done is not None
        and done.finished
        and done.done
        == done.total
        == len(
            derived.prepare_steps(
                [model], {"game": ("background",), "method": ("pca",)}, ["diagnostics"]
            )
        )
    )
    assert main(argv) == 0
    assert len(calls) == 1  # stored: the second run reads it


def test_the_prepare_first_check_covers_every_registered_result(extra):
    from anchorrec.ui import prepared

    assert set(derived.RESULTS) - {"extra"} <= set(prepared.INLINE_MAX_ITEMS)
    assert prepared.inline_ok("extra", 3) and not prepared.inline_ok("extra", 4)  # declared


def test_the_background_cache_is_stored_and_a_fresh_server_reads_it(trained, tmp_path):
    """The first server computes the background game's cache and stores it; a second
    server (a fresh process, empty caches) reads it and never runs the forward passes."""
    data, model = trained
    script = """
import sys, numpy as np
import anchorrec.analysis.attribution as attribution
from anchorrec.data.mmrec import load_mmrec
from anchorrec.ui import cached
if sys.argv[3] == "reuse":
    def refuse(*a, **k):
        raise AssertionError("the coalition cache was rebuilt")
    attribution.build_coalition_cache = refuse
ds = load_mmrec(sys.argv[1])
cache = cached.coalitions(cached.load_model(sys.argv[2], ds), "background")
print(cache.game, cache.draws, float(np.asarray(cache.users, dtype=np.float64).sum()))
"""
    env_home = {"ANCHORREC_HOME": str(tmp_path / "home")}

    def server(mode: str) -> str:
        import os

        out = subprocess.run(
            [sys.executable, "-c", script, str(data), str(model), mode],
            cwd=ROOT,
            env={**os.environ, **env_home, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout.strip().splitlines()[-1]

    first = server("compute")
    assert derived.is_stored(derived.COALITIONS, model, {"game": "background"})
    second = server("reuse")
    assert first.split()[:2] == ["background", "8"]
    assert np.isclose(float(first.split()[2]), float(second.split()[2]))


def test_one_analysis_object_computes_each_result_once(trained, tmp_path, monkeypatch):
    import anchorrec.analysis.audit as audit_module
    from anchorrec.analysis.model_analysis import ModelAnalysis
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import load_model

    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    data, model = trained
    analysis = ModelAnalysis(load_model(model, load_mmrec(data), device="cpu"))
    assert not analysis.computed("coalitions", "mean")
    cache = analysis.coalitions("mean")
    assert analysis.coalitions("mean") is cache and analysis.computed("coalitions", "mean")
    assert analysis.coalitions("background") is not cache
    assert derived.is_stored(derived.COALITIONS, model, {"game": "background"})  # stored
    calls = []
    real = audit_module.audit
    monkeypatch.setattr(audit_module, "audit", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = analysis.audit(5, "mean")
    assert analysis.audit(5, "mean") is first and len(calls) == 1
    shares = analysis.id_share_by_item(5, "mean")
    assert shares is not None and shares.shape == (analysis.loaded.dataset.n_items,)
    assert len(calls) == 1  # the ID share reuses the audit
    assert analysis.per_user_metrics is analysis.per_user_metrics
    assert set(analysis.per_user_metrics) >= {"recall@20", "ndcg@20"}
