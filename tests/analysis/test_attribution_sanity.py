"""Model-level sanity checks of input attribution that hold whatever the data.

Each test builds a small model with a known dependence on its inputs and runs it through the
whole pipeline (coalition cache, :func:`attribute`), under both games:

- a model that reads only ID gives exactly zero image and text values;
- a model that ignores ID gives exactly zero ID value;
- a model with known additive contributions is recovered exactly;
- a dummy player that changes nothing gets exactly zero;
- two symmetric players get equal values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
import pytest
import torch

from anchorrec.analysis import attribution as at
from anchorrec.analysis.attribution import BACKGROUND_GAME, GAMES, attribute, background_draws
from anchorrec.models.base import Background, Batch, Embeddings, Recommender
from anchorrec.models.config import ModelConfig
from tests.conftest import make_tiny_dataset

N_USERS, N_ITEMS, DIM = 12, 9, 4
Inputs = dict[str, tuple[torch.Tensor, torch.Tensor]]


class SyntheticModel(Recommender):
    """``users = user_fn(inputs)``, ``items = item_fn(inputs)`` over per-player input tables.

    Every player owns a user table and an item table. Removing a player replaces its tables
    by their means (mean game) or by the drawn users' and items' rows (background game).
    """

    variant: ClassVar[str] = "synthetic"

    def __init__(
        self,
        players: tuple[str, ...],
        user_fn: Callable[[Inputs], torch.Tensor],
        item_fn: Callable[[Inputs], torch.Tensor],
        seed: int = 0,
        same: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(
            make_tiny_dataset(n_users=N_USERS, n_items=N_ITEMS), ModelConfig(variant=self.variant)
        )
        gen = torch.Generator().manual_seed(seed)
        self._players = players
        self.user_fn, self.item_fn = user_fn, item_fn
        self.tables: Inputs = {
            p: (
                torch.randn(N_USERS, DIM, generator=gen, dtype=torch.float64),
                torch.randn(N_ITEMS, DIM, generator=gen, dtype=torch.float64),
            )
            for p in players
        }
        if same is not None:  # two players with identical inputs
            self.tables[same[1]] = self.tables[same[0]]

    @property
    def players(self) -> tuple[str, ...]:
        return self._players

    def compute_embeddings(
        self, drop: frozenset[str] = frozenset(), *, background: Background | None = None
    ) -> Embeddings:
        inputs: Inputs = {}
        for p, (u, i) in self.tables.items():
            if p in drop and background is not None:
                u, i = u[torch.as_tensor(background.users)], i[torch.as_tensor(background.items)]
            elif p in drop:
                u, i = u.mean(0, keepdim=True).expand_as(u), i.mean(0, keepdim=True).expand_as(i)
            inputs[p] = (u, i)
        return Embeddings(self.user_fn(inputs), self.item_fn(inputs))

    def loss(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        raise NotImplementedError


def _loaded(model: SyntheticModel):
    from tests.analysis.conftest import FakeLoadedModel

    ds = make_tiny_dataset(n_users=N_USERS, n_items=N_ITEMS)
    return FakeLoadedModel(model=model, dataset=ds)


def _all_pairs() -> tuple[np.ndarray, np.ndarray]:
    u, i = np.meshgrid(np.arange(N_USERS), np.arange(N_ITEMS), indexing="ij")
    return u.ravel(), i.ravel()


def _attribution(model: SyntheticModel, game: str):
    at._CACHES.pop(model, None)
    cache = at.coalition_cache(_loaded(model), game=game, draws=5)
    users, items = _all_pairs()
    return attribute(cache, users, items, branches=False, standardised=False)


def _nonlinear(names: tuple[str, ...], side: int) -> Callable[[Inputs], torch.Tensor]:
    """A non-additive mixing of the named players' tables (products and a tanh)."""

    def fn(inputs: Inputs) -> torch.Tensor:
        x = [inputs[n][side] for n in names]
        out = torch.tanh(sum(x))
        for a in x:
            out = out * (1 + 0.5 * torch.sigmoid(a))
        return out

    return fn


@pytest.mark.parametrize("game", GAMES)
def test_an_id_only_model_gives_exactly_zero_content_share(game):
    model = SyntheticModel(("id", "image", "text"), _nonlinear(("id",), 0), _nonlinear(("id",), 1))
    res = _attribution(model, game)
    assert (res.value("image") == 0).all() and (res.value("text") == 0).all()
    assert (res.shares[1:] == 0).all()
    assert res.efficiency_error() < 1e-9
    assert np.abs(res.value("id")).max() > 0.01  # the ID player does carry the score


@pytest.mark.parametrize("game", GAMES)
def test_a_model_ignoring_id_gives_exactly_zero_id_share(game):
    content = ("image", "text")
    model = SyntheticModel(
        ("id", "image", "text"), _nonlinear(content, 0), _nonlinear(content, 1), seed=1
    )
    res = _attribution(model, game)
    assert (res.value("id") == 0).all() and (res.shares[0] == 0).all()
    assert np.abs(res.values[1:]).max() > 0.01
    assert res.efficiency_error() < 1e-9


def _concat(side: int, players: tuple[str, ...]) -> Callable[[Inputs], torch.Tensor]:
    return lambda inputs: torch.cat([inputs[p][side] for p in players], dim=1)


@pytest.mark.parametrize("game", GAMES)
def test_known_additive_contributions_are_recovered_exactly(game):
    players = ("id", "image", "text")
    # score = Σ_m u_m · i_m: each player's part of the dot product is its own block
    model = SyntheticModel(players, _concat(0, players), _concat(1, players), seed=2)
    res = _attribution(model, game)
    users, items = _all_pairs()
    draws = background_draws(N_USERS, N_ITEMS, 5, at.BACKGROUND_SEED)
    for m, p in enumerate(players):
        u, i = (t.numpy() for t in model.tables[p])
        own = (u[users] * i[items]).sum(1)
        if game == BACKGROUND_GAME:  # what the block gives for drawn users and items, averaged
            removed = np.mean([(u[d.users[users]] * i[d.items[items]]).sum(1) for d in draws], 0)
        else:  # what it gives for the mean user and item
            removed = np.full_like(own, u.mean(0) @ i.mean(0))
        np.testing.assert_allclose(res.values[m], own - removed, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(res.baseline + res.values.sum(0), res.scores, atol=1e-10)


@pytest.mark.parametrize("game", GAMES)
def test_a_dummy_player_gets_exactly_zero(game):
    players = ("id", "image", "text", "fused")
    used = ("id", "image", "text")  # "fused" is a player the scores never read
    model = SyntheticModel(players, _nonlinear(used, 0), _nonlinear(used, 1), seed=3)
    res = _attribution(model, game)
    assert (res.value("fused") == 0).all()
    assert res.efficiency_error() < 1e-9


@pytest.mark.parametrize("game", GAMES)
def test_symmetric_players_get_equal_values(game):
    players = ("id", "image", "text")
    # image and text have the same tables and enter the score the same way
    model = SyntheticModel(
        players, _nonlinear(players, 0), _nonlinear(players, 1), seed=4, same=("image", "text")
    )
    res = _attribution(model, game)
    np.testing.assert_allclose(res.value("image"), res.value("text"), rtol=1e-9, atol=1e-12)
    assert np.abs(res.value("image")).max() > 0.01
