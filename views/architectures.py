"""Architectures: the model zoo. A card per model, the zoo compared, and an image classified."""
from __future__ import annotations

import streamlit as st

from core.errors import PAGE_ERRORS
from core.models import ARCHITECTURES, get_spec, predict
from core.models.card import format_flops, format_macs, format_params, params_note
from core.models.figures import kernel_rows, layer_rows, stacked_rf_figure, topk_figure, zoo_figure, zoo_rows
from views import _architectures_cache as cached
from views._architectures_weights import weights_panel
from views._models import zoo_model
from views._widgets import image_input, show_error

st.title("Architectures")
st.markdown(
    "Twenty classic CNNs, from LeNet-5 (1998) to EfficientNet (2019). Each one added **one idea** — pick a model "
    "to see it, its size and cost counted from the network itself, and the block that makes it different. "
    "*Compare* puts the whole zoo on one chart; *Classify* runs a photo through it."
)

# ------------------------------------------------------------------------------------------ widgets
names = list(ARCHITECTURES)
name = st.selectbox(
    "Architecture",
    names,
    index=names.index("resnet18"),
    format_func=lambda n: f"{ARCHITECTURES[n].title} ({ARCHITECTURES[n].year})",
    key="arch_name",
)
spec = get_spec(name)
view = st.radio("View", ["Model card", "Compare", "Classify"], horizontal=True, key="arch_view")

# ------------------------------------------------------------------------------------------ model card
if view == "Model card":
    try:
        card = cached.card(name)
    except PAGE_ERRORS as err:
        show_error(err)
        st.stop()
    st.header(f"{spec.title} · {spec.year}")
    st.markdown(f"**The idea.** {spec.idea}")
    st.markdown(f"Family: {spec.family} · source: {spec.source} · [paper]({spec.paper})")
    if spec.notes:
        with st.expander("Differences from the paper"):
            st.markdown(spec.notes)
    c = st.columns(4)
    # The inference count, as on Compare; the training-time count is said in plain text below when it differs.
    c[0].metric("Parameters", format_params(card["inference_params"]), help="Counted from the model.")
    c[1].metric(f"FLOPs at {card['flops_input_size']} px", format_flops(card["flops"]),
                help="Measured with torch.utils.flop_counter for one image: 2 FLOPs per multiply-add "
                     f"(= {format_macs(card['flops'])}, the number papers and torchvision quote).")
    no_acc = "no pretrained weights" if not spec.has_pretrained else "timm publishes no accuracy for these weights"
    c[2].metric("ImageNet top-1", "—" if card["acc1"] is None else f"{card['acc1']:.1f} %",
                help=f"From {card['weights']} metadata." if card["acc1"] is not None else no_acc)
    c[3].metric("ImageNet top-5", "—" if card["acc5"] is None else f"{card['acc5']:.1f} %",
                help=f"From {card['weights']} metadata." if card["acc5"] is not None else no_acc)
    if note := params_note(card):
        st.markdown(f"**Parameters:** {note}. The auxiliary classifiers add a second and third loss half-way up "
                    "the network during training and are dropped afterwards; Compare uses the inference count.")
    weights_panel(name, "arch_download")

    st.subheader("Layer by layer")
    size = st.number_input(
        "Input size (px)",
        min_value=card["min_input_size"],
        max_value=1024,
        value=card["input_size"],
        step=8 if card["input_size"] >= 64 else 1,
        key=f"arch_input_size_{name}",
        help=f"Smallest input {spec.title} accepts: {card['min_input_size']} px.",
    )
    try:
        s = cached.layer_summary(name, int(size))
    except PAGE_ERRORS as err:
        show_error(err)
    else:
        st.caption(
            f"One {s['input_size']}×{s['input_size']} RGB image: {s['total_params']:,} parameters, "
            f"{format_flops(s['flops'])} ({format_macs(s['flops'])}), output {tuple(s['output_shape'] or ())}. "
            "Parameters count once per module; MACs per call."
        )
        st.dataframe(layer_rows(s), hide_index=True, height=320, width="stretch", key="arch_layers")
    sig = cached.signature(name)
    st.subheader(f"Signature block: {sig['title']}")
    st.markdown(f"`model.{sig['path']}` · {sig['params']:,} parameters")
    st.code(sig["code"], language="text")
    st.markdown(sig["note"])

