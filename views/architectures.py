"""Architectures: the model zoo. A card per model, the zoo compared, and an image classified."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.errors import PlaygroundError
from core.models import ARCHITECTURES, get_spec
from core.models.card import format_flops, label_positions, params_note
from views._models import zoo_model
from views._widgets import image_input, show_error

st.title("Architectures")
st.markdown(
    "Twenty classic CNNs, from LeNet-5 (1998) to EfficientNet (2019). Each one added **one idea** — pick a model "
    "to see it, its size and cost counted from the network itself, and the block that makes it different. "
    "*Compare* puts the whole zoo on one chart; *Classify* runs a photo through it."
)


# ------------------------------------------------------------------------------------------ cached calls
@st.cache_data(show_spinner="Counting parameters and FLOPs…")
def _card(name: str) -> dict:
    from core.models import model_card

    card = model_card(name)
    card.pop("weights_status")  # changes when weights are downloaded: asked fresh on every run
    return card


@st.cache_data(show_spinner="Tracing the layers…", max_entries=64)
def _summary(name: str, size: int) -> dict:
    from core.models import summary

    return summary(name, size).to_dict()


@st.cache_data(show_spinner=False)
def _signature(name: str) -> dict:
    from core.models import signature_block

    return signature_block(name)


@st.cache_data(show_spinner="Measuring the whole zoo (once)…")
def _zoo() -> list[dict]:
    return [_card(n) for n in ARCHITECTURES]


@st.cache_data(show_spinner=False)
def _rf_lesson(channels: int) -> tuple[list[dict], list[dict]]:
    from core.models.stacked_convs import features_receptive_field, kernel_lessons

    kernels = [c.to_dict() for c in kernel_lessons(channels)]
    curves = [r for n in ("alexnet", "vgg16") for r in (features_receptive_field(n) or [])]
    return kernels, curves


def _download(name: str) -> bool:
    """Download pretrained weights with a progress bar; True when they are now cached."""
    from core.models import download_weights

    bar = st.progress(0.0, text="Starting download…")
    last = [-1]

    def on_progress(done: int, total: int | None) -> None:
        pct = int(100 * done / total) if total else 0
        if pct != last[0]:  # one UI update per percent, not per chunk
            last[0] = pct
            size = f"{done / 1e6:.1f} / {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
            bar.progress(min(pct, 100) / 100, text=f"Downloading… {size}")

    try:
        path = download_weights(name, progress=on_progress)
    except PlaygroundError as err:
        bar.empty()
        show_error(err)
        return False
    bar.progress(1.0, text=f"Saved to {path.parent.name}/{path.name}")
    return True


def _weights_panel(name: str, key: str) -> str:
    """Show the weights status (and a download button); returns the status now."""
    from core.models import weights_status

    status = weights_status(name)
    spec = get_spec(name)
    if status == "unavailable":
        st.info(f"{spec.title} has no pretrained ImageNet weights: it can only be used **untrained**.")
    elif status == "cached":
        st.success("Pretrained ImageNet weights: cached on this machine (they load offline).")
    else:
        st.warning("Pretrained ImageNet weights: not downloaded yet. Until then the model is **untrained**.")
        if st.button("Download pretrained weights", key=key) and _download(name):
            status = "cached"
    return status


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


def _fmt_m(n: int) -> str:
    return f"{n / 1e6:.2f} M" if n >= 1e5 else f"{n:,}"


# ------------------------------------------------------------------------------------------ model card
if view == "Model card":
    try:
        card = _card(name)
    except PlaygroundError as err:
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
    c[0].metric("Parameters", _fmt_m(card["inference_params"]), help="Counted from the model.")
    c[1].metric(f"FLOPs at {card['flops_input_size']} px", format_flops(card["flops"]),
                help="Measured with torch.utils.flop_counter for one image: 2 FLOPs per multiply-add "
                     f"(= {format_flops(card['flops'] / 2).replace('FLOPs', 'MACs')}, the number papers and "
                     "torchvision quote).")
    no_acc = "no pretrained weights" if not spec.has_pretrained else "timm publishes no accuracy for these weights"
    c[2].metric("ImageNet top-1", "—" if card["acc1"] is None else f"{card['acc1']:.1f} %",
                help=f"From {card['weights']} metadata." if card["acc1"] is not None else no_acc)
    c[3].metric("ImageNet top-5", "—" if card["acc5"] is None else f"{card['acc5']:.1f} %",
                help=f"From {card['weights']} metadata." if card["acc5"] is not None else no_acc)
    if note := params_note(card):
        st.markdown(f"**Parameters:** {note}. The auxiliary classifiers add a second and third loss half-way up "
                    "the network during training and are dropped afterwards; Compare uses the inference count.")
    _weights_panel(name, "arch_download")

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
        s = _summary(name, int(size))
    except PlaygroundError as err:
        show_error(err)
    else:
        st.caption(
            f"One {s['input_size']}×{s['input_size']} RGB image: {s['total_params']:,} parameters, "
            f"{format_flops(s['flops'])} ({format_flops(s['flops'] / 2).replace('FLOPs', 'MACs')}), "
            f"output {tuple(s['output_shape'] or ())}. "
            "Parameters count once per module; MACs per call."
        )
        st.dataframe(
            [
                {
                    "layer": r["name"],
                    "type": r["type"],
                    "output shape": "not run (eval mode)" if r["output_shape"] is None
                    else " × ".join(map(str, r["output_shape"][1:])),
                    "params": r["params"],
                    "MACs": r["macs"],
                }
                for r in s["rows"]
            ],
            hide_index=True,
            height=320,
            width="stretch",
            key="arch_layers",
        )
    sig = _signature(name)
    st.subheader(f"Signature block: {sig['title']}")
    st.markdown(f"`model.{sig['path']}` · {sig['params']:,} parameters")
    st.code(sig["code"], language="text")
    st.markdown(sig["note"])

# ------------------------------------------------------------------------------------------ compare
elif view == "Compare":
    st.header("The zoo on one chart")
    rows = _zoo()
    xs = [r["inference_params"] / 1e6 for r in rows]
    ys = [r["flops"] / 1e9 for r in rows]
    # Fixed log ranges (padded) so the label placement below knows where every point lands on screen.
    x_range = (min(xs) / 1.6, max(xs) * 1.6)
    y_range = (min(ys) / 2.5, max(ys) * 2.5)
    selected = names.index(name)
    sizes = [8 + (r["acc1"] - 50) if r["acc1"] is not None else 10 for r in rows]  # marker diameter, px
    where = label_positions(xs, ys, [r["title"] for r in rows], x_range=x_range, y_range=y_range,
                            width_px=640, height_px=420, font_px=11, first=selected, sizes=sizes)
    fig = go.Figure()
    for has_acc in (True, False):
        idx = [i for i, r in enumerate(rows) if (r["acc1"] is not None) == has_acc]
        if not idx:
            continue
        marker = dict(size=[sizes[i] for i in idx], color=[rows[i]["acc1"] for i in idx],
                      colorscale="Viridis", showscale=True, colorbar=dict(title="top-1 %"), line=dict(width=0)) \
            if has_acc else dict(size=10, color="lightgrey", symbol="diamond", line=dict(width=1, color="grey"))
        fig.add_trace(go.Scatter(
            x=[xs[i] for i in idx], y=[ys[i] for i in idx], mode="markers+text",
            text=[rows[i]["title"] if where[i] else "" for i in idx],
            textposition=[where[i] or "top center" for i in idx], textfont=dict(size=11),
            marker=marker,
            customdata=[[rows[i]["title"], rows[i]["input_size"], format_flops(rows[i]["flops"]),
                         f"ImageNet top-1 {rows[i]['acc1']:.1f} %" if has_acc else "no ImageNet accuracy published"]
                        for i in idx],
            hovertemplate="<b>%{customdata[0]}</b><br>%{x:.2f} M params<br>%{customdata[2]} at %{customdata[1]} px"
                          "<br>%{customdata[3]}<extra></extra>",
            name="ImageNet top-1 known" if has_acc else "no ImageNet accuracy",
        ))
    fig.add_trace(go.Scatter(  # the red ring marks the selected model only
        x=[xs[selected]], y=[ys[selected]], mode="markers", hoverinfo="skip",
        marker=dict(size=30, symbol="circle-open", color="red", line=dict(width=3)),
        name=f"selected: {rows[selected]['title']}",
    ))
    fig.update_layout(
        xaxis=dict(type="log", title="parameters used at inference (millions, log scale)",
                   range=[np.log10(x_range[0]), np.log10(x_range[1])]),
        yaxis=dict(type="log", title="GFLOPs per image at the default input size (log scale)",
                   range=[np.log10(y_range[0]), np.log10(y_range[1])]),
        height=560, legend=dict(orientation="h", y=-0.15), margin=dict(t=30),
    )
    st.plotly_chart(fig, key="arch_compare_chart")
    unlabelled = [r["title"] for r, w in zip(rows, where) if w is None]
    st.caption(
        "Marker size and colour: ImageNet top-1 from torchvision's weights metadata (grey: none published). "
        "Parameters leave out auxiliary classifiers (GoogLeNet, Inception-v3), which only help training. "
        "Red ring: the architecture selected above. Up-left is cheap for its size (MobileNets reuse few "
        "weights many times); down-right is parameter-heavy (AlexNet and VGG spend most weights in their "
        "fully connected layers)."
        + (f" Names left off where they would overlap (hover to see them): {', '.join(unlabelled)}."
           if unlabelled else "")
    )
    missing = [r["title"] for r in rows if r["acc1"] is None]
    st.dataframe(
        [{"architecture": r["title"], "year": r["year"], "params (M)": round(r["inference_params"] / 1e6, 2),
          "FLOPs": format_flops(r["flops"]), "input px": r["input_size"],
          "top-1 %": "—" if r["acc1"] is None else f"{r['acc1']:.1f}",
          "top-5 %": "—" if r["acc5"] is None else f"{r['acc5']:.1f}"}
         for r in rows],
        hide_index=True, width="stretch", key="arch_compare_table",
    )
    if missing:
        st.caption(f"—: no published ImageNet accuracy ({', '.join(missing)}): no pretrained weights, or timm "
                   "publishes none for them.")

    st.header("Why VGG stacks 3×3 convolutions")
    st.markdown(
        "Two 3×3 convolutions in a row see a 5×5 window, three see 7×7, five see 11×11 — the size of "
        "AlexNet's first filter. The numbers below come from real `nn.Conv2d` modules with C input and "
        "output channels (no bias)."
    )
    channels = st.select_slider("Channels C", options=[16, 32, 64, 128, 256, 512], value=64, key="arch_rf_channels")
    kernels, curves = _rf_lesson(int(channels))
    st.dataframe(
        [{"one layer": f"{k['big_kernel']}×{k['big_kernel']}", "or a stack of": f"{k['n_small']} × 3×3",
          "receptive field": f"{k['rf_big']} px = {k['rf_stack']} px",
          "params (one)": k["params_big"], "params (stack)": k["params_stack"],
          "stack / one": f"{k['params_ratio']:.0%}",
          "non-linearities": f"{k['nonlinearities_big']} vs {k['nonlinearities_stack']}"} for k in kernels],
        hide_index=True, width="stretch", key="arch_rf_table",
    )
    fig2 = go.Figure()
    for arch in ("alexnet", "vgg16"):
        pts = [r for r in curves if r["arch"] == arch and r["type"] == "Conv2d"]
        fig2.add_trace(go.Scatter(
            x=[r["conv_index"] for r in pts], y=[r["receptive_field"] for r in pts], mode="lines+markers",
            name=ARCHITECTURES[arch].title, customdata=[[r["kernel"], r["stride"], r["cumulative_params"]] for r in pts],
            hovertemplate="conv %{x}: %{customdata[0]}×%{customdata[0]} stride %{customdata[1]}<br>"
                          "receptive field %{y} px<br>%{customdata[2]:,} parameters so far<extra></extra>",
        ))
    fig2.update_layout(xaxis_title="convolution layer (input → output)", yaxis_title="receptive field (px)",
                       height=380, margin=dict(t=30))
    st.plotly_chart(fig2, key="arch_rf_chart")
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
        ready = _weights_panel(name, "arch_cls_download") == "cached"
    picked = image_input("arch")
    if picked is not None and ready:
        image, label = picked
        left, right = st.columns([1, 2])
        left.image(image, caption=label, width="stretch")
        try:
            from core.models import predict

            model = zoo_model(name, weights)
            result = predict(model, image, arch=name, weights=weights, topk=5)
        except PlaygroundError as err:
            show_error(err)
        else:
            right.metric(f"Forward pass on {result.device}", f"{result.latency_ms:.1f} ms",
                         help=f"One {result.input_shape[-1]} px image, model already in memory; "
                              f"preprocessing took {result.preprocess_ms:.1f} ms more.")
            if not result.trained:
                right.warning("**Predictions hidden: these weights are untrained.** " + result.note)
            else:
                top = result.topk[::-1]
                fig = go.Figure(go.Bar(
                    x=[p["prob"] * 100 for p in top], y=[p["label"] for p in top], orientation="h",
                    text=[f"{p['prob']:.1%}" for p in top], textposition="auto",
                ))
                fig.update_layout(xaxis=dict(title="probability (%)", range=[0, 100]), height=300,
                                  margin=dict(t=10, l=10))
                right.plotly_chart(fig, key="arch_topk_chart")
    elif picked is not None:
        st.info("Download the pretrained weights above, or choose *Untrained* to measure the latency only.")
