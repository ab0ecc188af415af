"""The registry of results derived from a trained model: one declaration per result.

A model's derived results — the test users' per-user metrics, the collapse diagnostics, the
attribution's coalition cache of each game, the modality reliance of each game, the 2-D
layouts — are each declared once here as a :class:`Derived`: its parameters (``game``,
``method``, …), the file it is kept in, how it is read (cheaply, without loading the model)
and how it is computed, whether it is stored, and its cost class. Everything that walks the
results iterates :data:`RESULTS` instead of naming them:

- ``python -m anchorrec prepare`` computes every result (:func:`prepare_steps`,
  :func:`file_cache_value`) and records its progress as a JSON file (:class:`Progress`);
- the dashboard's "prepare first" check (:mod:`anchorrec.ui.prepared`) asks
  :func:`is_stored` and the result's :attr:`Derived.inline_max_items`;
- the background job (:mod:`anchorrec.training.prepare_jobs`) reads the progress file.

Like a file cache keyed by what a value depends on (``file_cache_value(key, value_func)``),
:func:`file_cache_value` reads a stored result when the model's
:class:`~anchorrec.models.model_dir.DerivedStore` holds it and computes (and stores) it
otherwise. Every stored result carries the model's fingerprint (in its name or in the
document) and is written atomically (temporary file, then rename), so a retrained model never
reads a stale result and an interrupted write leaves nothing half-written.

Adding a result
---------------
Write its ``read`` (``(model_dir, params) -> value | None``, no model loaded) and its
``compute`` (``(loaded, params) -> value``, storing it when ``stored``) beside the code that
computes it, then add one declaration at the end of this module::

    register(Derived(
        key="calibration",
        words="The cold-start calibration",
        params=(Param("game", GAMES),),      # every combination is one stored file
        file=lambda p: f"calibration-{p['game']}.json",
        read=lambda model_dir, p: read_calibration(model_dir, p["game"]),
        compute=lambda loaded, p: store_calibration(loaded, p["game"]),
        cost=Cost.MINUTES,
        inline_max_items=5_000,
    ))

``prepare`` then computes it, the background job counts it, and a page can guard it with
``prepared.ready(state, entries, "calibration", key, game=game)``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anchorrec.fileio import atomic_write_json
from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    from anchorrec.analysis.model_analysis import ModelAnalysis
    from anchorrec.models.checkpoint import LoadedModel

#: The values of a result's parameters (``{"game": "mean"}``).
Params = Mapping[str, str]
#: The attribution games and layout methods, spelled out here so that reading the registry
#: imports no torch (tests keep them equal to ``attribution.GAMES`` / ``projection.METHODS``).
GAMES: tuple[str, ...] = ("mean", "background")
METHODS: tuple[str, ...] = ("pca", "tsne", "umap")


class Cost(StrEnum):
    """How long a result takes on a catalogue of a few thousand items (an idle 2-core machine)."""

    SECONDS = "seconds"  # ranking every user once, a few forward passes
    MINUTES = "minutes"  # SVDs, one ranking per coalition, non-linear layouts


@dataclass(frozen=True)
class Param:
    """A parameter of a result and the values ``prepare`` walks by default."""

    name: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Derived:
    """One result derived from a model (see the module docstring)."""

    key: str
    words: str
    file: Callable[[Params], str]
    #: ``(model_dir, params) -> value | None``; None when only ``compute`` can read it back
    #: (it needs the loaded model), and then :attr:`exists` checks the store.
    read: Callable[[str, Params], object | None] | None
    #: ``(analysis, params) -> value``: computes (and, when ``stored``, stores) the result;
    #: through the model's :class:`~anchorrec.analysis.model_analysis.ModelAnalysis`, so the
    #: results it needs (spaces, coalition caches) are computed once.
    compute: Callable[[ModelAnalysis, Params], object]
    cost: Cost
    #: The largest catalogue (items) for which a page still computes it itself.
    inline_max_items: int
    params: tuple[Param, ...] = ()
    stored: bool = True
    #: Only for a dataset with a test split (it ranks the test users).
    needs_test: bool = False
    #: A cheaper presence check than ``read`` (no arrays loaded); ``read`` when None.
    exists: Callable[[str, Params], bool] | None = None
    #: Only for a model with several inputs (its coalitions can be told apart).
    needs_inputs: bool = False

    def grid(self, options: Mapping[str, Sequence[str]] | None = None) -> list[dict[str, str]]:
        """Every combination of the parameters (``options`` narrows a parameter's values)."""
        options = options or {}
        values = [tuple(options.get(p.name, p.choices)) for p in self.params]
        return [
            dict(zip([p.name for p in self.params], c, strict=True))
            for c in itertools.product(*values)
        ]

    def label(self, params: Params) -> str:
        """``coalition cache (background)``: what a progress line calls one combination."""
        shown = ", ".join(params[p.name] for p in self.params if p.name in params)
        return f"{self.key} ({shown})" if shown else self.key


#: Every derived result, in the order ``prepare`` computes them.
RESULTS: dict[str, Derived] = {}


def register(result: Derived) -> Derived:
    """Add ``result`` to :data:`RESULTS` (a key declared twice is a programming error)."""
    if result.key in RESULTS:
        raise ValueError(f"derived result {result.key!r} is declared twice")
    RESULTS[result.key] = result
    return result


def get(key: str) -> Derived:
    try:
        return RESULTS[key]
    except KeyError:
        raise KeyError(f"unknown derived result {key!r}: one of {', '.join(RESULTS)}") from None


def is_stored(key: str, model_dir: str | Path, params: Params | None = None) -> bool:
    """Whether the model's store holds ``key`` for ``params`` (file checks; no model loaded).
    A parameter left out of ``params`` matches any of its values."""
    result = get(key)
    given = dict(params or {})
    check = result.exists or (
        lambda d, p: result.read is not None and result.read(d, p) is not None
    )
    combos = result.grid({k: (v,) for k, v in given.items()})
    return any(check(str(model_dir), p) for p in combos)


def file_cache_value(key: str, analysis: ModelAnalysis, params: Params | None = None) -> object:
    """The result ``key`` of the analysed model for ``params``: read from its store when there,
    else computed (and, for a stored result, written atomically under the model's
    fingerprint)."""
    result = get(key)
    params = dict(params or {})
    model_dir = analysis.loaded.model_dir
    if result.stored and result.read is not None and model_dir is not None:
        found = result.read(str(model_dir), params)
        if found is not None:
            return found
    return result.compute(analysis, params)


@dataclass(frozen=True)
class Step:
    """One result of one model that ``prepare`` computes."""

    model_dir: str
    result: Derived
    params: dict[str, str]

    @property
    def label(self) -> str:
        return f"{Path(self.model_dir).name}: {self.result.label(self.params)}"


def prepare_steps(
    model_dirs: Sequence[str | Path],
    options: Mapping[str, Sequence[str]] | None = None,
    skip: Sequence[str] = (),
) -> list[Step]:
    """What ``prepare`` computes for ``model_dirs``: every registered stored result (but
    ``skip``) under every combination of its parameters (narrowed by ``options``); a result
    that is not stored would be computed for nothing."""
    return [
        Step(str(d), result, params)
        for d in model_dirs
        for result in RESULTS.values()
        if result.stored and result.key not in skip
        for params in result.grid(options)
    ]


def run_step(step: Step, analysis: ModelAnalysis) -> None:
    """Compute ``step`` unless stored (or not applicable to the model's dataset)."""
    if step.result.needs_test and not analysis.loaded.dataset.test.nnz:
        return
    if step.result.needs_inputs and len(analysis.loaded.model.players) < 2:
        return
    file_cache_value(step.result.key, analysis, step.params)


# ---------------------------------------------------------------------- progress file
PROGRESS_FILE = "progress.json"


@dataclass(frozen=True)
class Progress:
    """What ``prepare --progress-file`` writes after every step (atomically): the steps done,
    of how many, the step running, and whether every step finished."""

    done: int
    total: int
    step: str
    finished: bool = False

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / max(1, self.total))

    def write(self, path: str | Path) -> None:
        atomic_write_json(path, asdict(self))

    @classmethod
    def read(cls, path: str | Path) -> Progress | None:
        """The progress in ``path``, or None (absent, being replaced, or not a progress file)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                int(data["done"]), int(data["total"]), str(data["step"]), bool(data["finished"])
            )
        except (OSError, ValueError, TypeError, KeyError):
            return None


def run_steps(
    steps: Sequence[Step],
    load: Callable[[str], LoadedModel],
    *,
    progress_file: str | Path | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> None:
    """Run ``steps`` in order (each model loaded once, by ``load``), writing the progress file
    before each step and once more, ``finished``, at the end."""

    def record(done: int, step: str, finished: bool = False) -> None:
        if progress_file is not None:
            with contextlib.suppress(OSError):  # progress is a courtesy, never the failure
                Progress(done, len(steps), step, finished).write(progress_file)

    from anchorrec.analysis.model_analysis import ModelAnalysis

    analysis: ModelAnalysis | None = None
    for i, step in enumerate(steps):
        record(i, step.label)
        if on_step is not None:
            on_step(step)
        if analysis is None or str(analysis.loaded.model_dir) != str(Path(step.model_dir)):
            analysis = ModelAnalysis(load(step.model_dir))
        run_step(step, analysis)
    record(len(steps), "done", finished=True)


def iter_labels(steps: Sequence[Step]) -> Iterator[str]:
    """The distinct result labels of ``steps``, in order (``prepare``'s closing line)."""
    yield from dict.fromkeys(s.result.label(s.params) for s in steps)


# ---------------------------------------------------------------------- the results
def _per_user_read(model_dir: str, p: Params) -> object | None:
    from anchorrec.evaluation.stored import read_per_user_metrics

    return read_per_user_metrics(model_dir)


def _per_user_file(p: Params) -> str:
    from anchorrec.evaluation.stored import per_user_file

    return per_user_file("<fingerprint>", "test", 20, "<mask>")


def _diagnostics_read(model_dir: str, p: Params) -> object | None:
    from anchorrec.analysis.diagnostics_report import read_diagnostics

    return read_diagnostics(model_dir)


def _coalitions_exists(model_dir: str, p: Params) -> bool:
    from anchorrec.analysis.attribution import has_stored_cache

    return has_stored_cache(model_dir, p["game"])


def _reliance_read(model_dir: str, p: Params) -> object | None:
    from anchorrec.analysis.reliance import read_reliance

    return read_reliance(model_dir, p["game"])


def _accuracy_game_read(model_dir: str, p: Params) -> object | None:
    from anchorrec.analysis.accuracy_game import read_accuracy_game

    return read_accuracy_game(model_dir, p["game"])


def _accuracy_game_file(p: Params) -> str:
    from anchorrec.analysis.accuracy_game import accuracy_game_file

    return accuracy_game_file(p["game"])


def current_layouts(model_dir: str | Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """``{"<space>/<method>": (folder, entry)}`` of the layouts stored for the current
    version of the model (a retrained model's layouts are left out), from the model directory
    and its workspace fallback; the workspace's entry wins (it was computed later)."""
    from anchorrec.analysis.projection import available_projections
    from anchorrec.errors import AnchorRecError

    try:
        current: str | None = ModelDir(Path(model_dir)).fingerprint()
    except (AnchorRecError, OSError):
        current = None
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for folder in ModelDir(model_dir).store().folders:
        try:
            entries = available_projections(folder)
        except AnchorRecError:
            continue
        for key, entry in entries.items():
            if current is None or entry.get("fingerprint") == current:  # skip stale layouts
                found[key] = (folder, entry)
    return found


def _layouts_read(model_dir: str, p: Params) -> object | None:
    found = {k: v for k, v in current_layouts(model_dir).items() if k.endswith(f"/{p['method']}")}
    return found or None


def _layouts_file(p: Params) -> str:
    from anchorrec.analysis.projection import INDEX_FILE, PROJECTIONS_DIR

    return f"{PROJECTIONS_DIR}/{INDEX_FILE}"


PER_USER, DIAGNOSTICS, COALITIONS, RELIANCE, ACCURACY_GAME, LAYOUTS = (
    "per-user metrics",
    "diagnostics",
    "coalition cache",
    "reliance",
    "accuracy game",
    "layouts",
)

# The inline limits come from the costs measured on the 2-core machine
# (docs/dashboard.md#large-catalogues-prepare-first): ranking every user of Amazon Baby
# (7,050 items) takes half a second per model; the diagnostics take seconds per model on the
# 1,289-item sample and tens of minutes at 23,033 items; t-SNE and UMAP take 5-8 s per space
# at 5,000 items.
register(
    Derived(
        key=PER_USER,
        words="The per-user test metrics",
        file=_per_user_file,
        read=_per_user_read,
        compute=lambda a, p: a.per_user_metrics,
        cost=Cost.SECONDS,
        inline_max_items=10_000,
        needs_test=True,
    )
)
register(
    Derived(
        key=DIAGNOSTICS,
        words="The collapse diagnostics",
        file=lambda p: "diagnostics.json",
        read=_diagnostics_read,
        compute=lambda a, p: a.diagnostics(),
        cost=Cost.MINUTES,
        inline_max_items=2_000,
    )
)
register(
    Derived(
        key=COALITIONS,
        words="The attribution's coalition cache",
        params=(Param("game", GAMES),),
        file=lambda p: (
            f"attribution/coalitions-*{'' if p['game'] == 'mean' else '-' + p['game']}*.npz"
        ),
        read=None,  # the cache needs the dataset's train matrix: compute reads it back
        exists=_coalitions_exists,
        compute=lambda a, p: a.coalitions(p["game"]),
        cost=Cost.SECONDS,
        inline_max_items=10_000,
    )
)
register(
    Derived(
        key=RELIANCE,
        words="The modality reliance",
        params=(Param("game", GAMES),),
        file=lambda p: f"reliance-{p['game']}.json",
        read=_reliance_read,
        compute=lambda a, p: a.reliance(p["game"]),
        cost=Cost.MINUTES,
        inline_max_items=10_000,
        needs_test=True,
    )
)
register(
    Derived(
        key=ACCURACY_GAME,
        words="The accuracy game",
        params=(Param("game", GAMES),),
        file=_accuracy_game_file,
        read=_accuracy_game_read,
        compute=lambda a, p: a.accuracy_game(p["game"]),
        cost=Cost.MINUTES,
        inline_max_items=10_000,
        needs_test=True,
        needs_inputs=True,
    )
)
register(
    Derived(
        key=LAYOUTS,
        words="The 2-D layouts",
        params=(Param("method", METHODS),),
        file=_layouts_file,
        read=_layouts_read,
        compute=lambda a, p: a.layouts(p["method"]),
        cost=Cost.MINUTES,
        inline_max_items=5_000,
    )
)
