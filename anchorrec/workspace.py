"""Where datasets and trained models live, so the dashboard (and a read-only install) can find them.

* The bundled sample: ``sample_data/wardrobe/`` beside the package (the photo sample), with its
  trained variants in ``sample_data/wardrobe/models/<variant>/``.
* Any MMRec directory ships its own models in ``<dataset_dir>/models/*/``.
* Everything the user makes in the app goes to a writable *workspace*, ``$ANCHORREC_HOME``
  (default ``~/.anchorrec/``): models under ``models/<dataset fingerprint>/<name>/`` (so they
  follow the data, not its path), imported catalogues under ``datasets/<name>/``, and the list
  of registered MMRec directories in ``datasets.json``.

:func:`find_models` is the model registry: the models of a dataset, each with the reason it
cannot be used (unreadable, trained on other data) instead of an exception, so one broken
directory never hides the others.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from anchorrec.errors import AnchorRecError, DatasetError
from anchorrec.fileio import atomic_write_json, is_temporary_name
from anchorrec.home import DEFAULT_HOME, HOME_ENV, is_writable, workspace_home
from anchorrec.models.model_dir import (
    RESUME_SUFFIX,
    analysis_dir,
    analysis_dirs,
)

__all__ = [  # names other modules import from here
    "DEFAULT_HOME",
    "HOME_ENV",
    "analysis_dir",
    "analysis_dirs",
    "is_writable",
    "workspace_home",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The bundled sample catalogue the dashboard opens on.
SAMPLE_DATASET_DIR = REPO_ROOT / "sample_data" / "wardrobe"
#: Sub-folder of a dataset (and of the workspace) holding model directories.
MODELS_DIR = "models"
DATASETS_DIR = "datasets"
REGISTRY_FILE = "datasets.json"
#: The longest dataset path accepted from a user or a link (characters; Linux's PATH_MAX).
MAX_PATH_CHARS = 4096

ModelSource = Literal["dataset", "workspace"]


def workspace_models_dir(fingerprint: str) -> Path:
    """Where models trained in the app on the dataset with ``fingerprint`` are written."""
    if not re.fullmatch(r"[0-9a-f]{4,64}", fingerprint or ""):
        raise DatasetError(f"dataset fingerprint {fingerprint!r} is not a hex digest.")
    return workspace_home() / MODELS_DIR / fingerprint


def workspace_datasets_dir() -> Path:
    """Where catalogues imported in the app are written (one MMRec directory each)."""
    return workspace_home() / DATASETS_DIR


@dataclass(frozen=True)
class ModelEntry:
    """One model directory of a dataset, usable or not (``error`` says why not)."""

    name: str
    path: Path
    variant: str | None
    source: ModelSource
    preset: str | None = None
    error: str | None = None

    @property
    def usable(self) -> bool:
        return self.error is None

    @property
    def label(self) -> str:
        """The name shown in the variant toggle."""
        return self.name if self.source == "dataset" else f"{self.name} (trained in app)"


def _entry(path: Path, source: ModelSource, fingerprint: str | None) -> ModelEntry:
    from anchorrec.models.model_info import read_model_info, verify_weights_file

    try:  # config.json's structure, checksum and sizes, then the weights' checksum
        info = read_model_info(path)
        verify_weights_file(path, info)
    except AnchorRecError as exc:
        return ModelEntry(path.name, path, None, source, error=str(exc))
    variant = str(info.get("variant"))
    preset = (info.get("hyper_parameters") or {}).get("preset")
    expected = (info.get("dataset") or {}).get("fingerprint")
    error = None
    if fingerprint is not None and expected != fingerprint:
        error = (
            f"{path} was trained on dataset fingerprint {expected}, but this dataset has "
            f"fingerprint {fingerprint}; open the dataset it was trained on or retrain it."
        )
    return ModelEntry(path.name, path, variant, source, preset, error)


def _variant_rank(entry: ModelEntry) -> tuple[int, int, str]:
    from anchorrec.models.names import VARIANT_ORDER

    order = {v: i for i, v in enumerate(VARIANT_ORDER)}
    return (
        0 if entry.source == "dataset" else 1,
        order.get(entry.name, order.get(entry.variant or "", len(order))),
        entry.name,
    )


def _model_dirs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and not p.name.endswith(RESUME_SUFFIX)
        and not is_temporary_name(p.name)
    )


def find_models(dataset_dir: str | Path | None, fingerprint: str | None) -> list[ModelEntry]:
    """Every model of a dataset: ``<dataset_dir>/models/*/``, then the workspace's models.

    Bundled models come first in variant order (anchor, direct, none, ablations, baselines),
    then the ones trained in the app. A model trained on other data (fingerprint mismatch) or
    an unreadable directory is listed with ``error`` set.
    """
    entries: list[ModelEntry] = []
    if dataset_dir is not None:
        for path in _model_dirs(Path(dataset_dir) / MODELS_DIR):
            entries.append(_entry(path, "dataset", fingerprint))
    if fingerprint:
        for path in _model_dirs(workspace_models_dir(fingerprint)):
            entries.append(_entry(path, "workspace", fingerprint))
    entries.sort(key=_variant_rank)
    seen: set[str] = set()
    unique = []
    for e in entries:  # a workspace model may share a bundled model's directory name
        name = e.name if e.name not in seen else f"{e.name}@{e.source}"
        seen.add(name)
        unique.append(e if name == e.name else dataclasses.replace(e, name=name))
    return unique


def new_model_dir(fingerprint: str, variant: str, *, now: _dt.datetime | None = None) -> Path:
    """A fresh workspace directory name for a model of ``variant`` trained now."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", variant):
        raise DatasetError(f"variant name {variant!r} cannot name a directory.")
    stamp = (now or _dt.datetime.now(_dt.UTC)).strftime("%Y%m%d-%H%M%S")
    base = workspace_models_dir(fingerprint) / f"{variant}-{stamp}"
    path, n = base, 1
    while path.exists() or path.with_name(path.name + RESUME_SUFFIX).exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def check_dataset_dir(raw: str | Path) -> Path:
    """The directory the user typed, or a :class:`DatasetError` saying what to fix.

    Accepts an MMRec directory or its ``.inter`` file; does not load it (see ``load_mmrec``).
    """
    text = str(raw).strip()
    if not text:
        raise DatasetError("No dataset path given: type the path of an MMRec directory.")
    if "\x00" in text:
        raise DatasetError(
            "The dataset path holds a NUL character, which no file name can; type the path of "
            "an MMRec directory."
        )
    if len(text) > MAX_PATH_CHARS:
        raise DatasetError(
            f"The dataset path is {len(text):,} characters long (limit {MAX_PATH_CHARS:,}); "
            "type the path of an MMRec directory."
        )
    try:
        return _check_dataset_dir(Path(text).expanduser())
    except (OSError, RuntimeError) as exc:  # too long a component, a link loop, no permission
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DatasetError(
            f"{text[:200]}: cannot be opened ({reason}); type the path of an MMRec directory."
        ) from None


def _check_dataset_dir(path: Path) -> Path:
    from anchorrec.data.mmrec import check_not_temporary

    if not path.exists():
        raise DatasetError(
            f"{path} does not exist; type the path of an MMRec directory (it holds <name>.inter "
            "and image_feat.npy / text_feat.npy), or import a catalogue on the Data page."
        )
    if path.is_file():
        if path.suffix != ".inter":
            raise DatasetError(
                f"{path} is a file, not a dataset directory; give the folder that holds "
                "<name>.inter."
            )
        path = path.parent
    check_not_temporary(path)
    if not any(path.glob("*.inter")):
        raise DatasetError(
            f"{path} holds no .inter file, so it is not an MMRec dataset; give the folder that "
            "holds <name>.inter, or import a product catalogue on the Data page."
        )
    return path.resolve()


def registered_datasets() -> list[Path]:
    """Datasets the dashboard knows: the sample, imported catalogues, registered directories.

    Only directories that still exist and hold a ``.inter`` file are returned, sample first.
    """
    found: list[Path] = []
    if SAMPLE_DATASET_DIR.is_dir():
        found.append(SAMPLE_DATASET_DIR.resolve())
    imported = workspace_datasets_dir()
    if imported.is_dir():
        found.extend(
            p.resolve()
            for p in sorted(imported.iterdir())
            if p.is_dir() and not p.name.startswith(".")  # never an unfinished import
        )
    registry = workspace_home() / REGISTRY_FILE
    if registry.is_file():
        try:
            listed = json.loads(registry.read_text(encoding="utf-8")).get("datasets", [])
        except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
            listed = []
        found.extend(Path(p) for p in listed if isinstance(p, str))
    unique: list[Path] = []
    for p in found:
        try:
            ok = not is_temporary_name(p.name) and p.is_dir() and any(p.glob("*.inter"))
        except OSError:
            ok = False
        if p not in unique and ok:
            unique.append(p)
    return unique


def register_dataset(path: str | Path) -> Path:
    """Remember an MMRec directory in the workspace so it appears in the dataset list."""
    directory = check_dataset_dir(path)
    registry = workspace_home() / REGISTRY_FILE
    listed: list[str] = []
    if registry.is_file():
        try:
            listed = list(json.loads(registry.read_text(encoding="utf-8")).get("datasets", []))
        except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
            listed = []
    if str(directory) not in listed:
        listed.append(str(directory))
        atomic_write_json(registry, {"datasets": listed})
    return directory


def safe_name(text: str) -> str:
    """A directory name made of ``text`` (letters, digits, ``-`` and ``_``)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", text.strip()).strip("-_")
    if not name:
        raise DatasetError(f"{text!r} cannot name a dataset; use letters, digits, - or _.")
    return name[:64]
