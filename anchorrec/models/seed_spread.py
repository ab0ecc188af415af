"""A shipped model's figure beside the protocol's: the seed mean ± sd of its tuning record.

A tuned model is one run (seed 0) of the chosen configuration; the tuning protocol also
retrains it with other seeds and records every seed's test metrics and their mean and
standard deviation (``tuning.json``, :data:`~anchorrec.models.model_dir.TUNING_FILE`). A
comparison of the shipped models (one seed each, intervals over users) and a verdict from the
seed means (intervals over retraining) can disagree; showing both, each named, is how a
reader tells which a sentence describes. Reads JSON only (no torch).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from anchorrec.fileio import read_regular_file
from anchorrec.models.model_dir import ModelDir


@dataclass(frozen=True)
class SeedSpread:
    """The protocol's ``split`` ``metric`` over ``seeds`` retrainings: ``mean`` ± ``sd``."""

    metric: str
    split: str
    mean: float
    sd: float
    seeds: int

    def text(self, digits: int = 4) -> str:
        """``0.1308 ± 0.0036 (5 seeds)``."""
        return f"{self.mean:.{digits}f} ± {self.sd:.{digits}f} ({self.seeds} seeds)"


def seed_spread(
    model_dir: str | Path, metric: str = "recall@20", split: str = "test"
) -> SeedSpread | None:
    """The seed mean ± sd of ``metric`` on ``split`` from the model's tuning record, or None
    (no record, unreadable, fewer than two seeds, or the metric not recorded)."""
    try:
        raw = read_regular_file(ModelDir(model_dir).tuning)
        summary = json.loads(raw.decode("utf-8"))["summary"]
        entry = summary[split][metric]
        mean, sd = float(entry["mean"]), float(entry["sd"])
        seeds = len(summary.get("seeds") or summary.get("runs") or [])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if seeds < 2 or not (math.isfinite(mean) and math.isfinite(sd)):
        return None
    return SeedSpread(metric, split, mean, sd, seeds)
