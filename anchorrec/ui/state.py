"""The state every page shares: dataset, variants, the selected user and item, and the URL.

:func:`sidebar` draws the shared sidebar and returns an :class:`AppState`; every page calls
it first (directly or through :func:`require_dataset`), so the sidebar is the same on every page
and a page also runs on its own (as ``AppTest.switch_page`` runs it). The selected user and item are kept in
plain session keys (``sel_user`` / ``sel_item``) so any page may change them at any point of a
run (:func:`select_item`); the sidebar's number inputs follow them on the next run. The
shareable part — dataset, models, user, item — is mirrored in ``st.query_params``
(``?dataset=…&model=anchor,lightgcn&user=…&item=…``; the older ``?variant=`` still opens).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from anchorrec import workspace as ws
from anchorrec.data.dataset import Dataset
from anchorrec.data.ids import whole_number
from anchorrec.ui import cached
from anchorrec.ui.errors import USER_ERRORS, show_error
from anchorrec.ui.text import md, plain

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

OTHER = "Another directory…"
STATE_KEY = "_anchorrec_state"
SEL_USER, SEL_ITEM, SEL_DATASET = "sel_user", "sel_item", "sel_dataset"
# Mailboxes: one page (or a callback) leaves a value that a later run reads. Pages use the
# functions below, never these keys.
_REFERENCE = "_anchorrec_reference"
_GOTO_DATASET = "_goto_dataset"
_ADD_VARIANT = "_add_variant"
#: The URL's key for the models shown (directory names), and its older spelling, still read.
MODEL_PARAM, OLD_MODEL_PARAM = "model", "variant"
#: Variants shown side by side by default, the first two of these a dataset has.
DEFAULT_VARIANTS: tuple[str, ...] = ("anchor", "direct", "none", "lightgcn")


@dataclass
class AppState:
    """What the sidebar selected for this run."""

    dataset_dir: Path | None = None
    dataset: Dataset | None = None
    models: list[ws.ModelEntry] = field(default_factory=list)
    selected: list[ws.ModelEntry] = field(default_factory=list)
    user: int = 0
    item: int = 0

    def loaded(self, entry: ws.ModelEntry) -> LoadedModel:
        """The ``LoadedModel`` of ``entry`` on the current dataset (cached)."""
        assert self.dataset is not None
        return cached.load_model(entry.path, self.dataset)


def current() -> AppState:
    """The state the sidebar built in this run."""
    return st.session_state.get(STATE_KEY) or AppState()


def require_dataset() -> AppState:
    """Draw the sidebar; stop the page with a hint when no dataset could be opened."""
    state = sidebar()
    if state.dataset is None:
        st.info("Open a dataset in the sidebar (or import one on the Data page) to see this page.")
        st.stop()
    return state


def require_models(state: AppState) -> list[ws.ModelEntry]:
    """The selected models, or stop with a hint to train one."""
    if not state.selected:
        if state.models:
            st.info("Pick one or more models in the sidebar.")
        else:
            st.info("This dataset has no trained model yet: train one on the Train page.")
        st.stop()
    return state.selected


def select_item(item: int) -> None:
    """Make ``item`` the current item (the sidebar shows it from the next run)."""
    st.session_state[SEL_ITEM] = int(item)


def select_user(user: int) -> None:
    """Make ``user`` the current shopper (the sidebar shows it from the next run)."""
    st.session_state[SEL_USER] = int(user)


def selected_item(default: int = 0) -> int:
    """The current item as of now (a chart selection earlier in this run may have changed it)."""
    return int(st.session_state.get(SEL_ITEM, default))


def reference_label() -> str | None:
    """The label of the model variants are compared against (chosen on the Overview)."""
    return st.session_state.get(_REFERENCE)


def remember_reference(label: str) -> None:
    """Keep the Overview's reference outside its widget key (forgotten on other pages); the
    Audit page's HTML export compares with the same reference."""
    st.session_state[_REFERENCE] = label


def open_dataset_next_run(path: str | Path) -> None:
    """Make the sidebar open the dataset at ``path`` on the next run."""
    st.session_state[_GOTO_DATASET] = str(path)


def add_variant_next_run(name: str) -> None:
    """Add the model directory ``name`` to the compared variants on the first run where it
    exists (a background run's model joins the toggle once saved)."""
    pending = list(st.session_state.get(_ADD_VARIANT) or [])
    st.session_state[_ADD_VARIANT] = [*pending, name] if name not in pending else pending


