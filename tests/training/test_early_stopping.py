"""Best-epoch selection with patience, shared by the trainer and data-parallel training."""

from __future__ import annotations

import torch
from torch import nn

from anchorrec.training.early_stopping import EarlyStopping


def test_keeps_the_best_weights_and_stops_after_patience_epochs_without_progress() -> None:
    model = nn.Linear(2, 1)
    stop = EarlyStopping(patience=2)
    for epoch, value in enumerate([0.1, 0.3, 0.2], start=1):
        with torch.no_grad():
            model.weight.fill_(epoch)
        stop.update(epoch, value, model)
    assert (stop.best_epoch, stop.best_value, stop.bad_epochs) == (2, 0.3, 1)
    assert not stop.exhausted
    assert torch.equal(stop.best_state["weight"], torch.full((1, 2), 2.0))
    assert stop.update(4, 0.3, model) is False  # equal is no progress
    assert stop.exhausted
