"""``--config FILE.yaml`` for ``train``, ``tune`` and ``prepare``: settings from a file, flags
on top.

The keys are those of a model's ``config.json``: every hyper-parameter (``learning_rate``,
``l2_weight``, ``embedding_dim``, ``epochs``, …, also under a ``hyper_parameters:`` mapping as
config.json nests them), ``variant``, ``preset`` and ``seed``; so a model's own config.json
(JSON is YAML) starts the same run again. Its record-keeping keys (``format``, ``dataset``,
``players``, ``code_version``, checksums, ``seconds``, ``tuned``, ``grid_point``) are accepted
and not used. Besides, ``train`` takes ``device``, ``mask`` and ``amp``; ``tune`` takes
``budget``, ``patience``, ``seeds``, ``max_points``, ``device``, ``mask`` and a grid as MMRec
writes one — ``hyper_parameters: [learning_rate, l2_weight]`` names the keys whose lists of
values are searched, every other hyper-parameter is fixed; ``prepare`` takes its options
(``methods``, ``games``, ``diagnostics``, ``device``, ``data``, ``quiet``).

A flag given on the command line wins over the file; an unknown key is refused with its name.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from anchorrec.errors import ConfigError

#: Keys of config.json that record a run rather than set it: accepted, not used.
RECORD_KEYS = frozenset(
    {
        "format",
        "dataset",
        "players",
        "code_version",
        "config_sha256",
        "weights_sha256",
        "seconds",
        "tuned",
        "grid_point",
    }
)
TRAIN_RUN_KEYS = ("seed", "device", "mask", "amp")
TUNE_RUN_KEYS = ("budget", "patience", "seeds", "seed", "max_points", "device", "mask")
PREPARE_KEYS = ("methods", "games", "diagnostics", "device", "data", "quiet")


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping at the top of a YAML (or JSON) file; a clear ConfigError otherwise."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--config {path}: no such file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config {path}: cannot be read ({exc}).") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"--config {path}{where}: not valid YAML ({problem}).") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(
            f"--config {path}: the file holds a {type(doc).__name__}; it must be a mapping of "
            "keys to values (e.g. learning_rate: 0.001)."
        )
    return doc


def hyper_parameter_defaults() -> dict[str, Any]:
    """Every hyper-parameter key with its default (the keys of config.json's
    ``hyper_parameters``)."""
    from anchorrec.models.config import ModelConfig

    return ModelConfig().to_dict()


def _check_value(path: Path, key: str, value: Any, default: Any) -> Any:
    """``value`` if it has the type of the hyper-parameter ``key``."""
    optional = key in ("align_batch", "feature_dim")
    if value is None and optional:
        return value
    ok: bool
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int) and not optional:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, list | tuple):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif optional:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        if isinstance(default, bool):
            kind = "true or false"
        elif isinstance(default, float):
            kind = "a number"
        elif isinstance(default, list | tuple):
            kind = "a list of names"
        elif isinstance(default, int) or optional:
            kind = "a whole number" + (" or null" if optional else "")
        else:
            kind = "a name"
        raise ConfigError(f"--config {path}: key {key!r} is {value!r}; it must be {kind}.")
    return value


def _flatten(path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys with a ``hyper_parameters`` mapping merged in (equal values only)."""
    flat = {k: v for k, v in doc.items() if k != "hyper_parameters"}
    nested = doc.get("hyper_parameters")
    if isinstance(nested, dict):
        for key, value in nested.items():
            if key in flat and flat[key] != value:
                raise ConfigError(
                    f"--config {path}: key {key!r} is {flat[key]!r} at the top and {value!r} "
                    "under hyper_parameters; give it once."
                )
            flat[key] = value
    return flat


