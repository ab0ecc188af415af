"""What the sub-commands share: argument groups, the model loader, id parsing, error handling.

Every command that reads a model takes ``MODEL_DIR`` with :func:`add_model_source_arguments`;
every command that trains takes :func:`add_training_arguments` (``train`` and the data-parallel
entry point alike), so one flag has one name and one default everywhere. Nothing here imports
torch at import time: ``python -m anchorrec --help`` answers without it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from anchorrec.data.ids import whole_number
from anchorrec.errors import AnchorRecError, ConfigError, printable

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

#: Exit status of a command that stopped on bad input the user can fix.
EXIT_USER_ERROR = 2


def variant_name(value: str) -> str:
    """argparse ``type`` of ``--variant``: a registered variant (checked when parsed)."""
    from anchorrec.models.registry import VARIANTS

    if value not in VARIANTS:
        raise argparse.ArgumentTypeError(
            f"unknown variant {value!r}; choose from {', '.join(VARIANTS)}"
        )
    return value


def add_training_arguments(p: argparse.ArgumentParser, *, per_rank: bool = False) -> None:
    """The flags every training entry point shares (``train``, data-parallel training)."""
    from anchorrec.models.config import PRESETS

    p.add_argument("data_dir", metavar="DATA_DIR", help="MMRec dataset directory")
    p.add_argument(
        "--variant",
        default="anchor",
        type=variant_name,
        metavar="VARIANT",
        help="model variant (default anchor; `python -m anchorrec variants` lists them)",
    )
    p.add_argument("--preset", default="default", choices=PRESETS)
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model directory to write")
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs (preset: 100)")
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="triples per rank per step (preset: 2048); the global batch is N times this"
        if per_rank
        else "triples per step (preset: 2048)",
    )
    p.add_argument("--lr", type=float, default=None, help="learning rate (preset: 1e-3)")
    p.add_argument("--patience", type=int, default=None, help="early-stopping patience (epochs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--device",
        default="auto",
        help="auto, cpu or cuda" + (" (nccl on CUDA, gloo on CPU)" if per_rank else ""),
    )
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast on CUDA")
    p.add_argument("--overwrite", action="store_true", help="replace an existing MODEL_DIR")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def add_config_argument(p: argparse.ArgumentParser, *, grid: bool = False) -> None:
    """``--config FILE.yaml``: settings from a file (anchorrec.cli.yaml_config); flags win."""
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE.yaml",
        help="read settings from a YAML file with the keys of a model's config.json"
        + (" and a grid (hyper_parameters: [names] with lists of values)" if grid else "")
        + "; flags given here win; unknown keys are refused",
    )


def training_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The preset fields the user set on the command line (``--lr`` -> ``learning_rate`` …)."""
    mapping = {
        "epochs": "epochs",
        "patience": "patience",
        "lr": "learning_rate",
        "batch_size": "batch_size",
        "temperature": "temperature",
    }
    if getattr(args, "epochs", None) is not None and args.epochs < 0:
        raise ConfigError(f"--epochs must be >= 0 (got {args.epochs}).")
    out = {
        key: getattr(args, a) for a, key in mapping.items() if getattr(args, a, None) is not None
    }
    for option, key in (("--lr", "learning_rate"), ("--temperature", "temperature")):
        value = out.get(key)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ConfigError(
                f"{option} {value}: must be a finite number above 0 (NaN or inf would train "
                "NaN weights)."
            )
    return out


def check_train_output(args: argparse.Namespace) -> None:
    """Refuse a --out that cannot be written, before any data is read or epoch is run: a link,
    the current folder or its parents, the dataset's own folder, a read-only parent."""
    from anchorrec.fileio import check_output_dir

    out = Path(args.out)
    check_output_dir(out, overwrite=args.overwrite or getattr(args, "resume", False))
    data = Path(args.data_dir).resolve()
    target = out.resolve()
    if target == data or data.is_relative_to(target):
        raise ConfigError(
            f"--out {args.out}: is the dataset folder {args.data_dir} or holds it; replacing it "
            "would delete the data. Write the model to a new folder (e.g. DATA_DIR/models/NAME)."
        )


def add_mask_argument(p: argparse.ArgumentParser) -> None:
    """``--mask``: which seen items are masked when ranking the test split."""
    from anchorrec.models.config import DEFAULT_MASK, MASK_RULES

    p.add_argument(
        "--mask",
        default=DEFAULT_MASK,
        choices=MASK_RULES,
        help="items masked when ranking the test split: train (MMRec's rule, default) or "
        "train+valid",
    )


