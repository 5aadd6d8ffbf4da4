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
from core.errors import InputError, PlaygroundError
from core.models import ARCHITECTURES, weights_status
from core.runs import launcher, results, store
from core.train.config import DEFAULT_PRESET, MODES, OPTIMIZERS, PRESETS, TrainConfig, field_help
from views._identity import ensure_identity, identity_sidebar
from views._results import render_results
from views._widgets import run_from_url, show_error

HELP = field_help()
MODE_TITLES = {"scratch": "From scratch", "linear_probe": "Linear probe", "finetune_last_k": "Fine-tune last k blocks",
               "full": "Full fine-tune"}
WEIGHT_CHOICES = {"none": "Random (from scratch)", "pretrained": "ImageNet pretrained", "checkpoint": "A previous run"}
IMAGE_SIZES = [32, 48, 64, 96, 112, 128, 160, 192, 224, 299]
BATCH_SIZES = [4, 8, 16, 32, 64, 128, 256]
# Besides the six presets, the Augmentation lab's current pipeline (its page keeps the validated JSON in session
# state under LAB_SPEC_KEY) or a pipeline JSON file (the lab's Export tab writes one). Colons: no preset has one.
AUG_LAB, AUG_FILE = ":lab", ":file"
AUG_CHOICES = {**{k: k for k in AUG_PRESETS}, AUG_LAB: "the Augmentation lab's pipeline",
               AUG_FILE: "a pipeline JSON file"}
LAB_SPEC_KEY = "aug_spec_json"
CURVES_EVERY_S = 6  # seconds between two redraws of the live curves (the progress bar: every 2 s)
SIMPLE = ("epochs", "batch_size", "image_size", "optimizer", "lr", "momentum", "weight_decay", "warmup_fraction",
          "label_smoothing", "val_fraction", "seed", "device", "amp", "log_every", "checkpoint_every_s", "arch",
          "mode", "finetune_k", "dataset")

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
    for name in SIMPLE:
        ss[f"train_{name}"] = getattr(cfg, name)
    ss["train_max_steps"] = cfg.max_steps or 0
    ss["train_num_workers"] = "auto" if cfg.num_workers is None else cfg.num_workers
    aug = cfg.augmentation if isinstance(cfg.augmentation, str) else "none"
    ss["train_augmentation"] = aug
    if cfg.weights in ("none", "pretrained"):
        ss["train_weights"] = cfg.weights
    else:
        ss["train_weights"], ss["train_weights_run"] = "checkpoint", cfg.weights
    spec = DATASETS[cfg.dataset]
    for opt, default in spec.options.items():
        ss[f"train_opt_{cfg.dataset}_{opt}"] = cfg.dataset_options.get(opt, default)


def _on_preset() -> None:
    _apply(TrainConfig.from_preset(ss["train_preset"]))


def _config_from_widgets() -> TrainConfig:
    default = TrainConfig()
    # .get: Streamlit forgets the state of a widget that was not drawn in the last run (e.g. k when hidden)
    values = {name: ss.get(f"train_{name}", getattr(default, name)) for name in SIMPLE}
    spec = DATASETS[values["dataset"]]
    options = {opt: ss.get(f"train_opt_{spec.name}_{opt}", d) for opt, d in spec.options.items()}
    weights = ss.get("train_weights", "none")
    if weights == "checkpoint":
        weights = ss.get("train_weights_run") or "none"
    workers = ss.get("train_num_workers", "auto")
    return TrainConfig(**values, dataset_options=options, max_steps=int(ss.get("train_max_steps", 0)) or None,
                       weights=weights, augmentation=_augmentation(),
                       num_workers=None if workers == "auto" else int(workers))


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



