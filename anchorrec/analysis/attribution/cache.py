"""Building the coalition cache, keeping it in memory, and persisting it beside the model.

:func:`build_coalition_cache` runs the model once per coalition of its input players
(``2^n`` forward passes, 8 for id/image/text) and takes every user's moments of the
standardised game once. :func:`coalition_cache` keeps one per model and game in memory and,
with ``persist``, reads / writes it in the model's derived store as a pickle-free ``.npz``
keyed by the model fingerprint and the game; the moments are stored in it (format
:data:`CACHE_FORMAT`), so an explanation read from it scores only its shopper's row.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from anchorrec.analysis.attribution.game import (
    BACKGROUND_DRAWS,
    BACKGROUND_GAME,
    BACKGROUND_SEED,
    MEAN_GAME,
    CoalitionCache,
    background_draws,
    check_game,
)
from anchorrec.analysis.shapley import coalitions
from anchorrec.device import no_grad
from anchorrec.errors import ConfigError
from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    import torch

    from anchorrec.models.checkpoint import LoadedModel

_CACHES: weakref.WeakKeyDictionary[Any, dict[tuple[str, int, int], CoalitionCache]] = (
    weakref.WeakKeyDictionary()
)


def _numpy(t: torch.Tensor) -> np.ndarray:
    """float32 on the CPU (float64 stays float64: the exactness tests use it)."""
    import torch

    dtype = torch.float64 if t.dtype == torch.float64 else torch.float32
    return t.detach().to("cpu", dtype).numpy()


@no_grad
def build_coalition_cache(
    loaded: LoadedModel,
    *,
    game: str = MEAN_GAME,
    draws: int = BACKGROUND_DRAWS,
    seed: int = BACKGROUND_SEED,
) -> CoalitionCache:
    """Run the model once per coalition of its players (``2^n`` forward passes; under the
    background game ``draws`` per coalition that removes something)."""
    import torch

    check_game(game)
    if game == BACKGROUND_GAME and draws < 1:
        raise ConfigError(f"the background game needs at least one draw (got {draws}).")
    model = loaded.model
    was_training = model.training
    model.eval()
    try:
        players = tuple(model.players)
        subsets = coalitions(players)
        full = model.compute_embeddings()
        n_draws = draws if game == BACKGROUND_GAME else 1
        draw_list = (
            background_draws(int(full.users.shape[0]), int(full.items.shape[0]), draws, seed)
            if game == BACKGROUND_GAME
            else []
        )
        users, items = [], []

        def single(u: np.ndarray, i: np.ndarray) -> None:
            # one embedding for every draw: pad with zeros rather than repeat it, so that
            # v(S) is its plain dot product (bit for bit the same as for any other coalition
            # with the same embeddings: a player that changes nothing gets exactly 0)
            users.append(np.pad(u, ((0, 0), (0, u.shape[1] * (n_draws - 1)))))
            items.append(np.pad(i, ((0, 0), (0, i.shape[1] * (n_draws - 1)))))

        for subset in subsets:
            drop = frozenset(players) - subset
            if not drop:
                single(_numpy(full.users), _numpy(full.items))
            elif game == MEAN_GAME:
                emb = model.compute_embeddings(drop=drop)
                users.append(_numpy(emb.users))
                items.append(_numpy(emb.items))
            else:
                embs = [model.compute_embeddings(drop=drop, background=b) for b in draw_list]
                if all(
                    torch.equal(e.users, embs[0].users) and torch.equal(e.items, embs[0].items)
                    for e in embs[1:]
                ):  # the draws do not matter (the model ignores what was removed)
                    single(_numpy(embs[0].users), _numpy(embs[0].items))
                    continue
                users.append(np.concatenate([_numpy(e.users) for e in embs], axis=1) / n_draws)
                items.append(np.concatenate([_numpy(e.items) for e in embs], axis=1))
    finally:
        model.train(was_training)
    branches = tuple(dict.fromkeys([*full.user_branches, *full.item_branches]))
    n_users, dim = full.users.shape
    n_items = full.items.shape[0]
    dtype = users[-1].dtype
    user_br = np.zeros((len(branches), n_users, dim), dtype=dtype)
    item_br = np.zeros((len(branches), n_items, dim), dtype=dtype)
    for b, name in enumerate(branches):
        if name in full.user_branches:
            user_br[b] = _numpy(full.user_branches[name])
        if name in full.item_branches:
            item_br[b] = _numpy(full.item_branches[name])
    if not branches:  # a model without branches: one branch, the whole embedding
        branches = ("total",)
        user_br, item_br = _numpy(full.users)[None], _numpy(full.items)[None]
    cache = CoalitionCache(
        players=players,
        subsets=subsets,
        users=np.stack(users),
        items=np.stack(items),
        branches=branches,
        user_branches=user_br,
        item_branches=item_br,
        train=loaded.dataset.train.tocsr(),
        game=game,
        draws=n_draws,
        seed=seed,
    )
    cache.keep_moments()  # every user's, once: an explanation then scores only its row
    return cache


def coalition_cache(
    loaded: LoadedModel,
    *,
    persist: bool = False,
    game: str = MEAN_GAME,
    draws: int = BACKGROUND_DRAWS,
    seed: int = BACKGROUND_SEED,
) -> CoalitionCache:
    """The coalition cache of ``loaded``'s model for ``game``, built on first use, kept in memory.

    With ``persist`` it is also read from / written to the model's derived store
    (``attribution/``, a pickle-free ``.npz`` keyed by the model fingerprint and the game; the
    workspace when the model directory is read-only), so a new process skips the forward
    passes.
    """
    check_game(game)
    if isinstance(loaded, CoalitionCache):
        return loaded
    key = (game, draws if game == BACKGROUND_GAME else 1, seed if game == BACKGROUND_GAME else 0)
    model = loaded.model
    per_model = _CACHES.setdefault(model, {})
    cache = per_model.get(key)
    store = ModelDir(loaded.model_dir).store() if persist and loaded.model_dir else None
    if cache is not None and store is None:
        return cache
    name = _persisted_name(loaded.fingerprint, key)
    found = store.find(name) if store is not None else None
    complete = True  # whether the stored file holds everything this version stores
    if cache is None and found is not None:
        cache, complete = _read_cache(found, loaded.dataset.train.tocsr())
    if cache is None:
        cache = build_coalition_cache(loaded, game=game, draws=draws, seed=seed)
        found = None
    if store is not None and (found is None or not complete):  # also one built without persist
        with contextlib.suppress(OSError):  # nowhere writable: kept in memory only
            store.write_bytes(name, _encode_cache(cache))
    per_model[key] = cache
    return cache


ATTRIBUTION_DIR = "attribution"
#: Bumped whenever the removal rule changes (2: a removed input's item graph is the mean
#: graph, no longer the identity), so a cache persisted under an older rule is never read.
COALITION_RULE_VERSION = 2
#: The layout of the stored file, in its ``meta`` (a file without one is format 1): 2 adds
#: every user's moments of the standardised game with the train matrix they were taken
#: over. A format-1 file is read and its moments computed (then the file rewritten); a file
#: of a newer format than this code knows is never read: the cache is rebuilt.
CACHE_FORMAT = 2


def train_fingerprint(train: sp.csr_matrix) -> str:
    """A digest of the train matrix's pattern (the items each user bought): the moments
    are taken over each user's unseen items, so they belong to one train matrix."""
    train = train.tocsr()
    digest = hashlib.sha256(np.asarray(train.shape, dtype=np.int64).tobytes())
    digest.update(np.asarray(train.indptr, dtype=np.int64).tobytes())
    digest.update(np.asarray(train.indices, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def _persisted_name(fingerprint: str, key: tuple[str, int, int]) -> str:
    """The store's name of a persisted coalition cache."""
    game, draws, seed = key
    tag = "" if game == MEAN_GAME else f"-background{draws}s{seed}"
    return f"{ATTRIBUTION_DIR}/coalitions-v{COALITION_RULE_VERSION}{tag}-{fingerprint}.npz"


def has_stored_cache(model_dir: str | Path, game: str = MEAN_GAME) -> bool:
    """Whether the model's derived store holds its coalition cache for ``game`` (what
    ``python -m anchorrec prepare`` writes); file checks only, no model is loaded."""
    check_game(game)
    key = (game, BACKGROUND_DRAWS, BACKGROUND_SEED) if game == BACKGROUND_GAME else (game, 1, 0)
    md = ModelDir(model_dir)
    return md.store().find(_persisted_name(md.fingerprint(), key)) is not None


def _encode_cache(cache: CoalitionCache) -> bytes:
    moments = cache.moments or cache.keep_moments()
    meta = {
        "format": CACHE_FORMAT,
        "players": list(cache.players),
        "subsets": [sorted(s) for s in cache.subsets],
        "branches": list(cache.branches),
        "game": cache.game,
        "draws": cache.draws,
        "seed": cache.seed,
        "train": train_fingerprint(cache.train),
    }
    buf = io.BytesIO()
    np.savez(
        buf,
        users=cache.users,
        items=cache.items,
        user_branches=cache.user_branches,
        item_branches=cache.item_branches,
        moment_mean=moments[0],
        moment_std=moments[1],
        meta=np.asarray(json.dumps(meta)),
    )
    return buf.getvalue()


def _read_cache(path: Path, train: sp.csr_matrix) -> tuple[CoalitionCache | None, bool]:
    """The stored cache (None when its format is newer than this code's: rebuild it) and
    whether the file is complete (format-1 files and moments of another train matrix are
    read, their moments computed here, and the file is due to be rewritten)."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"][()]))
        fmt = int(meta.get("format", 1))
        if fmt > CACHE_FORMAT:
            return None, False
        cache = CoalitionCache(
            players=tuple(meta["players"]),
            subsets=[frozenset(s) for s in meta["subsets"]],
            users=z["users"],
            items=z["items"],
            branches=tuple(meta["branches"]),
            user_branches=z["user_branches"],
            item_branches=z["item_branches"],
            train=train,
            game=meta.get("game", MEAN_GAME),
            draws=int(meta.get("draws", 1)),
            seed=int(meta.get("seed", BACKGROUND_SEED)),
        )
        same_train = meta.get("train") == train_fingerprint(train)
        if fmt >= 2 and same_train and {"moment_mean", "moment_std"} <= set(z.files):
            with contextlib.suppress(ConfigError):  # of another shape: computed again below
                cache.keep_moments((z["moment_mean"], z["moment_std"]))
                return cache, True
    cache.keep_moments()
    return cache, False


def as_cache(source: CoalitionCache | LoadedModel) -> CoalitionCache:
    return source if isinstance(source, CoalitionCache) else coalition_cache(source)
