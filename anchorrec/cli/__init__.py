"""``python -m anchorrec``: one entry point, one sub-command module per area.

Each module in :data:`COMMAND_MODULES` has ``register(subparsers)`` which adds its
sub-commands; each sub-command sets ``func(args) -> int``. An :class:`AnchorRecError`
(bad input the user can fix) prints its message and exits 2; it never shows a traceback. So
does an OS error the user fixes (a full disk, a read-only folder): every write is atomic, so
nothing is left half-written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from anchorrec.cli.common import EXIT_USER_ERROR, run_command

COMMAND_MODULES: tuple[str, ...] = (
    "anchorrec.cli.data_commands",
    "anchorrec.cli.sample_commands",
    "anchorrec.cli.model_commands",
    "anchorrec.cli.analysis_commands",
    "anchorrec.cli.preview_commands",
    "anchorrec.cli.cold_start_commands",
    "anchorrec.cli.export_commands",
)

__all__ = ["EXIT_USER_ERROR", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m anchorrec",
        description="AnchorRec Studio: data, training, evaluation and analysis of "
        "anchor-aligned multimodal recommenders.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if getattr(args, "config", None) is None:
        return run_command(args.func, args)
    from anchorrec.cli.yaml_config import apply_config, explicit_dests

    args._explicit = explicit_dests(build_parser(), argv)  # flags given win over the file
    command = args.func

    def configured(a: argparse.Namespace) -> int | None:
        apply_config(a)
        return command(a)

    return run_command(configured, args)