def _split(
    path: Path,
    doc: dict[str, Any],
    run_keys: tuple[str, ...],
    *,
    grid_names: frozenset[str] | set[str] = frozenset(),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(hyper-parameters, run settings) of ``doc``; unknown keys refused by name."""
    defaults = hyper_parameter_defaults()
    hyper: dict[str, Any] = {}
    run: dict[str, Any] = {}
    for key, value in doc.items():
        if key in RECORD_KEYS:
            continue
        if key in run_keys:
            run[key] = value
        elif key in defaults:
            if key in grid_names:
                if not isinstance(value, list) or not value:
                    raise ConfigError(
                        f"--config {path}: {key!r} is listed in hyper_parameters, so it needs a "
                        f"list of values to search (e.g. {key}: [0.001, 0.0001])."
                    )
                hyper[key] = [_check_value(path, key, v, defaults[key]) for v in value]
            else:
                hyper[key] = _check_value(path, key, value, defaults[key])
        else:
            known = sorted({*defaults, *run_keys, "hyper_parameters"})
            raise ConfigError(
                f"--config {path}: unknown key {key!r}; use the keys of a model's config.json "
                f"({', '.join(known)})."
            )
    return hyper, run


def _set(args: argparse.Namespace, explicit: set[str], dest: str, value: Any) -> None:
    if dest not in explicit:
        setattr(args, dest, value)


def _check_choice(path: Path, key: str, value: Any, choices: tuple[str, ...]) -> Any:
    if value not in choices:
        raise ConfigError(
            f"--config {path}: key {key!r} is {value!r}; use one of {', '.join(choices)}."
        )
    return value


def apply_config(args: argparse.Namespace) -> None:
    """Fill ``args`` from ``args.config`` for its command (flags in ``args._explicit`` win)."""
    path = Path(args.config)
    explicit: set[str] = getattr(args, "_explicit", set())
    doc = read_yaml(path)
    if args.command == "prepare":
        _apply_prepare(path, doc, args, explicit)
        return
    from anchorrec.models.config import MASK_RULES, PRESETS
    from anchorrec.models.registry import VARIANTS

    if args.command == "train":
        hyper, run = _split(path, _flatten(path, doc), TRAIN_RUN_KEYS)
    else:
        names = doc.get("hyper_parameters")
        grid_names = set(names) if isinstance(names, list) else set()
        flat = _flatten(path, doc) if isinstance(names, dict) else dict(doc)
        flat.pop("hyper_parameters", None)
        unknown = grid_names - set(hyper_parameter_defaults())
        if unknown:
            raise ConfigError(
                f"--config {path}: hyper_parameters names unknown key(s) {sorted(unknown)}."
            )
        hyper, run = _split(path, flat, TUNE_RUN_KEYS, grid_names=grid_names)
        args.config_grid = {k: tuple(hyper.pop(k)) for k in sorted(grid_names)} or None
    variant = hyper.pop("variant", None)
    preset = hyper.pop("preset", None)
    if variant is not None:
        _set(args, explicit, "variant", _check_choice(path, "variant", variant, tuple(VARIANTS)))
    if preset is not None:
        _set(args, explicit, "preset", _check_choice(path, "preset", preset, PRESETS))
    if "mask" in run:
        _check_choice(path, "mask", run["mask"], MASK_RULES)
    if args.command == "tune" and "seed" in run:  # a config.json's seed: the seed to tune with
        run.setdefault("seeds", [run["seed"]])
        run.pop("seed")
    for key, value in run.items():
        if key == "seeds":
            value = [value] if isinstance(value, int) else value
            if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
                raise ConfigError(f"--config {path}: key 'seeds' must be a list of integers.")
        elif key in ("seed", "budget", "patience", "max_points") and (
            not isinstance(value, int) or isinstance(value, bool)
        ):
            raise ConfigError(f"--config {path}: key {key!r} is {value!r}; it must be an integer.")
        _set(args, explicit, key, value)
    args.config_hyper = hyper


def _apply_prepare(
    path: Path, doc: dict[str, Any], args: argparse.Namespace, explicit: set[str]
) -> None:
    for key, value in doc.items():
        if key not in PREPARE_KEYS:
            raise ConfigError(
                f"--config {path}: unknown key {key!r}; prepare takes {', '.join(PREPARE_KEYS)}."
            )
        if key in ("methods", "games"):
            value = ",".join(value) if isinstance(value, list) else str(value)
            _set(args, explicit, key, value)
        elif key == "diagnostics":
            if not isinstance(value, bool):
                raise ConfigError(f"--config {path}: key 'diagnostics' must be true or false.")
            _set(args, explicit, "no_diagnostics", not value)
        elif key == "quiet":
            _set(args, explicit, "quiet", bool(value))
        else:
            _set(args, explicit, key, str(value))


def explicit_dests(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """The destinations the command line sets itself (every default suppressed)."""

    def suppress(p: argparse.ArgumentParser) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    suppress(child)
            elif not action.required:
                action.default = argparse.SUPPRESS
        p._defaults = {k: v for k, v in p._defaults.items() if k == "func"}

    suppress(parser)
    return set(vars(parser.parse_args(argv)))
