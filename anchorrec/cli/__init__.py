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

from anchorrec.errors import AnchorRecError

COMMAND_MODULES: tuple[str, ...] = (
    "anchorrec.cli.data_commands",
    "anchorrec.cli.sample_commands",
    "anchorrec.cli.model_commands",
    "anchorrec.cli.analysis_commands",
)

EXIT_USER_ERROR = 2


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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AnchorRecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # the reader of our output went away (e.g. `... --json | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except FileExistsError as exc:  # an output appeared while we worked
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:
        from anchorrec.fileio import describe_os_error

        message = describe_os_error(exc)  # disk full, read-only, permission: the user's to fix
        if message is None:
            raise
        print(f"error: {message} Nothing was left half-written.", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
