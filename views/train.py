"""Train: pick data, network, starting weights and budget; start a run; watch it learn; inspect the result.

The run executes in its own process (core.runs.launcher), so refreshing the page or restarting the app loses
nothing: the page just reads the run folder again (run id in the URL, else this browser's newest active run).
Anyone may watch any run (a ?run= link); only its owner or the instructor gets Cancel and Resume.
"""
from __future__ import annotations

import json
import time

import streamlit as st

from core.augment import PRESET_DESCRIPTIONS, REGISTRY, from_json, to_json
from core.augment import PRESETS as AUG_PRESETS
from core.data import DATASETS
from core.budget import memory_guard
from core.errors import PAGE_ERRORS, InputError, PlaygroundError
from core.models import ARCHITECTURES, weights_status
from core.data.options import dataset_params
from core.train.params import MODE_TITLES, train_params
from core.runs import launcher, results, store
from core.train.config import DEFAULT_PRESET, MODES, PRESETS, TrainConfig, field_help
from views._identity import ensure_identity, identity_sidebar
from views._params import param_widget
from views._results import render_results
from views._widgets import run_from_url, show_error

HELP = field_help()
WEIGHT_CHOICES = {"none": "Random (from scratch)", "pretrained": "ImageNet pretrained", "checkpoint": "A previous run"}
# Besides the six presets, the Augmentation lab's current pipeline (its page keeps the validated JSON in session
# state under LAB_SPEC_KEY) or a pipeline JSON file (the lab's Export tab writes one). Colons: no preset has one.
AUG_LAB, AUG_FILE = ":lab", ":file"
AUG_CHOICES = {**{k: k for k in AUG_PRESETS}, AUG_LAB: "the Augmentation lab's pipeline",
               AUG_FILE: "a pipeline JSON file"}
LAB_SPEC_KEY = "aug_spec_json"
CURVES_EVERY_S = 6  # seconds between two redraws of the live curves (the progress bar: every 2 s)
# One widget per TrainConfig field, drawn from its description (core.params), key "train_<field>"; the weights,
# the augmentation and the data set's options (key "train_opt_<data set>_<option>") have their own code below.
PARAMS = train_params()

st.title("Train a network")
st.markdown(
    "Training = showing the network labelled images, measuring how wrong it is (the **loss**) and nudging every "
    "weight downhill (**gradient descent**). Start from random weights (*from scratch*) or from ImageNet "
    "weights (*transfer learning*: freeze everything but the last layer for a **linear probe**, or let some or "
    "all layers adapt). Watch the validation curve: when it stops following the training curve, the network "
    "starts memorising instead of learning."
)
ss = st.session_state
viewer = ensure_identity()
identity_sidebar(viewer)


# ------------------------------------------------------------------ settings <-> widgets (one widget per field)
def _apply(cfg: TrainConfig) -> None:
    """Put ``cfg`` into the widgets' session state (a preset was chosen)."""
    for name, param in PARAMS.items():
        ss[f"train_{name}"] = param.to_widget(getattr(cfg, name))
    aug = cfg.augmentation if isinstance(cfg.augmentation, str) else "none"
    ss["train_augmentation"] = aug
    if cfg.weights in ("none", "pretrained"):
        ss["train_weights"] = cfg.weights
    else:
        ss["train_weights"], ss["train_weights_run"] = "checkpoint", cfg.weights
    for param in dataset_params(DATASETS[cfg.dataset]):
        ss[f"train_opt_{cfg.dataset}_{param.name}"] = param.to_widget(cfg.dataset_options.get(param.name,
                                                                                              param.default))


def _on_preset() -> None:
    _apply(TrainConfig.from_preset(ss["train_preset"]))


def _config_from_widgets() -> TrainConfig:
    # Streamlit forgets the state of a widget that was not drawn in the last run (e.g. k when hidden): its default
    values = {name: p.from_widget(ss[f"train_{name}"]) if f"train_{name}" in ss else p.default
              for name, p in PARAMS.items()}
    spec = DATASETS[values["dataset"]]
    options = {p.name: p.from_widget(ss[key]) if (key := f"train_opt_{spec.name}_{p.name}") in ss else p.default
               for p in dataset_params(spec)}
    weights = ss.get("train_weights", "none")
    if weights == "checkpoint":
        weights = ss.get("train_weights_run") or "none"
    return TrainConfig(**values, dataset_options=options, weights=weights, augmentation=_augmentation())


def _augmentation() -> str | dict:
    """The chosen augmentation: a preset name, or a pipeline spec dict (plain JSON values) from the lab or a file.
    Raises InputError (shown under the settings) while the chosen source has no valid pipeline."""
    choice = ss.get("train_augmentation", "none")
    if choice == AUG_LAB:
        text = ss.get(LAB_SPEC_KEY)
        if not text:
            raise InputError("the Augmentation lab has no pipeline yet in this browser session: build one there "
                             "(Augmentation lab → Pipeline), or choose a preset or a JSON file")
        return json.loads(to_json(from_json(text)))
    if choice == AUG_FILE:
        upload = ss.get("train_aug_file")
        if upload is None:
            raise InputError("choose a pipeline JSON file (the Augmentation lab's Export tab writes one)")
        try:
            return json.loads(to_json(from_json(upload.getvalue())))
        except PlaygroundError as err:
            raise InputError(f"{upload.name}: {err}") from None
    return choice


