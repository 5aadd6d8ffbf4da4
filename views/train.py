"""Train: pick data, network, starting weights and budget; start a run; watch it learn; inspect the result.

The run executes in its own process (core.runs.launcher), so refreshing the page or restarting the app loses
nothing: the page just reads the run folder again (run id in the URL, else this browser's newest active run).
Anyone may watch any run (a ?run= link); only its owner or the instructor gets Cancel and Resume.
This file draws the settings form; views/_train_state.py holds what the widgets mean (session state <->
TrainConfig, the run in the URL, starting a run) and views/_train_live.py the live view of a run.
"""
from __future__ import annotations

import streamlit as st

from core.augment import PRESET_DESCRIPTIONS
from core.augment.export import describe_spec
from core.budget import memory_guard
from core.data import DATASETS
from core.data.options import dataset_params
from core.data.roots import check_config  # a typed server folder only inside the allowed data roots
from core.errors import PAGE_ERRORS
from core.models import ARCHITECTURES, weights_status
from core.runs import results, store
from core.train.config import MODES, PRESETS, TrainConfig, field_help
from core.train.estimate import estimate_duration, split_sizes
from core.train.params import preset_description
from views import _train_state as state
from views._identity import ensure_identity, identity_sidebar
from views._params import param_widget
from views._train_live import live_view
from views._widgets import show_error

HELP = field_help()
WEIGHT_CHOICES = {"none": "Random (from scratch)", "pretrained": "ImageNet pretrained", "checkpoint": "A previous run"}
# The advanced settings, one column each; every field of state.PARAMS is drawn once on this page (a test checks).
ADVANCED = (("weight_decay", "momentum", "log_every", "seed"),
            ("warmup_fraction", "warmup_steps", "min_lr_fraction", "checkpoint_every_s"),
            ("label_smoothing", "val_fraction", "dropout", "stochastic_depth"),
            ("device", "amp", "num_workers"))

st.title("Train a network")
st.markdown(
    "Training = showing the network labelled images, measuring how wrong it is (the **loss**) and nudging every "
    "weight downhill (**gradient descent**). Start from random weights (*from scratch*) or from ImageNet "
    "weights (*transfer learning*: freeze everything but the last layer for a **linear probe**, or let some or "
    "all layers adapt). Watch the validation curve: when it stops following the training curve, the network "
    "starts memorising instead of learning."
)
ss = st.session_state  # read only: the widgets' values; _train_state writes them
viewer = ensure_identity()
identity_sidebar(viewer)
state.init()


# ------------------------------------------------------------------ the settings form
@st.cache_data(max_entries=32, ttl=60, show_spinner=False)  # a folder may be re-imported
def _split_sizes(cfg_json: str) -> tuple[int | None, int, int]:
    return split_sizes(TrainConfig.from_json(cfg_json))


def _field(name: str) -> None:
    param_widget(state.PARAMS[name], f"train_{name}")


def _settings() -> None:
    st.selectbox("Preset", list(PRESETS), key="train_preset", format_func=lambda k: PRESETS[k].title,
                 on_change=state.on_preset, help="fills in every setting below; change any of them afterwards")
    st.caption(preset_description(ss["train_preset"]))
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown("**Data**")
        _field("dataset")
        spec = DATASETS[ss["train_dataset"]]
        for param in dataset_params(spec):
            param_widget(param, f"train_opt_{spec.name}_{param.name}")
        _field("image_size")
        st.selectbox("Augmentation", list(state.AUG_CHOICES), key="train_augmentation",
                     format_func=state.AUG_CHOICES.get,
                     help=HELP["augmentation"] + ". The lab's pipeline is what its preview shows: what you preview "
                     "is what trains.")
        choice = ss["train_augmentation"]
        if choice == state.AUG_FILE:
            st.file_uploader("Pipeline JSON", type=["json"], key="train_aug_file",
                             help="the JSON from the Augmentation lab's Export tab (checked before the run starts)")
        if choice in (state.AUG_LAB, state.AUG_FILE):
            try:
                st.caption("Pipeline: " + describe_spec(state.augmentation()))
            except PAGE_ERRORS:
                pass  # the reason is shown once, under the settings
        else:
            st.caption(PRESET_DESCRIPTIONS.get(choice, ""))
    with c2:
        st.markdown("**Network**")
        _field("arch")
        arch = ARCHITECTURES[ss["train_arch"]]
        st.caption(arch.idea)
        st.radio("Starting weights", list(WEIGHT_CHOICES), key="train_weights", format_func=WEIGHT_CHOICES.get,
                 help=HELP["weights"])
        if ss["train_weights"] == "pretrained":
            status = weights_status(arch.name)
            note = {"cached": "ImageNet weights are on disk.",
                    "downloadable": "ImageNet weights will be downloaded once when the run starts.",
                    "unavailable": "This architecture has no pretrained weights."}[status]
            (st.warning if status == "unavailable" else st.caption)(note)
        elif ss["train_weights"] == "checkpoint":
            done = [r for r in store.list_runs() if r["arch"] == arch.name and r["has_checkpoint"]]
            if done:
                st.selectbox("Run", [r["path"] for r in done], key="train_weights_run",
                             format_func=lambda p: p.rsplit("/", 1)[-1])
            else:
                st.info(f"No earlier {arch.title} run with a checkpoint yet.")
        _field("mode")
        st.caption(MODES[ss["train_mode"]])
        if ss["train_mode"] == "finetune_last_k":
            _field("finetune_k")
    with c3:
        st.markdown("**Budget and optimiser**")
        for name in ("epochs", "max_steps", "batch_size", "optimizer", "lr"):
            _field(name)
    with st.expander("Advanced settings"):
        columns = st.columns(4)
        for i, names in enumerate(ADVANCED):
            with columns[i]:
                for name in names:
                    _field(name)

    try:
        cfg = check_config(state.config_from_widgets().validate())
    except PAGE_ERRORS as err:
        show_error(err)
        cfg = None
    sizes = _split_sizes(cfg.to_json()) if cfg is not None and DATASETS[cfg.dataset].offline else (None,)
    if sizes[0] is not None:  # known without a download (else unknown: no warning)
        for warning in results.size_warnings(*sizes):
            st.warning(warning, icon=":material/warning:")
    b = st.columns([1, 1, 3])
    if b[1].button("Estimate duration", key="train_estimate", disabled=cfg is None,
                   help="times a few real training steps on this machine and scales them to the whole run"):
        try:
            with st.spinner("Timing a few training steps…"), memory_guard("timing training steps"):
                est = estimate_duration(cfg)
            state.remember_estimate(cfg, est)
        except PAGE_ERRORS as err:
            show_error(err)
    est = state.estimate_for(cfg)
    if est is not None:
        b[2].info(f"≈ **{results.format_seconds(est.seconds)}** on this machine, start to finish ({est.method}). "
                  "Another program using the processor at the same time makes it slower; downloads are not "
                  "included.")
    if b[0].button("Start training", key="train_start", type="primary", disabled=cfg is None):
        try:
            with st.spinner("Checking the starting weights…" if cfg.weights == "pretrained" else "Starting…"):
                state.start(cfg, viewer)
            st.rerun()
        except PAGE_ERRORS as err:
            show_error(err)


current = state.current_run(viewer)
if current is not None:
    live_view(current, viewer)
    busy = results.load_view(current).active
    with st.expander("Start another run" + (" (it will wait in the queue)" if busy else ""), expanded=not busy):
        _settings()
else:
    _settings()