# ------------------------------------------------------------------------------ URL state
def _read_query_params() -> None:
    """Seed the session from the URL once per session (a shared link opens the same view)."""
    if st.session_state.get("_qp_read"):
        return
    st.session_state["_qp_read"] = True
    qp = st.query_params
    if "dataset" in qp:
        st.session_state["_qp_dataset"] = qp["dataset"]
    # ?model= names model directories; ?variant= is the older spelling of the same links
    raw = qp.get(MODEL_PARAM, qp.get(OLD_MODEL_PARAM))
    if raw is not None:
        st.session_state["_qp_variants"] = [v for v in raw.split(",") if v]
    for key, target in (("user", SEL_USER), ("item", SEL_ITEM)):
        if key in qp:
            try:
                number = whole_number(
                    qp[key], signed=True
                )  # ASCII digits only: not 0_1, not "3\u2028"
                st.session_state[target] = st.session_state[f"_qp_link_{key}"] = number
            except ValueError:
                st.session_state[f"_qp_bad_{key}"] = qp[key]


def _write_query_params(state: AppState) -> None:
    if OLD_MODEL_PARAM in st.query_params:  # an old link: from now on it says ?model=
        del st.query_params[OLD_MODEL_PARAM]
    wanted = {
        "dataset": str(state.dataset_dir) if state.dataset_dir else "",
        MODEL_PARAM: ",".join(e.name for e in state.selected),
        "user": str(state.user),
        "item": str(state.item),
    }
    wanted = {k: v for k, v in wanted.items() if v}
    if {k: st.query_params.get(k) for k in wanted} != wanted:
        st.query_params.update(wanted)


# ------------------------------------------------------------------------------ sidebar
def _dataset_label(path: str) -> str:
    if path == OTHER:
        return OTHER
    p = Path(path)
    if p == ws.SAMPLE_DATASET_DIR.resolve():
        return f"{p.name} (bundled sample)"
    return f"{p.name} — {p.parent}"


def _resolved(raw: str) -> str:
    if len(raw) > ws.MAX_PATH_CHARS:
        return raw
    try:
        return str(Path(raw).expanduser().resolve())
    except (OSError, RuntimeError, ValueError):  # a NUL byte, a link loop, too long a name
        return raw


def _choose_dataset() -> Path | None:
    """The dataset selector: known datasets, or any directory typed in.

    The choice lives in the plain key ``sel_dataset`` (the raw path); the widgets are set from it
    before they are drawn and write back through their callbacks, so the choice survives page
    switches (where Streamlit may drop widget state).
    """
    known = [str(p) for p in ws.registered_datasets()]
    options = [*known, OTHER]
    wanted = st.session_state.pop("_qp_dataset", None) or st.session_state.pop(_GOTO_DATASET, None)
    if wanted is not None:
        st.session_state[SEL_DATASET] = wanted
    raw = st.session_state.get(SEL_DATASET)
    if raw is None:
        raw = known[0] if known else ""
        st.session_state[SEL_DATASET] = raw
    choice = _resolved(raw) if raw and _resolved(raw) in known else OTHER
    st.session_state["dataset_choice"] = choice
    if choice == OTHER:
        st.session_state["dataset_path"] = raw

    def _on_choice() -> None:
        picked = st.session_state["dataset_choice"]
        st.session_state[SEL_DATASET] = "" if picked == OTHER else picked

    def _on_path() -> None:
        st.session_state[SEL_DATASET] = st.session_state["dataset_path"]

    st.sidebar.selectbox(
        "Dataset", options, format_func=_dataset_label, key="dataset_choice", on_change=_on_choice
    )
    if choice == OTHER:
        st.sidebar.text_input(
            "Dataset directory",
            key="dataset_path",
            on_change=_on_path,
            placeholder="/path/to/an/mmrec/dataset",
            help="A folder holding <name>.inter and image_feat.npy / text_feat.npy "
            "(MMRec format), optionally items.csv and users.csv.",
        )
        if not raw:
            if not known:
                st.sidebar.warning(
                    md(
                        "The bundled sample is missing ({}); type the path of a dataset, or "
                        "import one on the Data page.",
                        ws.SAMPLE_DATASET_DIR,
                    )
                )
            else:
                st.sidebar.info("Type the path of an MMRec dataset directory.")
            return None
    try:
        return ws.check_dataset_dir(raw)
    except USER_ERRORS as exc:
        with st.sidebar:
            show_error(exc, "Dataset")
        return None