def _describe_pipeline(spec: dict) -> str:
    steps = [f"{REGISTRY[s['name']].title}" + (f" (p {s['p']:g})" if s.get("p", 1) < 1 else "") for s in spec["steps"]]
    mix = spec.get("mixing")
    text = " → ".join(steps) if steps else "no image steps"
    return text + (f"; then {REGISTRY[mix['name']].title} on each batch (p {mix['p']:g})" if mix else "")


if "train_arch" not in ss:
    ss["train_preset"] = DEFAULT_PRESET
    _apply(TrainConfig.from_preset(DEFAULT_PRESET))


# ------------------------------------------------------------------ which run to show
def _current_run():
    """The run in the URL (?run=ID), else this browser's newest active run: the page reattaches after a refresh,
    never to another student's run."""
    path = run_from_url("run")
    if path is not None:
        return path
    latest = store.latest_active_run(owner=viewer.owner)
    if latest is not None:
        st.query_params["run"] = latest.name
    return latest


def _describe_run(cfg: dict) -> str:
    """The live view's one line in words: "LeNet-5 · Shapes · From scratch · 15 epochs · batch 64 · 64 px"."""
    arch, ds = ARCHITECTURES.get(cfg.get("arch")), DATASETS.get(cfg.get("dataset"))
    weights = cfg.get("weights")
    start = {"none": "random weights", "pretrained": "pretrained (ImageNet)"}.get(
        weights, f"weights of run {str(weights).rstrip('/').rsplit('/', 1)[-1]}")
    how = MODE_TITLES.get(cfg.get("mode"), str(cfg.get("mode")))
    how = how if cfg.get("mode") == "scratch" else f"{how} from {start}"  # "From scratch" says it all
    budget = f"{cfg.get('epochs')} epoch{'s' if cfg.get('epochs') != 1 else ''}"
    if cfg.get("max_steps"):
        budget += f", at most {cfg['max_steps']:,} steps"
    return " · ".join([arch.title if arch else str(cfg.get("arch")), ds.title if ds else str(cfg.get("dataset")),
                       how, budget,
                       f"batch {cfg.get('batch_size')}", f"{cfg.get('image_size')} px"])


def _start(cfg: TrainConfig) -> None:
    # a double click sends two clicks: one run per request, the second within 3 s with equal settings is ignored
    last = ss.get("train_last_start")
    if last and last[0] == cfg.to_json() and time.time() - last[1] < 3:
        return
    run_dir = launcher.start(cfg, owner=viewer.owner)  # the run records this browser as its owner
    ss["train_last_start"] = (cfg.to_json(), time.time())
    st.query_params["run"] = run_dir.name


# ------------------------------------------------------------------ live view of a run
def _live(run_dir) -> None:
    view = results.load_view(run_dir)
    active = view.active

    @st.fragment(run_every=2 if active else None)
    def live() -> None:
        v = results.load_view(run_dir)
        state = v.status.get("state")
        icon = {"running": ":material/directions_run:", "queued": ":material/hourglass_top:",
                "completed": ":material/check_circle:", "cancelled": ":material/stop_circle:",
                "failed": ":material/error:", "interrupted": ":material/warning:"}.get(state, "")
        st.subheader(f"{icon} Run `{run_dir.name}` — {state}")
        st.caption(_describe_run(v.config))
        # the worker's messages repeat typed folder paths and file names: shown as plain text, never as Markdown
        message = v.status.get("message")
        if state == "failed":
            st.error("The run failed:" if message else "The run failed.", icon=":material/error:")
            if message:
                st.text(message)
        elif state == "interrupted":
            st.warning(results.plain_markdown(message or "the worker stopped"), icon=":material/warning:")
        elif message and state in store.ACTIVE_STATES and not v.train:
            st.info(results.plain_markdown(message))
        if state in store.ACTIVE_STATES:  # once finished, the results section shows them
            for warning in results.split_warnings(v):
                st.warning(warning, icon=":material/warning:")
        prog = v.progress()
        st.progress(prog["fraction"], text=prog["text"])
        cols = st.columns([1, 1, 4])
        if not viewer.may_act(v.status.get("owner")):
            st.caption("You are watching a run started by " + ("another browser" if v.status.get("owner") else
                       "nobody (an older run, or the command line)") + ": only the browser that started it, or the "
                       "instructor, can cancel or resume it.")
        elif state in store.ACTIVE_STATES:
            if cols[0].button("Cancel", key="train_cancel", help="stops within seconds and saves a checkpoint"):
                launcher.cancel(run_dir)
                st.toast("Stop requested: the run saves a checkpoint and stops.")
        elif store.can_resume(v.status):
            if cols[0].button("Resume", key="train_resume", help="continue from the last checkpoint"):
                try:
                    launcher.resume(run_dir)
                    st.rerun()
                except PlaygroundError as err:
                    show_error(err)
        if active and state not in store.ACTIVE_STATES:
            st.rerun()  # the run just ended: redraw the whole page (curves, results, no more polling)

    # The curves poll less often than the progress bar: redrawing three Plotly charts costs the browser and
    # the server CPU time that, on a 2-core machine, the training run would otherwise get.
    @st.fragment(run_every=CURVES_EVERY_S if active else None)
    def curves() -> None:
        v = results.load_view(run_dir)
        if v.train:
            c1, c2, c3 = st.columns(3)
            c1.plotly_chart(results.curves_figure(v, "loss"), config=results.PLOTLY_CONFIG, key="train_fig_loss")
            c2.plotly_chart(results.curves_figure(v, "acc"), config=results.PLOTLY_CONFIG, key="train_fig_acc")
            c3.plotly_chart(results.curves_figure(v, "lr"), config=results.PLOTLY_CONFIG, key="train_fig_lr")

    live()
    curves()
    if not active:
        render_results(view, "train")


