"""Model directories: save and load a trained model, never with pickle.

A model directory holds

- ``model.safetensors``: the weights (frozen feature tables are not saved: they come from the
  dataset, whose fingerprint is checked);
- ``config.json``: variant, preset, every hyper-parameter, the dataset's path and fingerprint,
  the code version and the SHA-256 of ``model.safetensors`` (an edited or truncated weights
  file is refused);
- ``metrics.json``: valid and test metrics of the best epoch;
- ``train_log.jsonl``: one line per epoch.

It is written atomically (a temporary directory beside it, then a rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

import anchorrec
from anchorrec.data.dataset import Dataset
from anchorrec.errors import AnchorRecError, CheckpointError, ConfigError
from anchorrec.fileio import atomic_dir
from anchorrec.models.base import Recommender
from anchorrec.models.config import LEGACY_MASK, ModelConfig
from anchorrec.models.registry import build_model

FORMAT = "anchorrec-model-v1"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
LOG_FILE = "train_log.jsonl"


@dataclass
class LoadedModel:
    """A trained model ready to score, with what it was trained with."""

    model: Recommender
    config: ModelConfig
    metrics: dict[str, Any]
    dataset: Dataset
    variant: str
    model_dir: Path
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def preset(self) -> str:
        return self.config.preset


def state_bytes(model: Recommender) -> bytes:
    """The model's saved weights as safetensors bytes (contiguous CPU copies)."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return st_save(tensors)


def code_version() -> str:
    return anchorrec.__version__


def _dataset_path_for(dataset: Dataset, model_dir: Path) -> str | None:
    """The dataset's path, relative to the model directory when both share a root."""
    if dataset.path is None:
        return None
    target = Path(dataset.path).resolve()
    try:
        return os.path.relpath(target, model_dir.resolve())
    except ValueError:  # other drive (Windows)
        return str(target)


