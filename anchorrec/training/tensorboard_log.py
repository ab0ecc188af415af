"""TensorBoard scalars of a training run, written from the trainer's ``on_epoch`` callback.

``train --log-dir DIR`` writes, per epoch, every loss term (``loss/<term>``), the valid
Recall and NDCG at 10 and 20 (``valid/recall@20`` …) and the learning rate (``lr``) with
``torch.utils.tensorboard``, which needs the ``tensorboard`` package (an optional extra).
``tensorboard --logdir DIR`` then shows the curves beside any other run's; the Train page
and ``train_log.jsonl`` are unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anchorrec.errors import ConfigError

INSTALL_HINT = "pip install tensorboard  (or: pip install 'anchorrec-studio[tensorboard]')"
#: The valid metrics written each epoch.
VALID_SCALARS: tuple[str, ...] = ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "mrr@20")


def summary_writer_class() -> Any:
    """``torch.utils.tensorboard.SummaryWriter``, or a ConfigError that says how to get it."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError(
            f"--log-dir writes TensorBoard event files, which needs the tensorboard package: "
            f"{INSTALL_HINT}"
        ) from None
    return SummaryWriter


class TensorBoardLog:
    """An ``on_epoch`` callback writing each epoch's record as scalars under ``log_dir``."""

    def __init__(self, log_dir: str | Path) -> None:
        self.log_dir = Path(log_dir)
        self.writer = summary_writer_class()(log_dir=str(self.log_dir))

    def __call__(self, record: dict[str, Any]) -> None:
        step = int(record["epoch"])
        for term, value in record.get("loss", {}).items():
            self.writer.add_scalar(f"loss/{term}", float(value), step)
        valid = record.get("valid", {})
        for name in VALID_SCALARS:
            if name in valid:
                self.writer.add_scalar(f"valid/{name}", float(valid[name]), step)
        if "lr" in record:
            self.writer.add_scalar("lr", float(record["lr"]), step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