# ------------------------------------------------------------------ the settings form
@st.cache_data(max_entries=32, ttl=60, show_spinner=False)  # a folder may be re-imported
def _split_sizes(cfg_json: str) -> tuple[int | None, int, int]:
    from core.train.estimate import split_sizes

    return split_sizes(TrainConfig.from_json(cfg_json))



# The advanced settings, one column each; every field of PARAMS is drawn once on this page (a test checks it).
ADVANCED = (("weight_decay", "momentum", "log_every", "seed"),
            ("warmup_fraction", "warmup_steps", "min_lr_fraction", "checkpoint_every_s"),
            ("label_smoothing", "val_fraction", "dropout", "stochastic_depth"),
            ("device", "amp", "num_workers"))


def _field(name: str) -> None:
    param_widget(PARAMS[name], f"train_{name}")


def _settings() -> None:
    st.selectbox("Preset", list(PRESETS), key="train_preset", format_func=lambda k: PRESETS[k].title,
                 on_change=_on_preset, help="fills in every setting below; change any of them afterwards")
    st.caption(PRESETS[ss["train_preset"]].description)
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown("**Data**")
        _field("dataset")
        spec = DATASETS[ss["train_dataset"]]
        for param in dataset_params(spec):
            param_widget(param, f"train_opt_{spec.name}_{param.name}")
        _field("image_size")
        st.selectbox("Augmentation", list(AUG_CHOICES), key="train_augmentation", format_func=AUG_CHOICES.get,
                     help=HELP["augmentation"] + ". The lab's pipeline is what its preview shows: what you preview "
                     "is what trains.")
        choice = ss["train_augmentation"]
        if choice == AUG_FILE:
            st.file_uploader("Pipeline JSON", type=["json"], key="train_aug_file",
                             help="the JSON from the Augmentation lab's Export tab (checked before the run starts)")
        if choice in (AUG_LAB, AUG_FILE):
            try:
                st.caption("Pipeline: " + _describe_pipeline(_augmentation()))
            except PlaygroundError:
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
        from core.data.roots import check_config  # a typed server folder only inside the allowed data roots

        cfg = check_config(_config_from_widgets().validate())
    except PlaygroundError as err:
        show_error(err)
        cfg = None
    sizes = _split_sizes(cfg.to_json()) if cfg is not None and DATASETS[cfg.dataset].offline else (None,)
    if sizes[0] is not None:  # known without a download (else unknown: no warning)
        for warning in results.size_warnings(*sizes):
            st.warning(warning, icon=":material/warning:")
    b = st.columns([1, 1, 3])
    if b[1].button("Estimate duration", key="train_estimate", disabled=cfg is None,
                   help="times a few real training steps on this machine and scales them to the whole run"):
        from core.train.estimate import estimate_duration

        try:
            with st.spinner("Timing a few training steps…"), memory_guard("timing training steps"):
                est = estimate_duration(cfg)
            ss["train_estimate_result"] = (cfg.to_json(), est)
        except PAGE_ERRORS as err:
            show_error(err)
    shown = ss.get("train_estimate_result")
    if shown and cfg is not None and shown[0] == cfg.to_json():
        est = shown[1]
        b[2].info(f"≈ **{results.format_seconds(est.seconds)}** on this machine, start to finish ({est.method}). "
                  "Another program using the processor at the same time makes it slower; downloads are not "
                  "included.")
    if b[0].button("Start training", key="train_start", type="primary", disabled=cfg is None):
        try:
            with st.spinner("Checking the starting weights…" if cfg.weights == "pretrained" else "Starting…"):
                _start(cfg)
            st.rerun()
        except PlaygroundError as err:
            show_error(err)


current = _current_run()
if current is not None:
    _live(current)
    busy = results.load_view(current).active
    with st.expander("Start another run" + (" (it will wait in the queue)" if busy else ""), expanded=not busy):
        _settings()
else:
    _settings()
