"""Model directories: save and load a trained model, never with pickle.

A model directory holds

- ``model.safetensors``: the weights (frozen feature tables are not saved: they come from the
  dataset, whose fingerprint is checked);
- ``config.json``: variant, preset, every hyper-parameter, the dataset's path and fingerprint,
  the code version, the SHA-256 of ``model.safetensors`` (an edited or truncated weights
  file is refused) and ``config_sha256``, the SHA-256 of every other field (an edited
  hyper-parameter is refused too: only ``dataset.path`` may be changed, to follow a moved
  dataset, because the dataset's fingerprint is checked on load);
- ``metrics.json``: valid and test metrics of the best epoch;
- ``train_log.jsonl``: one line per epoch.

It is written atomically (a temporary directory beside it, then a rename). Before anything is
allocated, ``config.json`` is checked field by field (types, finite numbers, sizes within
:data:`LIMITS`) and against the shapes in the weights file's header, so an edited or forged
configuration is a :class:`CheckpointError`, never a huge allocation or an AttributeError.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import struct
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
from anchorrec.models.checkpoint_bases import bases_from_checkpoint
from anchorrec.models.cold_start import ColdStart, read_cold_start
from anchorrec.models.config import LEGACY_MASK, ModelConfig
from anchorrec.models.model_dir import (
    CONFIG_FILE,
    LOG_FILE,
    METRICS_FILE,
    WEIGHTS_FILE,
    ModelDir,
)
from anchorrec.models.model_info import (  # noqa: F401 - the config half, re-exported
    CONFIG_CHECKSUM,
    FORMAT,
    LIMITS,
    check_hyper_parameters,
    check_weights_digest,
    config_checksum,
    decode_info,
    parse_info,
    read_model_info,
    read_train_log,
    seal_model_dir,
    verify_weights_file,
)
from anchorrec.models.registry import build_model
from anchorrec.models.stored_graphs import attach_stored_graphs, write_beside


@dataclass
class LoadedModel:
    """A trained model ready to score, with what it was trained with: the one handle every
    analysis function, command and page takes.

    ``model_dir`` is None for a model that lives only in memory (built in a test or a notebook);
    :attr:`fingerprint` then hashes its tensors.
    """

    model: Recommender
    config: ModelConfig
    metrics: dict[str, Any]
    dataset: Dataset
    variant: str
    model_dir: Path | None
    info: dict[str, Any] = field(default_factory=dict)
    #: the cold-start path the product ranks through (None: the published ranking)
    cold_start: ColdStart | None = None

    @property
    def preset(self) -> str:
        return self.config.preset

    @property
    def fingerprint(self) -> str:
        """A stable 16-hex-digit hash of the model: its directory's (:class:`ModelDir`), else
        of its tensors. Derived files (layouts, caches) are keyed by it."""
        if self.model_dir is not None:
            digest = ModelDir(self.model_dir).fingerprint()
            if digest:
                return digest
        h = hashlib.sha256(b"anchorrec-model-v1")
        for name, tensor in sorted(self.model.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()[:16]


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
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(
                f"{model_dir}: the trained weights ({name}) hold NaN or inf values, so nothing "
                "was saved; training diverged — lower the learning rate (--lr) and retrain."
            )
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
    info[CONFIG_CHECKSUM] = config_checksum(info)
    if model_dir.exists() and not overwrite:
        raise CheckpointError(f"{model_dir} already exists; pass --overwrite to replace it.")
    with atomic_dir(model_dir, overwrite=overwrite) as tmp:
        (tmp / WEIGHTS_FILE).write_bytes(weights)
        (tmp / CONFIG_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        (tmp / METRICS_FILE).write_text(json.dumps(metrics or {}, indent=2, sort_keys=True) + "\n")
        (tmp / LOG_FILE).write_text("".join(json.dumps(r) + "\n" for r in (train_log or [])))
        write_beside(model, dataset.fingerprint, tmp)  # a load then reads the kNN graphs
    return model_dir


#: How often a reader retries when the model directory is replaced while it reads.
SNAPSHOT_ATTEMPTS = 20


def _read_at(dir_fd: int, name: str) -> bytes:
    """The bytes of a regular file ``name`` of the directory ``dir_fd`` (never a FIFO or device:
    opened non-blocking and checked before reading)."""
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", name)
        os.set_blocking(fd, True)
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
        except OSError as exc:
            raise CheckpointError(
                f"{model_dir / missing}: cannot be read ({exc.strerror}); it must be a regular "
                "file — retrain or restore the model."
            ) from None
        finally:
            os.close(dir_fd)
        break
    else:
        raise CheckpointError(
            f"{model_dir / missing} is missing; {model_dir} is not a complete model directory."
        )
    info = parse_info(decode_info(model_dir / CONFIG_FILE, info_bytes), model_dir / CONFIG_FILE)
    check_weights_digest(model_dir / WEIGHTS_FILE, hashlib.sha256(blob).hexdigest(), info)
    metrics: dict[str, Any] = {}
    if metrics_bytes is not None:
        try:
            metrics = json.loads(metrics_bytes)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CheckpointError(
                f"{model_dir / METRICS_FILE} is not valid JSON ({exc})."
            ) from None
    return info, blob, metrics


def weight_shapes(path: Path, blob: bytes) -> dict[str, list[int]]:
    """The tensor shapes a safetensors file declares in its header (no tensor is read)."""
    if len(blob) < 8:
        raise CheckpointError(f"{path} is not a readable safetensors file (too short).")
    (size,) = struct.unpack("<Q", blob[:8])
    if size > len(blob) - 8 or size > 100 * 1024**2:
        raise CheckpointError(f"{path} is not a readable safetensors file (bad header size).")
    try:
        header = json.loads(blob[8 : 8 + size])
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise CheckpointError(f"{path} is not a readable safetensors file (bad header).") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a readable safetensors file (bad header).")
    shapes = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(isinstance(n, int) for n in shape):
            raise CheckpointError(f"{path}: tensor {name!r} has no valid shape in the header.")
        shapes[name] = shape
    return shapes


def check_weight_shapes(path: Path, blob: bytes, info: dict[str, Any]) -> None:
    """``config.json``'s sizes agree with the weights: the ID embeddings are
    ``n_users × embedding_dim`` and ``n_items × embedding_dim`` (checked before loading)."""
    shapes = weight_shapes(path, blob)
    dim = info["hyper_parameters"].get("embedding_dim")
    data = info["dataset"]
    for name, rows in (("user_id", data["n_users"]), ("item_id", data["n_items"])):
        if name in shapes and shapes[name] != [rows, dim]:
            raise CheckpointError(
                f"{path}: tensor {name} has shape {shapes[name]}, but {CONFIG_FILE} describes "
                f"{rows} × {dim} (dataset size and embedding_dim); the files do not belong "
                "together — retrain or restore the model."
            )


def _resolve_dataset(info: dict[str, Any], model_dir: Path) -> Dataset:
    from anchorrec.data.formats import load_dataset

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
    return load_dataset(path)


def load_model(
    model_dir: str | os.PathLike[str],
    dataset: Dataset | None = None,
    device: str | torch.device = "cpu",
) -> LoadedModel:
    """Load a model directory; the dataset is read from ``config.json`` when not given.

    Raises :class:`CheckpointError` when the directory is incomplete, the weights are
    truncated or edited, or ``dataset`` is not the data the model was trained on.
    """
    from anchorrec.device import resolve_device

    model_dir = Path(model_dir)
    target = resolve_device(str(device)) if not isinstance(device, torch.device) else device
    info, blob, metrics = read_model_snapshot(model_dir)
    weights_path = model_dir / WEIGHTS_FILE
    check_weight_shapes(weights_path, blob, info)
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
        with bases_from_checkpoint():  # the saved bases, not a new SVD per feature table
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
    model.to(target)
    model.eval()
    attach_stored_graphs(model, model_dir, dataset.fingerprint)  # none stored: built lazily
    if metrics.get("test"):  # recorded before the mask rule was: they ranked under train + valid
        metrics.setdefault("mask", LEGACY_MASK)
    cold = None if model.id_only else read_cold_start(ModelDir(model_dir), dataset)
    return LoadedModel(model, config, metrics, dataset, info["variant"], model_dir, info, cold)