def save_model(
    model: Recommender,
    dataset: Dataset,
    model_dir: str | os.PathLike[str],
    *,
    metrics: dict[str, Any] | None = None,
    train_log: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``model`` to ``model_dir`` atomically and return the directory."""
    model_dir = Path(model_dir)
    weights = state_bytes(model)
    config = model.config
    info = {
        "format": FORMAT,
        "variant": model.variant,
        "preset": config.preset,
        "hyper_parameters": config.to_dict(),
        "dataset": {
            "name": dataset.name,
            "path": _dataset_path_for(dataset, model_dir),
            "fingerprint": dataset.fingerprint,
            "n_users": dataset.n_users,
            "n_items": dataset.n_items,
        },
        "players": list(model.players),
        "code_version": code_version(),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        **(extra or {}),
    }
    if model_dir.exists() and not overwrite:
        raise CheckpointError(f"{model_dir} already exists; pass --overwrite to replace it.")
    with atomic_dir(model_dir, overwrite=overwrite) as tmp:
        (tmp / WEIGHTS_FILE).write_bytes(weights)
        (tmp / CONFIG_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        (tmp / METRICS_FILE).write_text(json.dumps(metrics or {}, indent=2, sort_keys=True) + "\n")
        (tmp / LOG_FILE).write_text("".join(json.dumps(r) + "\n" for r in (train_log or [])))
    return model_dir


def _parse_info(text: str, path: Path) -> dict[str, Any]:
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"{path} is not valid JSON ({exc}); retrain or restore the model."
        ) from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CheckpointError(f"{path}: field 'format' is not {FORMAT!r}; not an AnchorRec model.")
    for key in ("variant", "hyper_parameters", "dataset", "weights_sha256"):
        if key not in info:
            raise CheckpointError(f"{path}: field {key!r} is missing; retrain the model.")
    return info


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError(
            f"{path} is not UTF-8 text ({exc}); retrain or restore the model."
        ) from None


def read_model_info(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``config.json`` of a model directory, validated."""
    model_dir = Path(model_dir)
    path = model_dir / CONFIG_FILE
    if not model_dir.is_dir():
        raise CheckpointError(f"{model_dir} is not a model directory (train one with `train`).")
    try:
        text = _decode(path, path.read_bytes())
    except FileNotFoundError:
        raise CheckpointError(
            f"{path} is missing; {model_dir} is not a complete model directory."
        ) from None
    return _parse_info(text, path)


#: How often a reader retries when the model directory is replaced while it reads.
SNAPSHOT_ATTEMPTS = 20


def _read_at(dir_fd: int, name: str) -> bytes:
    fd = os.open(name, os.O_RDONLY, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def read_model_snapshot(
    model_dir: str | os.PathLike[str],
) -> tuple[dict[str, Any], bytes, dict[str, Any]]:
    """``config.json``, the weights and ``metrics.json`` of ONE version of ``model_dir``.

    A new version replaces a model directory by renaming a complete directory into place
    (:func:`anchorrec.fileio.atomic_dir`). All three files are read through one handle on the
    directory, so they always belong to the same version even when a writer swaps the
    directory meanwhile; if the old version is deleted mid-read, the read starts again on the
    new one. The weights' checksum is then verified against ``config.json``.
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise CheckpointError(f"{model_dir} is not a model directory (train one with `train`).")
    missing = CONFIG_FILE
    for _ in range(SNAPSHOT_ATTEMPTS):
        try:
            dir_fd = os.open(model_dir, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:  # between the two renames of a replacement
            time.sleep(0.01)
            continue
        try:
            missing = CONFIG_FILE
            info_bytes = _read_at(dir_fd, CONFIG_FILE)
            missing = WEIGHTS_FILE
            blob = _read_at(dir_fd, WEIGHTS_FILE)
            missing = METRICS_FILE
            try:
                metrics_bytes: bytes | None = _read_at(dir_fd, METRICS_FILE)
            except FileNotFoundError:
                metrics_bytes = None
                # Absent metrics are allowed only in the live version: a version swapped out
                # is deleted file by file, so a missing file there means "read again".
                if os.fstat(dir_fd).st_ino != os.stat(model_dir).st_ino:
                    raise
        except FileNotFoundError:
            time.sleep(0.01)  # the version we were reading was deleted: read the new one
            continue
        finally:
            os.close(dir_fd)
        break
    else:
        raise CheckpointError(
            f"{model_dir / missing} is missing; {model_dir} is not a complete model directory."
        )
    info = _parse_info(_decode(model_dir / CONFIG_FILE, info_bytes), model_dir / CONFIG_FILE)
    if hashlib.sha256(blob).hexdigest() != info["weights_sha256"]:
        raise CheckpointError(
            f"{model_dir / WEIGHTS_FILE} does not match the checksum in {CONFIG_FILE} (field "
            "weights_sha256): the file is truncated or was edited; retrain or restore the model."
        )
    metrics: dict[str, Any] = {}
    if metrics_bytes is not None:
        try:
            metrics = json.loads(metrics_bytes)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CheckpointError(
                f"{model_dir / METRICS_FILE} is not valid JSON ({exc})."
            ) from None
    return info, blob, metrics


def _resolve_dataset(info: dict[str, Any], model_dir: Path) -> Dataset:
    from anchorrec.data.mmrec import load_mmrec

    rel = info["dataset"].get("path")
    if not rel:
        raise CheckpointError(
            f"{model_dir / CONFIG_FILE}: the model records no dataset path; pass the dataset."
        )
    path = Path(rel) if Path(rel).is_absolute() else (model_dir / rel)
    if not path.exists():
        raise CheckpointError(
            f"{model_dir / CONFIG_FILE}: dataset {path} (field dataset.path) does not exist; "
            "pass the dataset explicitly or move it back."
        )
    return load_mmrec(path)


def load_model(
    model_dir: str | os.PathLike[str],
    dataset: Dataset | None = None,
    device: str | torch.device = "cpu",
) -> LoadedModel:
    """Load a model directory; the dataset is read from ``config.json`` when not given.

    Raises :class:`CheckpointError` when the directory is incomplete, the weights are
    truncated or edited, or ``dataset`` is not the data the model was trained on.
    """
    model_dir = Path(model_dir)
    info, blob, metrics = read_model_snapshot(model_dir)
    weights_path = model_dir / WEIGHTS_FILE
    try:
        tensors = st_load(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{weights_path} is not a readable safetensors file ({exc})."
        ) from None
    if dataset is None:
        dataset = _resolve_dataset(info, model_dir)
    expected = info["dataset"].get("fingerprint")
    if dataset.fingerprint != expected:
        raise CheckpointError(
            f"{model_dir} was trained on dataset fingerprint {expected} "
            f"({info['dataset'].get('name')}), but the dataset given has fingerprint "
            f"{dataset.fingerprint} ({dataset.name}); use the dataset it was trained on or retrain."
        )
    try:
        config = ModelConfig.from_dict(info["hyper_parameters"], variant=info["variant"])
        model = build_model(info["variant"], dataset, config)
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(
            f"{model_dir / CONFIG_FILE}: cannot rebuild the model: {exc}"
        ) from None
    except AnchorRecError:
        raise
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{weights_path} does not fit a {info['variant']} model: {exc}"
        ) from None
    model.to(torch.device(device))
    model.eval()
    if metrics.get("test"):  # recorded before the mask rule was: they ranked under train + valid
        metrics.setdefault("mask", LEGACY_MASK)
    return LoadedModel(model, config, metrics, dataset, info["variant"], model_dir, info)


def read_train_log(model_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The per-epoch records of ``train_log.jsonl`` (empty when absent)."""
    path = Path(model_dir) / LOG_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
