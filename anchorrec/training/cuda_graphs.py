"""Training steps replayed as a CUDA graph.

A training step of these models is a few hundred small kernels (anchor on the Baby graph:
about 700 a step, 2.2 ms of GPU work). Launched one by one from Python it takes about 20 ms on
an H100 — the GPU waits for the CPU. :class:`GraphedStep` captures the forward and backward pass of one
full batch once (``torch.cuda.graph``) and then replays it: one launch per step. The
optimiser step (fused Adam, a couple of kernels) runs eagerly after the replay, so the
learning-rate schedule and the optimiser state work as they do without graphs.

What capture needs, and how it is met:

- static shapes: every full batch has ``batch_size`` rows; the last, shorter batch of an
  epoch runs eagerly;
- static memory: the batch is copied into the captured input tensors; the model's graphs and
  feature tables are built during the warm-up passes, before capture, and never replaced
  while training;
- no host synchronisation inside the step (no ``.item()``, no data-dependent shapes such as
  ``torch.unique``); the models' losses are written so.

If capture fails (a model or a torch build that cannot be captured), the step falls back to
eager execution with a warning; the numbers are the same, only slower.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from anchorrec.models.base import Batch, Recommender

#: Forward+backward passes run before capture (they build the lazy graphs, initialise cuBLAS
#: and cuSPARSE workspaces and autograd's state); their gradients are discarded.
WARMUP_PASSES = 2


def backward_and_step(optimizer: torch.optim.Optimizer, total: torch.Tensor) -> None:
    """Zero the gradients, back-propagate ``total`` and take one optimiser step (eagerly)."""
    optimizer.zero_grad(set_to_none=True)
    total.backward()  # under DDP the gradients are all-reduced (averaged) here
    optimizer.step()


class GraphedStep:
    """``step(batch)``: forward, backward and optimiser step; a CUDA graph for full batches.

    Returns the loss terms (tensors on the device, valid until the next step).
    """

    def __init__(
        self,
        model: Recommender,
        optimizer: torch.optim.Optimizer,
        batch_size: int,
        *,
        mixed_precision: bool = False,
        enabled: bool = True,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.mixed_precision = mixed_precision
        self.enabled = enabled
        self.graph: torch.cuda.CUDAGraph | None = None
        self.fallback_reason: str | None = None
        self._static_batch: Batch | None = None
        self._static_terms: dict[str, torch.Tensor] = {}
        self._static_grads: list[tuple[torch.nn.Parameter, torch.Tensor]] = []
        self.replays = 0

    # ------------------------------------------------------------------ public
    @property
    def graphed(self) -> bool:
        """Whether full batches are replayed from a captured graph."""
        return self.graph is not None

    def __call__(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        if not self._can_graph(batch):
            return self._eager(batch, epoch)
        if self.graph is None:
            try:
                self._capture(batch, epoch)
            except Exception as exc:  # noqa: BLE001 - any capture failure means: run eagerly
                self._abandon(f"{type(exc).__name__}: {exc}")
                return self._eager(batch, epoch)
        assert self._static_batch is not None and self.graph is not None
        self._static_batch.users.copy_(batch.users, non_blocking=True)
        self._static_batch.pos_items.copy_(batch.pos_items, non_blocking=True)
        self._static_batch.neg_items.copy_(batch.neg_items, non_blocking=True)
        self.graph.replay()
        self.replays += 1
        for param, grad in self._static_grads:  # an eager step in between may have unset them
            param.grad = grad
        self.optimizer.step()
        return self._static_terms

    # ------------------------------------------------------------------ internals
    def _can_graph(self, batch: Batch) -> bool:
        return (
            self.enabled
            and self.fallback_reason is None
            and batch.users.is_cuda
            and batch.users.shape[0] == self.batch_size
        )

    def _autocast(self, device_type: str = "cuda", capturing: bool = False) -> torch.autocast:
        """bfloat16 autocast when mixed precision is on (CUDA only).

        Autocast's cast cache must be off while capturing: its cached copies would be freed.
        """
        return torch.autocast(
            device_type=device_type,
            dtype=torch.bfloat16,
            enabled=self.mixed_precision and device_type == "cuda",
            cache_enabled=False if capturing else None,
        )

    def _eager(self, batch: Batch, epoch: int) -> dict[str, torch.Tensor]:
        with self._autocast(batch.users.device.type):
            terms = self.model.loss(batch, epoch)
        backward_and_step(self.optimizer, terms["total"])
        return terms

    def _capture(self, batch: Batch, epoch: int) -> None:
        static = Batch(batch.users.clone(), batch.pos_items.clone(), batch.neg_items.clone())
        side = torch.cuda.Stream(device=batch.users.device)
        side.wait_stream(torch.cuda.current_stream(batch.users.device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_PASSES):
                self.optimizer.zero_grad(set_to_none=True)
                with self._autocast():
                    terms = self.model.loss(static, epoch)
                terms["total"].backward()
                # drop the warm-up's autograd graph: alive, it would keep the parameters'
                # gradient accumulators bound to this side stream during capture
                del terms
        torch.cuda.current_stream(batch.users.device).wait_stream(side)
        self.optimizer.zero_grad(set_to_none=True)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            with self._autocast(capturing=True):
                terms = self.model.loss(static, epoch)
            terms["total"].backward()
        self._static_terms = {k: v.detach() for k, v in terms.items()}
        self._static_grads = [
            (p, p.grad) for p in self.model.parameters() if p.requires_grad and p.grad is not None
        ]
        self._static_batch = static
        self.graph = graph

    def _abandon(self, reason: str) -> None:
        self.fallback_reason = reason
        self.graph = None
        self._static_grads = []
        self.optimizer.zero_grad(set_to_none=True)
        warnings.warn(
            f"CUDA graph capture of the training step failed ({reason}); training goes on "
            "eagerly (same results, slower).",
            RuntimeWarning,
            stacklevel=3,
        )

    def describe(self) -> dict[str, Any]:
        """What ran: graphed or eager (and why), and how many replays."""
        return {
            "cuda_graph": self.graphed,
            "replays": self.replays,
            "fallback_reason": self.fallback_reason,
        }
