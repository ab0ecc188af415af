"""A trained model's directory: its layout and the store of everything derived from it.

This module is the one place that names the files of a model directory. A model directory
holds what :func:`anchorrec.models.checkpoint.save_model` writes (``model.safetensors``,
``config.json``, ``metrics.json``, ``train_log.jsonl``), for a model chosen by the tuning
protocol its record (``tuning.json``: the grid, each point's valid scores, every seed's test
metrics), and, beside them, what the analysis derives from the model and keeps so that it is
computed once: 2-D layouts, diagnostics, coalition caches, per-user metrics. Those derived files go through a :class:`DerivedStore`:

- each is tagged with the model's **fingerprint** (:meth:`ModelDir.fingerprint`), so a
  retrained model never reads another model's layouts or diagnostics;
- each is written atomically (a temporary file, then a rename), so a crash never leaves half
  a file;
- when the model directory is read-only (an installed sample, a shared folder), the store
  writes to a folder of the user's workspace named after the model directory instead, and
  reads the newer of the two.

Nothing here imports torch: the dashboard lists models and reads their metrics without it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anchorrec.fileio import atomic_write_bytes, atomic_write_json, read_regular_file
from anchorrec.home import is_writable, workspace_home

#: The files of a model directory, as save_model writes them.
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
LOG_FILE = "train_log.jsonl"
#: How a tuned model was chosen: ``{"grid": <tune's grid.json>, "summary": <its summary.json>}``
#: (written beside a shipped model by bench/rebuild/ship_tuned.py).
TUNING_FILE = "tuning.json"
#: An interrupted run's resumable state lives in ``<model dir>.resume/``.
RESUME_SUFFIX = ".resume"
#: Sub-folder of the store holding the 2-D layouts.
PROJECTIONS_DIR = "projections"
#: The content kNN graphs' top-k rows (anchorrec.models.stored_graphs), beside the model.
GRAPHS_FILE = "content_graphs.npz"

#: Files whose bytes define a model that records no weights checksum (older layouts).
_WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin", ".npz")


@dataclass(frozen=True)
class ModelDir:
    """The layout of one model directory (which may not exist yet)."""

    path: Path

    def __init__(self, path: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "path", Path(path))

    # -- the files save_model writes ---------------------------------------------------
    @property
    def weights(self) -> Path:
        return self.path / WEIGHTS_FILE

    @property
    def config(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def metrics(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def log(self) -> Path:
        return self.path / LOG_FILE

    @property
    def tuning(self) -> Path:
        return self.path / TUNING_FILE

    @property
    def resume_dir(self) -> Path:
        """Where an interrupted ``train`` keeps its state until the run completes."""
        return self.path.with_name(self.path.name + RESUME_SUFFIX)

    def is_model(self) -> bool:
        """Whether this looks like a trained model (it has a ``config.json``)."""
        return self.config.is_file()

    def fingerprint(self) -> str:
        """A stable 16-hex-digit hash of the model ('' when the directory holds none).

        When ``config.json`` records the weights' SHA-256 (which ``load_model`` verifies), the
        config alone identifies the model and only it is hashed, so the check is instant.
        """
        if self.config.is_file():
            try:
                text = read_regular_file(self.config)
            except OSError:
                return ""
            if b"weights_sha256" in text:
                return hashlib.sha256(b"anchorrec-model-config-v1" + text).hexdigest()[:16]
        if not self.path.is_dir():
            return ""
        files = sorted(
            p
            for p in self.path.iterdir()
            if p.is_file() and (p.suffix in _WEIGHT_SUFFIXES or p.name == CONFIG_FILE)
        )
        if not files:
            return ""
        h = hashlib.sha256(b"anchorrec-model-dir-v1")
        for path in files:
            h.update(path.name.encode())
            h.update(path.read_bytes())
        return h.hexdigest()[:16]

    def store(self) -> DerivedStore:
        return DerivedStore(self)


class DerivedStore:
    """Files derived from one model, tagged with its fingerprint and written atomically.

    ``folders`` lists where copies may live, the model directory first and the workspace's
    fallback second; :attr:`write_folder` is the one new files go to (the model directory
    when it is writable).
    """

    def __init__(self, model_dir: ModelDir) -> None:
        self.model_dir = model_dir
        self.folders: list[Path] = analysis_dirs(model_dir.path)
        self.write_folder: Path = analysis_dir(model_dir.path)

    def fingerprint(self) -> str:
        return self.model_dir.fingerprint()

    # -- JSON documents tagged with the fingerprint ------------------------------------
    def read_json(self, name: str, fmt: str) -> dict[str, Any] | None:
        """The stored document ``name`` of format ``fmt`` for the current model, or None
        (absent, unreadable, another format, or written for another model)."""
        current = self.fingerprint()
        for folder in reversed(self.folders):  # the workspace's copy is the newer one
            try:
                data = json.loads(read_regular_file(folder / name).decode("utf-8"))
            except (OSError, ValueError, RecursionError):  # a FIFO never blocks the read
                continue
            if (
                isinstance(data, dict)
                and data.get("format") == fmt
                and data.get("fingerprint") == current
            ):
                return data
        return None

    def write_json(self, name: str, fmt: str, data: dict[str, Any]) -> Path:
        """Store ``data`` as ``name``, tagged with ``fmt`` and the model's fingerprint."""
        path = self.write_folder / name
        atomic_write_json(path, {"format": fmt, "fingerprint": self.fingerprint(), **data})
        return path

    # -- binary files whose names carry the fingerprint --------------------------------
    def find(self, name: str) -> Path | None:
        """The newest readable copy of ``name`` (a path relative to the store), or None."""
        for folder in reversed(self.folders):
            path = folder / name
            if path.is_file():
                return path
        return None

    def write_bytes(self, name: str, data: bytes) -> Path:
        path = self.write_folder / name
        atomic_write_bytes(path, data)
        return path

    def stamp(self, name: str) -> str:
        """A string that changes whenever any copy of ``name`` changes (for cache keys)."""
        parts = []
        for folder in self.folders:
            try:
                st = (folder / name).stat()
            except OSError:
                parts.append("-")
                continue
            parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        return "|".join(parts)


def analysis_dirs(model_dir: str | os.PathLike[str]) -> list[Path]:
    """The folders that may hold a model's derived files: the model directory first, then
    its fallback folder in the workspace (used when the model directory is read-only)."""
    resolved = Path(model_dir).resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    return [resolved, workspace_home() / "analysis" / f"{resolved.name}-{digest}"]


def analysis_dir(model_dir: str | os.PathLike[str]) -> Path:
    """Where new derived files of a model are written: the model directory when it is
    writable, else its workspace fallback (a read-only install still caches its layouts)."""
    own, fallback = analysis_dirs(model_dir)
    return own if is_writable(own) else fallback
