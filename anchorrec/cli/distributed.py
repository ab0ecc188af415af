"""Data-parallel training from the command line: one process per GPU (or per CPU worker).

    torchrun --nproc_per_node 4 -m anchorrec.cli.distributed DATA_DIR \\
        --variant anchor --out MODEL_DIR

It takes ``train``'s arguments (:func:`anchorrec.cli.common.add_training_arguments`) and its
error handling; the training itself is :func:`anchorrec.training.distributed.train_distributed`.
"""

from __future__ import annotations

import argparse
import sys

from anchorrec.cli.common import (
    add_training_arguments,
    check_train_output,
    run_command,
    training_overrides,
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="torchrun --nproc_per_node N -m anchorrec.cli.distributed",
        description="Data-parallel BPR training (one process per GPU, or per CPU worker).",
    )
    add_training_arguments(p, per_rank=True)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(_run, args)


def _run(args: argparse.Namespace) -> int:
    import torch.distributed as dist

    from anchorrec.data.formats import load_dataset
    from anchorrec.models.config import preset_config
    from anchorrec.training.distributed import init_distributed, train_distributed

    config = preset_config(args.preset, variant=args.variant, **training_overrides(args))
    check_train_output(args)
    ctx = init_distributed(args.device)
    try:
        dataset = load_dataset(args.data_dir)
        result = train_distributed(
            dataset,
            args.variant,
            config,
            context=ctx,
            out_dir=args.out,
            seed=args.seed,
            mixed_precision=args.amp,
            overwrite=args.overwrite,
            progress=not args.quiet,
        )
    finally:
        dist.destroy_process_group()
    if ctx.is_main:
        test = result.metrics.get("test", {})
        print(
            f"wrote {result.model_dir} ({ctx.world_size} ranks, {ctx.backend}, best epoch "
            f"{result.best_epoch}, test recall@20 {test.get('recall@20', float('nan')):.4f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