def add_model_source_arguments(p: argparse.ArgumentParser) -> None:
    """``--data`` and ``--device``: how a command that reads MODEL_DIR loads the model."""
    p.add_argument(
        "--data", default=None, help="dataset directory (default: the one the model records)"
    )
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda")
    p.add_argument(
        "--cold-start",
        default="on",
        choices=("on", "off"),
        help="rank items with little history through the model's fitted cold-start path (on, "
        "the default, when one is stored) or as the published model ranks them (off)",
    )


def load_model_from_args(args: argparse.Namespace, model_dir: str | None = None) -> LoadedModel:
    """The model of ``model_dir`` (default ``args.model_dir``) on ``args.device``, against
    ``args.data`` if given."""
    from anchorrec.device import resolve_device
    from anchorrec.models.checkpoint import load_model

    resolve_device(args.device)  # --device tpu, or cuda without a GPU: before any loading
    dataset = None
    if args.data:
        from anchorrec.data.formats import load_dataset

        dataset = load_dataset(args.data)
    from anchorrec.models.cold_start import with_cold_start

    loaded = load_model(model_dir or args.model_dir, dataset, device=args.device)
    return with_cold_start(loaded, getattr(args, "cold_start", "on") == "on")


def model_names(model_dirs: list[str]) -> list[str]:
    """How to name models in a comparison: their directory names, or their paths when two
    directory names are the same."""
    names = [Path(d).name for d in model_dirs]
    return names if len(set(names)) == len(names) else [str(d) for d in model_dirs]


def parse_users(specs: list[str] | None, n_users: int) -> list[int]:
    """``["12"]``, ``["3,5,8"]``, ``["all"]`` (repeatable) → user ids, in order, without repeats."""
    out: list[int] = []
    for spec in specs or []:
        for part in str(spec).split(","):
            part = part.strip(" \t")  # ASCII only: the strict parser refuses the rest
            if not part:
                continue
            if part == "all":
                out.extend(range(n_users))
                continue
            try:  # the strict parser: not 0_1, not another script's digits
                user = whole_number(part, signed=True)
            except ValueError:
                raise ConfigError(
                    f"--user {spec!r}: give a user id, comma-separated ids, or 'all'."
                ) from None
            if not 0 <= user < n_users:
                raise ConfigError(f"--user {user}: user ids run from 0 to {n_users - 1}.")
            out.append(user)
    if not out:
        raise ConfigError("--user is required: a user id, comma-separated ids, or 'all'.")
    return list(dict.fromkeys(out))


def _deliver_interrupts() -> None:
    """Make Ctrl-C / SIGINT reach this command whatever the parent left behind.

    A process inherits ignored and blocked signals across ``exec``: a command started from a
    server thread (the dashboard's background jobs) may arrive with SIGINT ignored or blocked,
    and then a cancel would never stop it. Only the main thread may set a handler."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


#: Where :func:`emit_json` writes while a ``--json`` command runs: the real standard output.
_JSON_OUT: list[TextIO] = []


@contextlib.contextmanager
def json_stdout(enabled: bool) -> Iterator[None]:
    """With ``--json``, standard output carries only the JSON document (:func:`emit_json`):
    whatever else the command prints (tables, progress lines) goes to standard error, so
    ``… --json | jq`` and ``… --json | python -m json.tool`` work."""
    if not enabled:
        yield
        return
    _JSON_OUT.append(sys.stdout)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _JSON_OUT.pop()


def emit_json(document: object, *, indent: int | None = None) -> None:
    """Write ``document`` as the command's JSON output (numpy numbers as plain numbers)."""
    out = _JSON_OUT[-1] if _JSON_OUT else sys.stdout
    json.dump(document, out, indent=indent, default=_plain_number)
    out.write("\n")
    out.flush()


def _plain_number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]  # numpy scalars; anything else fails
    except (TypeError, ValueError):
        raise TypeError(f"{type(value).__name__} is not JSON serialisable") from None


def run_command(func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """Run one parsed command: bad input is a message and exit 2, never a traceback. With
    ``--json`` only the JSON document reaches standard output (:func:`json_stdout`)."""
    try:
        _deliver_interrupts()
        with json_stdout(bool(getattr(args, "json", False))):
            return int(func(args) or 0)
    except AnchorRecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (e.g. `... --json | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except FileExistsError as exc:  # an output appeared while we worked
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:
        from anchorrec.fileio import describe_os_error

        message = describe_os_error(exc)  # disk full, read-only, permission: the user's to fix
        if message is None:
            raise
        print(f"error: {printable(message)} Nothing was left half-written.", file=sys.stderr)
        return EXIT_USER_ERROR