def _settings() -> None:
    st.selectbox("Preset", list(PRESETS), key="train_preset", format_func=lambda k: PRESETS[k].title,
                 on_change=_on_preset, help="fills in every setting below; change any of them afterwards")
    st.caption(PRESETS[ss["train_preset"]].description)
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown("**Data**")
        st.selectbox("Data set", list(DATASETS), key="train_dataset", help=HELP["dataset"],
                     format_func=lambda k: DATASETS[k].title + ("" if DATASETS[k].offline else " (download)"))
        spec = DATASETS[ss["train_dataset"]]
        for opt, default in spec.options.items():
            key = f"train_opt_{spec.name}_{opt}"
            ss.setdefault(key, default)
            helptext = spec.option_help.get(opt)
            if spec.name == "folder" and opt == "path":
                from core.data.folders import list_imported

                imported = list_imported()
                if imported and ss[key] in ("", *imported):
                    ss[key] = ss[key] or imported[0]
                    st.selectbox("Imported data set", imported, key=key, help="import a zip on the Data sets page")
                else:
                    st.text_input("Folder on the server", key=key, help=helptext)
            elif isinstance(default, bool):
                st.checkbox(opt, key=key, help=helptext)
            elif isinstance(default, int):
                st.number_input(opt, min_value=0 if opt == "seed" else 1, max_value=1_000_000, step=1 if opt == "seed"
                                else 500, key=key, help=helptext)
            elif isinstance(default, float):
                st.slider(opt, 0.0, 1.0, step=0.05, key=key, help=helptext)
            else:
                st.text_input(opt, key=key, help=helptext)
        st.select_slider("Image size (px)", IMAGE_SIZES, key="train_image_size", help=HELP["image_size"])
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
        st.selectbox("Architecture", list(ARCHITECTURES), key="train_arch", help=HELP["arch"],
                     format_func=lambda k: f"{ARCHITECTURES[k].title} ({ARCHITECTURES[k].year})")
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
        st.selectbox("Mode", list(MODES), key="train_mode", format_func=MODE_TITLES.get, help=HELP["mode"])
        st.caption(MODES[ss["train_mode"]])
        if ss["train_mode"] == "finetune_last_k":
            st.number_input("k (blocks before the head that learn)", 1, 20, key="train_finetune_k",
                            help=HELP["finetune_k"])
    with c3:
        st.markdown("**Budget and optimiser**")
        st.number_input("Epochs", 1, 1000, key="train_epochs", help=HELP["epochs"])
        st.number_input("Max steps (0 = no cap)", 0, 10_000_000, key="train_max_steps", help=HELP["max_steps"])
        st.select_slider("Batch size", BATCH_SIZES, key="train_batch_size", help=HELP["batch_size"])
        st.selectbox("Optimizer", list(OPTIMIZERS), key="train_optimizer", help=OPTIMIZERS[ss["train_optimizer"]])
        st.number_input("Learning rate", min_value=1e-6, max_value=10.0, format="%.5f", step=0.001, key="train_lr",
                        help=HELP["lr"])
    with st.expander("Advanced settings"):
        a = st.columns(4)
        a[0].number_input("Weight decay", 0.0, 1.0, format="%.5f", step=1e-4, key="train_weight_decay",
                          help=HELP["weight_decay"])
        a[0].number_input("Momentum (SGD)", 0.0, 0.999, step=0.05, key="train_momentum", help=HELP["momentum"])
        a[1].number_input("Warm-up fraction", 0.0, 0.9, step=0.01, key="train_warmup_fraction",
                          help=HELP["warmup_fraction"])
        a[1].number_input("Label smoothing", 0.0, 0.9, step=0.05, key="train_label_smoothing",
                          help=HELP["label_smoothing"])
        a[2].number_input("Validation fraction", 0.0, 0.5, step=0.05, key="train_val_fraction",
                          help=HELP["val_fraction"])
        a[2].number_input("Seed", 0, 2**31 - 1, key="train_seed", help=HELP["seed"])
        import torch

        devices = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        a[3].selectbox("Device", devices, key="train_device", help=HELP["device"])
        a[3].selectbox("Mixed precision", ["auto", "off", "bf16", "fp16"], key="train_amp", help=HELP["amp"])
        a[3].selectbox("Data workers", ["auto", 0, 1, 2, 4, 8], key="train_num_workers", help=HELP["num_workers"])
        a[0].number_input("Log every (steps)", 1, 10_000, key="train_log_every", help=HELP["log_every"])
        a[1].number_input("Checkpoint every (s)", 5.0, 36_000.0, step=30.0, key="train_checkpoint_every_s",
                          help=HELP["checkpoint_every_s"])

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
            with st.spinner("Timing a few training steps…"):
                est = estimate_duration(cfg)
            ss["train_estimate_result"] = (cfg.to_json(), est)
        except (PlaygroundError, RuntimeError) as err:
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
