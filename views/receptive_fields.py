"""Receptive fields: what one unit of any layer sees, drawn on your image; growth with depth; effective field;
feature maps. Every number comes from core.receptive_field (traced through the real graph)."""
from __future__ import annotations

import streamlit as st

from core.budget import memory_guard
from core.data.resize import square
from core.errors import PAGE_ERRORS
from core.feature_maps import top_channels
from core.models import ARCHITECTURES, get_spec
from core.models.shared import run_transform
from core.receptive_field import effective_receptive_field, receptive_fields, tables_for, unit_field
from core.receptive_field.figures import (
    erf_figure,
    feature_grid,
    field_figure,
    growth_figure,
    rows_csv,
    size_label,
    table_rows,
)
from views import _receptive_state as state
from views._widgets import image_input, show_error

st.title("Receptive fields")
st.markdown(
    "A unit of a feature map depends on a square of input pixels, its **receptive field**: small in the first "
    "convolution, wider after every kernel and stride. The field is computed by following the network's real "
    "graph — through Inception concatenations, residual additions, dense blocks — and an SE block's global "
    "pooling makes every later field **global** (the whole image). Pick a layer and a unit to see its field on "
    "your image; the dashed box is the analytic field, the grey frame the zero padding it reaches into."
)

GROWTH_DEFAULT = ["alexnet", "vgg16", "resnet50", "googlenet", "densenet121"]

# ------------------------------------------------------------------------------------------ model choice
c1, c2, c3 = st.columns([2, 2, 1])
source = c1.radio("Model", ["Zoo architecture", "A training run"], horizontal=True, key="rf_source")
if source == "Zoo architecture":
    names = list(ARCHITECTURES)
    choice = state.zoo_choice(c2.selectbox("Architecture", names, index=names.index("resnet18"), key="rf_arch",
                                           format_func=lambda n: f"{n} — {get_spec(n).title}"))
else:
    runs = state.runs_with_checkpoints()
    if not runs:
        c2.info("No run with a checkpoint yet: train one on the Train page.")
        st.stop()
    choice = state.run_choice(c2.selectbox("Run", runs, key="rf_run",
                                           format_func=lambda r: f"{r['id']} · {r['arch']} · {r['dataset']}"))
arch = choice.arch
size = int(c3.number_input("Input size (px)", min_value=16, max_value=1024, value=choice.default_size, step=1,
                           key=f"rf_size_{source}_{arch}"))

try:
    table = receptive_fields(arch, size)
except PAGE_ERRORS as err:
    show_error(err)
    st.stop()
for note in table.notes:
    st.caption(f"Not traced: {note}")

