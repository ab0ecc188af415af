"""The attribution game: one session-wide choice between the two ways of removing an input.

Every page that shows an attribution (Recommendations' shares, the "Why this
recommendation?" dialog and the what-if, the Audit) and the Positional collapse page's
reliance table draw :func:`game_switch`; the choice lives in one plain session key, so it
holds on every page and a page that does not draw the switch keeps it. What a page shows is
labelled with the game of the *result* it shows (``Attribution.game``, ``AuditResult.game``,
``Reliance.game``), through :func:`game_note`, never with the widget's value, so no number
appears under another game's name.
"""

from __future__ import annotations

import streamlit as st

from anchorrec.analysis.attribution import (
    BACKGROUND_DRAWS,
    BACKGROUND_GAME,
    GAMES,
    MEAN_GAME,
    check_game,
)

#: The session key of the choice (a mailbox: pages use the functions below).
_GAME = "_anchorrec_game"

#: What the switch calls each game.
GAME_LABELS: dict[str, str] = {
    MEAN_GAME: "mean reference",
    BACKGROUND_GAME: "background sample",
}
#: How each game removes an input (a clause: "a removed input …").
GAME_RULES: dict[str, str] = {
    MEAN_GAME: "takes the catalogue mean (mean features, the item graph those induce, mean ID "
    "embeddings)",
    BACKGROUND_GAME: "takes the values of items and shoppers drawn from the catalogue (a seeded "
    f"background sample), the score averaged over {BACKGROUND_DRAWS} draws",
}
#: The question each game's values answer (as docs/explanations.md words it).
GAME_ANSWERS: dict[str, str] = {
    MEAN_GAME: "how this item's score differs from what an average item would get from that input",
    BACKGROUND_GAME: "how it differs from what a typical, randomly picked item would get",
}
GAME_HELP = (
    "How an input is removed when its part of a score is measured. "
    f"**{GAME_LABELS[MEAN_GAME]}**: a removed input {GAME_RULES[MEAN_GAME]}; a value answers "
    f"{GAME_ANSWERS[MEAN_GAME]}. **{GAME_LABELS[BACKGROUND_GAME]}**: a removed input "
    f"{GAME_RULES[BACKGROUND_GAME]}; a value answers {GAME_ANSWERS[BACKGROUND_GAME]}. Both are "
    "exact (baseline + Σφ = score). The background sample runs the model once per draw, so the "
    "first switch to it takes longer. One choice for every page."
)


def current_game() -> str:
    """The game chosen in this session (the mean reference until the user switches)."""
    game = st.session_state.get(_GAME, MEAN_GAME)
    return game if game in GAMES else MEAN_GAME


def set_game(game: str) -> None:
    """Make ``game`` the session's game (every page follows from its next run)."""
    st.session_state[_GAME] = check_game(game)


def game_label(game: str) -> str:
    """``mean reference`` / ``background sample``."""
    return GAME_LABELS.get(game, game)


def game_note(game: str) -> str:
    """The tag shown next to a share: which game the numbers come from."""
    return f"game: {game_label(game)}"


def game_switch(key: str) -> str:
    """Draw the session-wide game switch under the widget key ``key`` (one per page) and
    return the session's game."""
    st.session_state[key] = current_game()  # another page may have switched it
    st.radio(
        "Attribution game",
        GAMES,
        format_func=game_label,
        horizontal=True,
        key=key,
        help=GAME_HELP,
        on_change=lambda: set_game(st.session_state[key]),
    )
    return current_game()
