"""Why an item was recommended: exact Shapley attribution to ID, image and text.

One package, one job per module:

- :mod:`~anchorrec.analysis.attribution.game`: the coalition game, :class:`CoalitionCache`
  (the model's embeddings under every coalition of its input players), the ``mean`` and
  ``background`` removal rules;
- :mod:`~anchorrec.analysis.attribution.cache`: building the cache (``2^n`` forward passes),
  keeping it per model and persisting it in the model's derived store;
- :mod:`~anchorrec.analysis.attribution.values`: :class:`Attribution`, the typed result, and
  :func:`attribute`, its one builder;
- :mod:`~anchorrec.analysis.attribution.rank_game`: the rank game, "what ranks it" (each
  input's value of an item's top-k place; needs no held-out purchases);
- :mod:`~anchorrec.analysis.attribution.readings`: the three readings' names in words;
- :mod:`~anchorrec.analysis.attribution.explain`: a shopper's top-k with its attribution,
  the one-sentence reason, what-if re-rankings.

Input level is what a merchandiser means by "because of the image": removing the image
removes every path by which it reaches the score. Branch level splits the score along the
model's additive branches; in AnchorRec every modality branch is gated by the ID embedding,
so the two differ. Both are exact and efficient; both are shown.

Every name is importable from ``anchorrec.analysis.attribution`` itself.
"""

from __future__ import annotations

from anchorrec.analysis.attribution.cache import _CACHES as _CACHES
from anchorrec.analysis.attribution.cache import (
    ATTRIBUTION_DIR,
    CACHE_FORMAT,
    COALITION_RULE_VERSION,
    as_cache,
    build_coalition_cache,
    coalition_cache,
    has_stored_cache,
)
from anchorrec.analysis.attribution.explain import (
    PLAYER_WORDS,
    UserExplanation,
    WhatIf,
    describe_rank,
    describe_recommendation,
    explain_all_items,
    explain_items,
    explain_user,
    whatif,
)
from anchorrec.analysis.attribution.game import (
    BACKGROUND_DRAWS,
    BACKGROUND_GAME,
    BACKGROUND_SEED,
    GAME_QUESTIONS,
    GAMES,
    GRAM_MIN_WIDTH,
    MEAN_GAME,
    CoalitionCache,
    Progress,
    background_draws,
    check_game,
)
from anchorrec.analysis.attribution.game import _zscore as _zscore
from anchorrec.analysis.attribution.rank_game import (
    STANDINGS,
    RankAttribution,
    rank_top_k,
    rank_values,
)
from anchorrec.analysis.attribution.readings import (
    DEFAULT_READING,
    READING_NAMES,
    READINGS,
    reading_maths,
    reading_name,
)
from anchorrec.analysis.attribution.values import (
    PAIR_CHUNK,
    Attribution,
    attribute,
    attribute_top_k,
    top_k_attribution,
    top_k_lists,
)

# ``_CACHES`` and ``_zscore`` stay reachable here for the tests; ``_as_cache`` is the
# name ``as_cache`` had before the split into a package.
_as_cache = as_cache

__all__ = [
    "ATTRIBUTION_DIR",
    "BACKGROUND_DRAWS",
    "BACKGROUND_GAME",
    "BACKGROUND_SEED",
    "CACHE_FORMAT",
    "COALITION_RULE_VERSION",
    "GAMES",
    "GAME_QUESTIONS",
    "GRAM_MIN_WIDTH",
    "MEAN_GAME",
    "PAIR_CHUNK",
    "PLAYER_WORDS",
    "Attribution",
    "DEFAULT_READING",
    "READINGS",
    "READING_NAMES",
    "RankAttribution",
    "STANDINGS",
    "rank_top_k",
    "rank_values",
    "reading_maths",
    "reading_name",
    "CoalitionCache",
    "Progress",
    "UserExplanation",
    "WhatIf",
    "as_cache",
    "attribute",
    "attribute_top_k",
    "background_draws",
    "build_coalition_cache",
    "check_game",
    "coalition_cache",
    "describe_rank",
    "describe_recommendation",
    "explain_all_items",
    "explain_items",
    "explain_user",
    "has_stored_cache",
    "top_k_attribution",
    "top_k_lists",
    "whatif",
]
