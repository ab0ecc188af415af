"""Model selection by a validation value with patience (docs/models.md#training: best epoch by valid Recall@20).

Shared by the single-process trainer and data-parallel training so that both select and
stop alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn


def copy_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of ``model``'s state dict."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@dataclass
class EarlyStopping:
    """The best epoch so far (1-based), its value and weights, and the epochs without progress."""

    patience: int
    best_value: float = -math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:
        """True once ``patience`` epochs in a row brought no improvement."""
        return self.bad_epochs >= self.patience

    def update(self, epoch: int, value: float, model: nn.Module) -> bool:
        """Record ``value`` of 1-based ``epoch``; keep ``model``'s weights if it is the best."""
        if value > self.best_value:
            self.best_value, self.best_epoch, self.bad_epochs = value, epoch, 0
            self.best_state = copy_state(model)
            return True
        self.bad_epochs += 1
        return False
