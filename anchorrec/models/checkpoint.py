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

import dataclasses
import errno
import hashlib
import json
import math
import os
import re
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
from anchorrec.fileio import atomic_dir, read_regular_file
from anchorrec.models.base import Recommender
from anchorrec.models.config import LEGACY_MASK, ModelConfig, TrainConfig
from anchorrec.models.model_dir import (
    CONFIG_FILE,
    LOG_FILE,
    METRICS_FILE,
    WEIGHTS_FILE,
    ModelDir,
)
from anchorrec.models.multimodal import bases_from_checkpoint
from anchorrec.models.registry import build_model

FORMAT = "anchorrec-model-v1"
#: The field of config.json that holds the checksum of the others.
CONFIG_CHECKSUM = "config_sha256"
#: Upper bounds of the size-like hyper-parameters a model directory may ask for: far above any
#: real model, low enough that a forged config cannot make the loader allocate or loop forever.
LIMITS: dict[str, int] = {
    "embedding_dim": 8192,
    "id_layers": 64,
    "modality_layers": 64,
    "knn_k": 10_000,
    "feature_dim": 65_536,
    "align_batch": 10_000_000,
    "batch_size": 10_000_000,
    "epochs": 1_000_000,
    "lr_decay_epochs": 1_000_000,
    "patience": 1_000_000,
}
#: The largest absolute value a real-valued hyper-parameter may take.
MAX_FLOAT = 1e6
_HEX64 = re.compile(r"[0-9a-f]{64}")


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
    return model_dir