# ------------------------------------------------------------------------------------------ unit on the image
st.subheader("What one unit sees")
left, right = st.columns([3, 2])
with right:
    picked = image_input("rf", label="Image")
    names = table.names
    default_layer = get_spec(arch).default_cam_layer
    layer = st.selectbox("Layer", names, index=names.index(default_layer) if default_layer in names else len(names) - 1,
                         key=f"rf_layer_{arch}_{size}")
    row = table.get(layer)
    h, w = row.shape
    i = st.slider("Unit row", 0, h - 1, h // 2, key=f"rf_row_{arch}_{size}_{layer}") if h > 1 else 0
    j = st.slider("Unit column", 0, w - 1, w // 2, key=f"rf_col_{arch}_{size}_{layer}") if w > 1 else 0
    unit = unit_field(row, i, j, size)
    m1, m2, m3 = st.columns(3)
    m1.metric("Receptive field", size_label(row))
    m2.metric("Jump (stride so far)", f"{row.jump[0]} px")
    m3.metric("In padding", f"{unit.padding_share:.0%}")
    st.caption(
        f"{layer} ({row.type}) gives a {h}×{w} map at {size}×{size} px. Unit ({i}, {j}) sees rows "
        f"{unit.clipped_box[0]}–{unit.clipped_box[2]} and columns {unit.clipped_box[1]}–{unit.clipped_box[3]} of "
        f"the image ({unit.clipped_area} real pixels"
        + (")." if row.is_global else f" of {unit.area} in the analytic field).")
        + ("" if row.field.aligned else " Its branches are not centred on the same pixel: the field is their union.")
    )
with left:
    if picked is not None:
        image, display = picked
        st.plotly_chart(field_figure(square(image, size), unit), key="rf_field_fig")
        st.caption(f"{display}, as the network sees it: shorter side to {size} px, centre crop.")

# ------------------------------------------------------------------------------------------ table
with st.expander(f"All {len(table.layers)} layers of {arch} at {size} px (size, jump, start)"):
    flat = table_rows(table)
    st.dataframe(flat, hide_index=True)
    st.download_button("Download CSV", rows_csv(flat), file_name=f"receptive_fields_{arch}_{size}.csv",
                       mime="text/csv", key="rf_csv")

# ------------------------------------------------------------------------------------------ growth
st.subheader("Growth with depth")
g1, g2 = st.columns([4, 1])
chosen = g1.multiselect("Architectures", list(ARCHITECTURES), default=GROWTH_DEFAULT, key="rf_growth_archs")
gsize = g2.number_input("Input size (px)", min_value=80, max_value=1024, value=224, key="rf_growth_size")
if chosen:
    tables, skipped = tables_for(chosen, int(gsize))
    st.plotly_chart(growth_figure(tables), key="rf_growth_fig")
    st.caption(
        "Largest field per depth (convolutions on the longest path from the input), convolution and pooling "
        "layers only; a global layer has no size and ends its line (SE networks: after their first SE block). "
        "Fields soon exceed the image: the part outside is padding."
        + (" Skipped: " + "; ".join(skipped) if skipped else "")
    )

# ------------------------------------------------------------------------------------------ effective field
st.subheader("Effective receptive field")
st.markdown(
    "Luo et al. (2016) measured where a unit's gradient really goes: averaged over inputs, it is roughly "
    "Gaussian and covers only part of the theoretical box (cyan). Below: the centre unit of the chosen layer, "
    "|gradient| averaged over noise images, and the share of the theoretical field holding 95 % of it."
)
n_inputs = st.slider("Noise inputs to average", 1, 16, 4, key="rf_erf_n")
settings = state.erf_settings(source, choice, size, layer, n_inputs)
if st.button("Compute the effective field", key="rf_erf_go"):
    results = []
    try:
        for trained in ([False, True] if choice.has_trained else [False]):
            model, label = choice.model(trained)
            with st.spinner(f"Back-propagating through {label}…"), memory_guard("computing the effective field"):
                results.append((label, effective_receptive_field(model, layer, table, n_inputs=n_inputs, seed=0)))
        state.save_erf(settings, results)
    except PAGE_ERRORS as err:  # includes out of memory and a bad weights file
        show_error(err)
erfs, stale = state.stored_erf(settings)
if erfs:
    for col, (label, erf) in zip(st.columns(len(erfs)), erfs):
        with col:
            st.plotly_chart(erf_figure(erf, title=label), key=f"rf_erf_fig_{label}")
            st.metric("95 % of the gradient on", f"{erf.mass_share:.0%} of the field",
                      help=f"{erf.mass_pixels} of {erf.theoretical.clipped_area} pixels of the theoretical field")
    if not choice.has_trained:
        st.caption("No pretrained weights are cached here for this architecture: only the untrained network "
                   "is shown (download them on the Architectures page, or pick a training run).")
elif stale:
    st.caption("Settings changed: compute again.")

# ------------------------------------------------------------------------------------------ feature maps
st.subheader("Feature maps")
if picked is None:
    st.info("Choose an image above to see its feature maps.")
else:
    f1, f2 = st.columns([1, 3])
    k = f1.slider("Channels", 4, 32, 12, step=4, key="rf_fm_k")
    use_trained = f1.toggle("Trained weights", value=choice.has_trained, disabled=not choice.has_trained,
                            key="rf_fm_trained")
    try:
        model, label = choice.model(use_trained and choice.has_trained)
        with memory_guard("computing the feature maps"):
            fm = top_channels(model, run_transform(size)(picked[0]), layer, k=k)
    except PAGE_ERRORS as err:
        show_error(err)
    else:
        with f2:
            st.plotly_chart(feature_grid(fm, cols=4, unit=(i, j)), key="rf_fm_fig")
        f1.caption(f"{label}: {layer} has {fm.shape[0]} channels of {fm.shape[1]}×{fm.shape[2]}; the {len(fm.channels)} "
                   "with the highest mean activation, each on its own colour scale. The red square is the unit "
                   "whose field is drawn above.")
        f1.dataframe([{**c.stats(), "active": f"{c.active:.0%}"} for c in fm.channels], hide_index=True,
                     column_config={"mean": st.column_config.NumberColumn(format="%.3g"),
                                    "max": st.column_config.NumberColumn(format="%.3g"),
                                    "min": st.column_config.NumberColumn(format="%.3g")})