def _choose_variants(models: list[ws.ModelEntry], fingerprint: str) -> list[ws.ModelEntry]:
    usable = [e for e in models if e.usable]
    broken = [e for e in models if not e.usable]
    broken_names = {e.name for e in broken}
    if broken:
        with st.sidebar.expander(f"{len(broken)} model folder(s) cannot be used", expanded=False):
            for e in broken:
                st.error(plain(f"{e.name}: {e.error}", limit=2000))
    if not usable:
        st.sidebar.caption("No trained model yet — train one on the Train page.")
        return []
    names = [e.name for e in usable]
    key, canonical = f"variants_{fingerprint}", f"_variants_{fingerprint}"
    wanted = st.session_state.pop("_qp_variants", None)
    pending = [n for n in st.session_state.get(_ADD_VARIANT) or [] if n not in broken_names]
    joined = [n for n in pending if n in names]
    chosen = st.session_state.get(canonical)
    if joined:  # a model trained in the app joins the comparison once it is saved
        st.session_state[_ADD_VARIANT] = [n for n in pending if n not in names]
        chosen = [*(chosen or []), *joined]
    elif wanted is not None:
        chosen = [v for v in wanted if v in names] or names[:1]
        unknown = [v for v in wanted if v not in names]
        if unknown:  # a link from another machine or an older workspace: say so
            st.sidebar.warning(  # the link's values are escaped: never a link or an image
                md(
                    "The link names {}, which this dataset has no usable model of; showing {}.",
                    ", ".join(repr(v) for v in unknown),
                    ", ".join(chosen),
                )
            )
    elif chosen is None:
        chosen = [v for v in DEFAULT_VARIANTS if v in names][:2] or names[:1]
    chosen = [v for v in dict.fromkeys(chosen) if v in names]  # a model may have disappeared
    st.session_state[canonical] = chosen
    st.session_state[key] = chosen

    def _on_change() -> None:
        st.session_state[canonical] = list(st.session_state[key])

    label = {e.name: e.label for e in usable}
    st.sidebar.multiselect(
        "Models",
        names,
        key=key,
        on_change=_on_change,
        format_func=lambda n: label.get(n, n),
        help="Pick several to compare them side by side: anchor (AnchorRec), direct "
        "(AlignRec-style), none (no alignment), ablations and ID-only baselines.",
    )
    by_name = {e.name: e for e in usable}
    return [by_name[n] for n in chosen]


def _number(label: str, canonical: str, upper: int, fingerprint: str, help_: str) -> int:
    key = f"{canonical}_input_{fingerprint}"
    value = int(st.session_state.get(canonical, 0))
    value = min(max(value, 0), upper)
    st.session_state[canonical] = value
    if st.session_state.get(key) != value:
        st.session_state[key] = value

    def _sync() -> None:
        st.session_state[canonical] = int(st.session_state[key])

    return int(
        st.sidebar.number_input(
            label, min_value=0, max_value=upper, step=1, key=key, on_change=_sync, help=help_
        )
    )