def config_checksum(info: dict[str, Any]) -> str:
    """SHA-256 of every field of ``config.json`` but the checksum itself and ``dataset.path``.

    Canonical JSON (sorted keys, no spaces), so re-indenting the file keeps it valid.
    """
    covered = {k: v for k, v in info.items() if k != CONFIG_CHECKSUM}
    if isinstance(covered.get("dataset"), dict):
        covered["dataset"] = {k: v for k, v in covered["dataset"].items() if k != "path"}
    text = json.dumps(covered, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _field(path: Path, info: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = info.get(key)
    if key not in info:
        raise CheckpointError(f"{path}: field {key!r} is missing; retrain the model.")
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in _as_tuple(kind):
        raise CheckpointError(
            f"{path}: field {key!r} is {type(value).__name__} {_short(value)}, not "
            f"{_kind_names(kind)}; the file was edited or damaged — retrain or restore the model."
        )
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_names(kind: type | tuple[type, ...]) -> str:
    names = {dict: "an object", list: "a list", str: "a string", int: "an integer"}
    names |= {float: "a number", bool: "true/false", type(None): "null"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_hyper_parameters(path: Path, hp: dict[str, Any]) -> None:
    """Every hyper-parameter has its field's type, a finite value and a size within LIMITS.

    Runs before anything is built, so ``embedding_dim`` 1e9 or ``id_layers`` NaN never
    reaches an allocation or a loop.
    """
    fields = {f.name: f for f in dataclasses.fields(ModelConfig) if f.name != "train"}
    fields.update({f.name: f for f in dataclasses.fields(TrainConfig)})  # stored flat beside
    unknown = sorted(set(hp) - set(fields))
    if unknown:
        raise CheckpointError(
            f"{path}: field hyper_parameters has unknown name(s) {unknown}; the model was "
            "written by another version or the file was edited — retrain it."
        )
    for name, value in hp.items():
        annotation = str(fields[name].type).replace(" ", "")
        where = f"{path}: field hyper_parameters.{name}"
        base = annotation.removesuffix("|None")
        if value is None:
            ok = annotation.endswith("|None")
        elif base == "bool":
            ok = isinstance(value, bool)
        elif base == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif base == "float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok and not (math.isfinite(value) and abs(value) <= MAX_FLOAT):
                raise CheckpointError(
                    f"{where} is {value!r}; it must be a finite number of at most {MAX_FLOAT:g} "
                    "in size. The file was edited or damaged — retrain or restore the model."
                )
        elif base == "str":
            ok = isinstance(value, str)
        elif base.startswith("tuple[str"):
            ok = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        else:  # a field this check does not know yet: leave it to ModelConfig
            ok = True
        if not ok:
            raise CheckpointError(
                f"{where} is {type(value).__name__} {_short(value)}, not a valid {annotation}; "
                "the file was edited or damaged — retrain or restore the model."
            )
        limit = LIMITS.get(name)
        if limit is not None and value is not None and not 0 <= value <= limit:
            raise CheckpointError(
                f"{where} is {value}, outside 0..{limit}; no real model is that size, so the "
                "file was edited or damaged — retrain or restore the model."
            )


def seal_model_dir(model_dir: str | os.PathLike[str]) -> bool:
    """Add ``config_sha256`` to a model directory saved before the field existed.

    For directories you trust (you trained them): their weights are checked against
    ``weights_sha256`` and their hyper-parameters against :func:`check_hyper_parameters`
    first. Returns False when the directory already carries the checksum. Cached analyses
    keyed by the model's fingerprint (layouts, diagnostics) are then recomputed on request.
    """
    from anchorrec.fileio import atomic_write_text

    model_dir = Path(model_dir)
    path = model_dir / CONFIG_FILE
    try:
        info = json.loads(_decode(path, read_regular_file(path)))
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: cannot be read as JSON ({exc}).") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CheckpointError(f"{path}: field 'format' is not {FORMAT!r}; not an AnchorRec model.")
    if CONFIG_CHECKSUM in info:
        return False
    info[CONFIG_CHECKSUM] = config_checksum(info)
    _parse_info(json.dumps(info), path)  # every structural and size check
    verify_weights_file(model_dir, info)
    atomic_write_text(path, json.dumps(info, indent=2, sort_keys=True) + "\n")
    return True


def _parse_info(text: str, path: Path) -> dict[str, Any]:
    """Parse ``config.json`` and check its structure and its checksum."""
    try:
        info = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(
            f"{path} is not valid JSON ({exc}); retrain or restore the model."
        ) from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CheckpointError(f"{path}: field 'format' is not {FORMAT!r}; not an AnchorRec model.")
    _field(path, info, "variant", str)
    hp = _field(path, info, "hyper_parameters", dict)
    dataset = _field(path, info, "dataset", dict)
    sha = _field(path, info, "weights_sha256", str)
    if not _HEX64.fullmatch(sha):
        raise CheckpointError(f"{path}: field 'weights_sha256' is not a SHA-256 hex digest.")
    for key, kind in (("fingerprint", str), ("n_users", int), ("n_items", int)):
        _field(path.with_name(f"{path.name}, dataset"), dataset, key, kind)
    for key, kind in (("name", (str, type(None))), ("path", (str, type(None)))):
        if key in dataset:
            _field(path.with_name(f"{path.name}, dataset"), dataset, key, kind)
    if "players" in info:
        players = _field(path, info, "players", list)
        if not all(isinstance(p, str) for p in players):
            raise CheckpointError(f"{path}: field 'players' must be a list of names.")
    recorded = info.get(CONFIG_CHECKSUM)
    if not isinstance(recorded, str):
        raise CheckpointError(
            f"{path}: field {CONFIG_CHECKSUM!r} is missing, so the hyper-parameters cannot be "
            "checked; the model was written by an older version or the field was removed — "
            "retrain the model."
        )
    if recorded != config_checksum(info):
        raise CheckpointError(
            f"{path} does not match its checksum (field {CONFIG_CHECKSUM}): a hyper-parameter "
            "or another field was edited after training, which would silently change the "
            "recommendations. Retrain or restore the model (only dataset.path may be edited)."
        )
    check_hyper_parameters(path, hp)
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
        text = _decode(path, read_regular_file(path))  # a FIFO must not block the listing
    except FileNotFoundError:
        raise CheckpointError(
            f"{path} is missing; {model_dir} is not a complete model directory."
        ) from None
    except OSError as exc:  # a directory, unreadable, a FIFO refused below
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror}).") from None
    return _parse_info(text, path)


_VERIFIED: dict[tuple[str, int, int, int, str], bool] = {}


def verify_weights_file(model_dir: str | os.PathLike[str], info: dict[str, Any]) -> None:
    """Check ``model.safetensors`` against ``info["weights_sha256"]`` (CheckpointError if not).

    Remembered per file version (inode, size, mtime), so listing models stays cheap.
    """
    path = Path(model_dir) / WEIGHTS_FILE
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise CheckpointError(
            f"{path} is missing; {model_dir} is not a complete model directory."
        ) from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror}).") from None
    key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns, str(info["weights_sha256"]))
    if key in _VERIFIED:
        return
    try:
        with open(path, "rb", opener=_regular_file_opener) as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror}).") from None
    if digest != info["weights_sha256"]:
        raise CheckpointError(
            f"{path} does not match the checksum in {CONFIG_FILE} (field weights_sha256): the "
            "file is truncated or was edited; retrain or restore the model."
        )
    _VERIFIED[key] = True


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
    if metrics.get("test"):  # recorded before the mask rule was: they ranked under train + valid
        metrics.setdefault("mask", LEGACY_MASK)
    return LoadedModel(model, config, metrics, dataset, info["variant"], model_dir, info)


def read_train_log(model_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The per-epoch records of ``train_log.jsonl`` (empty when absent).

    A line that is not a JSON object is a :class:`CheckpointError` naming the line.
    """
    path = Path(model_dir) / LOG_FILE
    if not path.exists():
        return []
    try:
        with open(path, "rb", opener=_regular_file_opener) as fh:
            text = fh.read().decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError(f"{path} is not UTF-8 text; retrain or restore the model.") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror}).") from None
    records = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            record = None
        if not isinstance(record, dict):
            raise CheckpointError(
                f"{path}, line {n}: not a JSON object (the log is damaged); the model itself "
                "is unaffected, but its training curve cannot be drawn."
            )
        records.append(record)
    return records


def _regular_file_opener(path: str, flags: int) -> int:
    """``open`` that refuses anything but a regular file (a FIFO would block the reader)."""
    fd = os.open(path, flags | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(errno.EISDIR, "not a regular file", path)
    os.set_blocking(fd, True)
    return fd