# ------------------------------------------------------------------------------------------ compare
elif view == "Compare":
    st.header("The zoo on one chart")
    rows = cached.zoo()
    fig, unlabelled = zoo_figure(rows, selected=names.index(name))
    st.plotly_chart(fig, key="arch_compare_chart")
    st.caption(
        "Marker size and colour: ImageNet top-1 from torchvision's weights metadata (grey: none published). "
        "Parameters leave out auxiliary classifiers (GoogLeNet, Inception-v3), which only help training. "
        "Red ring: the architecture selected above. Up-left is cheap for its size (MobileNets reuse few "
        "weights many times); down-right is parameter-heavy (AlexNet and VGG spend most weights in their "
        "fully connected layers)."
        + (f" Names left off where they would overlap (hover to see them): {', '.join(unlabelled)}."
           if unlabelled else "")
    )
    st.dataframe(zoo_rows(rows), hide_index=True, width="stretch", key="arch_compare_table")
    if missing := [r["title"] for r in rows if r["acc1"] is None]:
        st.caption(f"—: no published ImageNet accuracy ({', '.join(missing)}): no pretrained weights, or timm "
                   "publishes none for them.")

    st.header("Why VGG stacks 3×3 convolutions")
    st.markdown(
        "Two 3×3 convolutions in a row see a 5×5 window, three see 7×7, five see 11×11 — the size of "
        "AlexNet's first filter. The numbers below come from real `nn.Conv2d` modules with C input and "
        "output channels (no bias)."
    )
    channels = st.select_slider("Channels C", options=[16, 32, 64, 128, 256, 512], value=64, key="arch_rf_channels")
    kernels, curves = cached.rf_lesson(int(channels))
    st.dataframe(kernel_rows(kernels), hide_index=True, width="stretch", key="arch_rf_table")
    st.plotly_chart(stacked_rf_figure(curves, cached.LESSON_ARCHS), key="arch_rf_chart")
    st.caption(
        "AlexNet grows its receptive field with big kernels and big strides in 5 layers; VGG-16 reaches the same "
        "range with 13 small 3×3 layers. Theoretical receptive fields, computed from each layer's kernel, stride "
        "and dilation."
    )

# ------------------------------------------------------------------------------------------ classify
else:
    st.header(f"Classify an image with {spec.title}")
    options = (["Pretrained (ImageNet)"] if spec.has_pretrained else []) + ["Untrained (random weights)"]
    choice = st.radio("Weights", options, horizontal=True, key="arch_weights")
    weights = "default" if choice.startswith("Pretrained") else "none"
    ready = True
    if weights == "default":
        ready = weights_panel(name, "arch_cls_download") == "cached"
    picked = image_input("arch")
    if picked is not None and ready:
        image, label = picked
        left, right = st.columns([1, 2])
        left.image(image, caption=label, width="stretch")
        try:
            model = zoo_model(name, weights)
            result = predict(model, image, arch=name, weights=weights, topk=5)
        except PAGE_ERRORS as err:
            show_error(err)
        else:
            right.metric(f"Forward pass on {result.device}", f"{result.latency_ms:.1f} ms",
                         help=f"One {result.input_shape[-1]} px image, model already in memory; "
                              f"preprocessing took {result.preprocess_ms:.1f} ms more.")
            if not result.trained:
                right.warning("**Predictions hidden: these weights are untrained.** " + result.note)
            else:
                right.plotly_chart(topk_figure(result.topk), key="arch_topk_chart")
    elif picked is not None:
        st.info("Download the pretrained weights above, or choose *Untrained* to measure the latency only.")
