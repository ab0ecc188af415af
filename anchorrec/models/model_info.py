"""A model directory's ``config.json`` and weights checksum, read and checked without torch.

Listing the models of a dataset, showing their metrics and training curves needs only these
files, so the dashboard's first page does not import torch; :mod:`anchorrec.models.checkpoint`
loads the weights. ``config.json`` is checked field by field (types, finite numbers, sizes
within :data:`LIMITS`, its own checksum ``config_sha256``), and ``model.safetensors`` against
its SHA-256.
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
from pathlib import Path
from typing import Any

from anchorrec.errors import CheckpointError
from anchorrec.fileio import read_regular_file
from anchorrec.models.config import ModelConfig, TrainConfig
from anchorrec.models.model_dir import CONFIG_FILE, LOG_FILE, WEIGHTS_FILE

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
        info = json.loads(decode_info(path, read_regular_file(path)))
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: cannot be read as JSON ({exc}).") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CheckpointError(f"{path}: field 'format' is not {FORMAT!r}; not an AnchorRec model.")
    if CONFIG_CHECKSUM in info:
        return False
    info[CONFIG_CHECKSUM] = config_checksum(info)
    parse_info(json.dumps(info), path)  # every structural and size check
    verify_weights_file(model_dir, info)
    atomic_write_text(path, json.dumps(info, indent=2, sort_keys=True) + "\n")
    return True


def parse_info(text: str, path: Path) -> dict[str, Any]:
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
    for key in ("name", "path"):
        if key in dataset:
            _field(path.with_name(f"{path.name}, dataset"), dataset, key, (str, type(None)))
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


def decode_info(path: Path, data: bytes) -> str:
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
        text = decode_info(path, read_regular_file(path))  # a FIFO must not block the listing
    except FileNotFoundError:
        raise CheckpointError(
            f"{path} is missing; {model_dir} is not a complete model directory."
        ) from None
    except OSError as exc:  # a directory, unreadable, a FIFO refused below
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror}).") from None
    return parse_info(text, path)


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
    check_weights_digest(path, digest, info)
    _VERIFIED[key] = True


def check_weights_digest(path: Path, digest: str, info: dict[str, Any]) -> None:
    """CheckpointError unless ``digest`` (SHA-256 of the weights at ``path``) is the one
    ``config.json`` records."""
    if digest != info["weights_sha256"]:
        raise CheckpointError(
            f"{path} does not match the checksum in {CONFIG_FILE} (field weights_sha256): the "
            "file is truncated or was edited; retrain or restore the model."
        )


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