def _leave_pages_directory_mode() -> None:
    """Make a deep link on a fresh server go through ``app.py``'s router.

    Because the page scripts live in ``pages/``, Streamlit starts in its legacy multipage mode:
    until ``st.navigation`` has run once in the server, a link such as ``/spaces?item=42``
    runs ``pages/spaces.py`` alone (no router, no page config). Leaving that mode and rerunning
    runs ``app.py``, which routes to the same page with the same URL. Only a session's first
    run is rerun (a later run may carry a button click that a rerun would drop).

    Why a private attribute: no public API serves. Streamlit decides the mode once per process
    from the mere existence of ``pages/`` beside the main script
    (``PagesManager.uses_pages_directory``); there is no config option or function to turn it
    off, and only a run of ``st.navigation`` clears it, which a deep link on a fresh server
    never reaches. Renaming ``pages/`` would avoid it, but the folder is part of the product's
    agreed layout. tests/app/test_streamlit_internals.py fails when Streamlit renames the
    attribute or stops consulting it, and tests/app/test_browser_newcomer.py opens a deep link
    on a fresh server.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if "_qp_read" not in st.session_state:  # a session's first run: nothing to lose
            st.rerun()


def sidebar() -> AppState:
    """Draw the shared sidebar and store the resulting :class:`AppState` for the pages."""
    _leave_pages_directory_mode()
    _read_query_params()
    state = AppState()
    st.session_state[STATE_KEY] = state
    st.sidebar.markdown("### AnchorRec Studio")
    directory = _choose_dataset()
    if directory is None:
        return state
    try:
        ds = cached.load_dataset(directory)
    except USER_ERRORS as exc:
        with st.sidebar:
            show_error(exc, "Dataset")
        return state
    state.dataset_dir, state.dataset = directory, ds
    st.sidebar.caption(
        f"{ds.n_users:,} users · {ds.n_items:,} items · {ds.n_interactions:,} interactions"
    )
    state.models = ws.find_models(directory, ds.fingerprint)
    state.selected = _choose_variants(state.models, ds.fingerprint)
    _background_runs(ds.fingerprint, {e.name for e in state.models})
    for key, upper in (("user", ds.n_users - 1), ("item", ds.n_items - 1)):
        bad = st.session_state.pop(f"_qp_bad_{key}", None)
        if bad is not None:
            st.sidebar.error(md("The link's {}={!r} is not a number; showing {} 0.", key, bad, key))
        linked = st.session_state.pop(f"_qp_link_{key}", None)
        if linked is not None and not 0 <= linked <= upper:
            st.sidebar.warning(
                md(
                    "The link's {}={} is out of range (0 to {}); showing {} {}.",
                    key,
                    linked,
                    upper,
                    key,
                    min(max(linked, 0), upper),
                )
            )
    state.user = _number(
        "User", SEL_USER, ds.n_users - 1, ds.fingerprint, f"User id, 0 to {ds.n_users - 1}."
    )
    state.item = _number(
        "Item", SEL_ITEM, ds.n_items - 1, ds.fingerprint, f"Item id, 0 to {ds.n_items - 1}."
    )
    from anchorrec.ui.finder import show_finder

    show_finder(ds, state.user, state.item, select_user, select_item)
    _write_query_params(state)
    return state


# ------------------------------------------------------------------------------ background runs
RUN_REFRESH_S = 2.0


def _background_runs(fingerprint: str, known: set[str]) -> None:
    """On every page, the progress of the runs this session started that are not saved yet;
    the page reruns when one is saved, so its model joins the toggle wherever the user is."""
    pending = [n for n in st.session_state.get(_ADD_VARIANT) or [] if n not in known]
    if pending:
        with st.sidebar:
            _run_status(str(ws.workspace_models_dir(fingerprint)), tuple(pending))


@st.fragment(run_every=RUN_REFRESH_S)
def _run_status(models_dir: str, pending: tuple[str, ...]) -> None:
    from anchorrec.training.jobs import find_jobs
    from anchorrec.ui.tables import epoch_text

    runs = {j.name: j for j in find_jobs(models_dir)}
    for name in pending:
        job = runs.get(name)
        if job is None:
            continue
        status = job.status()
        if status == "done":
            st.rerun(scope="app")
        records = job.records()
        if status == "running":
            st.caption(
                md("Training **{}**: {}", name, epoch_text(records[-1]) if records else "starting…")
            )
        else:
            st.caption(
                md(
                    "Training **{}** {}: see the Train page.",
                    name,
                    "stopped" if status == "interrupted" else "failed",
                )
            )


# ------------------------------------------------------------------------------ chart selections
def consume_panel_selection(key: str, group: str) -> list[int]:
    """The shared selection of the linked panels (:mod:`anchorrec.ui.linked_panels`), after
    taking their new selection: a new gesture sets it (an empty one clears it) and makes its
    first item the current one."""
    from anchorrec.ui.linked_panels import selection_items

    taken = selection_items(st.session_state.get(key))
    if taken is not None:
        ids, sig = taken
        if st.session_state.get(f"_sig_{key}") != sig:
            st.session_state[f"_sig_{key}"] = sig
            st.session_state[f"_sel_{group}"] = ids
            if ids:
                select_item(ids[0])
    return list(st.session_state.get(f"_sel_{group}", []))
