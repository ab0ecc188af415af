"""One analysis object per loaded model: every derived result, computed once and kept.

``ModelAnalysis(loaded)`` holds what the pages and ``prepare`` derive from one model — its
per-user metrics, embedding spaces, coalition caches (one per game), audits (per K and game),
diagnostics, reliance and layouts — as memoised properties and methods. A stored result is
read from the model's store (:mod:`anchorrec.analysis.derived`) before anything is computed,
and a computed one is stored there, so a fresh process reads what an earlier one computed.

The dashboard keeps one object per model (``anchorrec.ui.cached.analysis``), so a result is
computed at most once per model per process whatever page asks for it. The object is safe to
share between sessions (threads): each result is computed once, under its own lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    from anchorrec.analysis.accuracy_game import AccuracyGame
    from anchorrec.analysis.attribution import CoalitionCache
    from anchorrec.analysis.audit import AuditResult
    from anchorrec.analysis.diagnostics_report import DiagnosticsReport
    from anchorrec.analysis.reliance import Reliance
    from anchorrec.analysis.spaces import Space
    from anchorrec.models.base import Embeddings
    from anchorrec.models.checkpoint import LoadedModel

T = TypeVar("T")
#: ``progress(done, total)``: a long computation's progress.
ProgressFn = Callable[[int, int], None]


class ModelAnalysis:
    """Everything derived from ``loaded`` (never mutate ``loaded`` afterwards)."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self._lock = threading.Lock()  # guards the table of locks, never held while computing
        self._locks: dict[tuple[object, ...], threading.RLock] = {}
        self._memo: dict[tuple[object, ...], object] = {}

    def _once(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for, under that result's own lock
        (a session computing the audit does not hold up another asking for the spaces)."""
        with self._lock:
            lock = self._locks.setdefault(key, threading.RLock())
        with lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]  # type: ignore[return-value]

    def computed(self, *key: object) -> bool:
        """Whether the result named ``key`` (``"spaces"``, ``"audit", 10, "mean"``) is at hand."""
        return key in self._memo

    @property
    def model_dir(self) -> str:
        return str(self.loaded.model_dir)

    # -- cheap or stored results ------------------------------------------------------------
    @cached_property
    def per_user_metrics(self) -> dict[str, np.ndarray]:
        """Each test user's Recall@20 and NDCG@20 (stored beside the model)."""
        from anchorrec.evaluation.stored import stored_per_user_metrics

        return self._once(
            ("per_user_metrics",), lambda: stored_per_user_metrics(self.loaded, "test", k=20)
        )

    @cached_property
    def spaces(self) -> dict[str, Space]:
        """Every named space of the model (one forward pass)."""
        from anchorrec.analysis.spaces import model_spaces

        return self._once(("spaces",), lambda: model_spaces(self.loaded))

    def ranking_embeddings(self, cold_start: bool = True) -> Embeddings:
        """The embeddings the product ranks by: through the model's stored cold-start path
        (``cold_start``, when one is fitted) or as published; computed once per model."""
        from anchorrec.models.cold_start import ranking_embeddings, with_cold_start

        return self._once(
            ("ranking_embeddings", cold_start),
            lambda: ranking_embeddings(with_cold_start(self.loaded, cold_start)),
        )

    def coalitions(self, game: str = "mean") -> CoalitionCache:
        """The coalition cache of ``game``: read from the model's store when ``prepare`` (or an
        earlier process) wrote it, else computed and stored (every game)."""
        from anchorrec.analysis.attribution import coalition_cache

        return self._once(
            ("coalitions", game), lambda: coalition_cache(self.loaded, game=game, persist=True)
        )

    def audit(
        self, k: int = 10, game: str = "mean", progress: ProgressFn | None = None
    ) -> AuditResult:
        """The :class:`AuditResult` over every user's top-``k`` under ``game``."""
        from anchorrec.analysis.audit import audit

        def run() -> AuditResult:
            self.coalitions(game)  # the stored cache, so the audit never rebuilds it
            return audit(
                self.loaded,
                k=int(k),
                game=game,
                progress=progress,
                ranking=self.ranking_embeddings,
            )

        return self._once(("audit", int(k), game), run)

    def id_share_by_item(self, k: int = 10, game: str = "mean") -> np.ndarray | None:
        """Each item's mean input-level ID share under ``game`` over the top-``k`` lists it
        appears in (NaN: never; None: the model has no ID input)."""
        from anchorrec.analysis.audit import mean_share_by_item

        return mean_share_by_item(self.audit(k, game), "id", self.loaded.dataset.n_items)

    # -- stored, computed on request ----------------------------------------------------------
    def diagnostics(self) -> DiagnosticsReport:
        """The collapse diagnostics (stored; computed and stored when absent)."""
        from anchorrec.analysis.diagnostics import read_diagnostics, store_diagnostics

        def run() -> DiagnosticsReport:
            found = read_diagnostics(self.model_dir)
            return found if found is not None else store_diagnostics(self.loaded)

        return self._once(("diagnostics",), run)

    def _read_or_measure(
        self,
        key: tuple[object, ...],
        game: str,
        read: Callable[[str, str], T | None],
        store: Callable[[LoadedModel, str], T],
    ) -> T:
        """A stored result of ``game``: read, else measured on this object's coalition cache
        and stored; once per object."""

        def run() -> T:
            found = read(self.model_dir, game)
            if found is not None:
                return found
            self.coalitions(game)  # this object's copy, reused by the measurement
            return store(self.loaded, game)

        return self._once(key, run)

    def reliance(self, game: str = "mean") -> Reliance:
        """The modality reliance under ``game`` (stored; measured and stored when absent)."""
        from anchorrec.analysis.reliance import read_reliance, store_reliance

        return self._read_or_measure(("reliance", game), game, read_reliance, store_reliance)

    def accuracy_game(self, game: str = "mean") -> AccuracyGame:
        """Each input's accuracy-game value by segment under ``game`` (stored; measured and
        stored when absent)."""
        from anchorrec.analysis.accuracy_game import read_accuracy_game, store_accuracy_game

        return self._read_or_measure(
            ("accuracy_game", game), game, read_accuracy_game, store_accuracy_game
        )

    def layouts(self, method: str, params: dict[str, object] | None = None) -> int:
        """Compute (or reuse) every layout by ``method`` and store them beside the model (or
        in its workspace fallback when read-only); the number of layouts now at hand."""
        from anchorrec.analysis.projection import ProjectionCache, compute_projections

        store = ModelDir(self.model_dir).store()
        cache = ProjectionCache(store.write_folder, self.loaded.fingerprint)
        spaces = self.spaces
        with self._lock:
            lock = self._locks.setdefault(("layouts",), threading.RLock())
        with lock:  # one writer of the projections index at a time
            out = compute_projections(
                spaces, [method], cache=cache, params={method: dict(params or {})}
            )
            cache.prune()  # files of an older version of the model
        return len(out)
