"""The three readings of one recommendation, named as a merchandiser reads them.

Every number the dialog, the lists and the audit show belongs to one of three games; each is
named in words (:data:`READING_NAMES`), with its maths in :data:`READING_MATHS` (tooltips),
and :data:`INPUT_VERSUS_BRANCH` says once why the readings can disagree.

- ``input`` (:data:`SCORE_SHARE`) — **share of the score**: the score game, each input's
  Shapley value of the score itself, ``|φ|/Σ|φ|``;
- ``rank`` (:data:`WHAT_RANKS_IT`) — **what ranks it**: the rank game
  (:mod:`~anchorrec.analysis.attribution.rank_game`), each input's Shapley value of the item's
  top-``k`` place;
- ``branch`` (:data:`BRANCH`) — **branch of the model**: the closed-form split of the score
  over the model's additive branches.

The default (:data:`DEFAULT_READING`) is the share of the score: the rank game was checked
against the photo sample's planted shopper groups (``bench/research/explanation_games.py``)
and did not pass, so it is offered one click away, not as the default.
"""

from __future__ import annotations

SCORE_SHARE = "input"
WHAT_RANKS_IT = "rank"
BRANCH = "branch"
READINGS: tuple[str, ...] = (SCORE_SHARE, WHAT_RANKS_IT, BRANCH)
DEFAULT_READING = SCORE_SHARE

READING_NAMES: dict[str, str] = {
    SCORE_SHARE: "share of the score",
    WHAT_RANKS_IT: "what ranks it",
    BRANCH: "branch of the model",
}
#: The question each reading answers (``{k}``: the list's length).
READING_QUESTIONS: dict[str, str] = {
    SCORE_SHARE: "how much of the item's score each input supplies",
    WHAT_RANKS_IT: "which inputs put the item in this shopper's top-{k}",
    BRANCH: "how the score splits over the model's own branches",
}
#: The maths, for tooltips.
READING_MATHS: dict[str, str] = {
    SCORE_SHARE: "Exact Shapley values φ of the score game: v(S) = the score with only the "
    "inputs in S (the others removed by the chosen rule); baseline v(∅) + Σφ = score. "
    "Share = |φ| / Σ|φ|.",
    WHAT_RANKS_IT: "Exact Shapley values of the rank game: v(S) = 1 when the item is in the "
    "shopper's top-{k} with only the inputs in S, 0 when not (tied places shared); "
    "v(∅) + Σφ = 1 for a recommended item. Needs no held-out purchases.",
    BRANCH: "Closed-form Shapley values of the branch game: with h_u = Σ_a u_a, h_i = Σ_b i_b, "
    "φ_m = u_m·i_m + ½ Σ_{k≠m} (u_m·i_k + u_k·i_m); Σφ = score.",
}
#: Said once, in the dialog, where the readings meet.
INPUT_VERSUS_BRANCH = (
    "Why the readings differ: an *input* (purchase history, picture, text) reaches the score "
    "through several *branches*, and in this model every content branch is gated by the "
    "purchase-history (ID) embedding. Removing the ID input therefore empties the content "
    "branches too, so the history takes most of the *share of the score*, while the *branch "
    "of the model* split gives the content branches their own part. *What ranks it* asks a "
    "third question: an input can carry much of every candidate's score and still move none "
    "of them past another, so a large share of the score need not be what ranks the item."
)


def reading_name(reading: str) -> str:
    return READING_NAMES.get(reading, reading)


def reading_question(reading: str, k: int = 10) -> str:
    return READING_QUESTIONS.get(reading, reading).format(k=k)


def reading_maths(reading: str, k: int = 10) -> str:
    return READING_MATHS.get(reading, reading).replace("{k}", str(k))
