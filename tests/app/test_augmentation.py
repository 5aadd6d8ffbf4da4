"""AppTest for the augmentation lab: build a chain, change the seed, CutMix view, RandAugment strings, export/import."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "augmentation.py")


@pytest.fixture
def at():
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["aug_max_side"] = 96  # small tiles keep the suite quick on 2 cores
    at.run()
    assert not at.exception, at.exception
    return at


def _tile_captions(at) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("**#") and "seed" in c.value]


def _json_block(at) -> dict:
    blocks = [c.value for c in at.code if c.value.lstrip().startswith("{")]
    return json.loads(blocks[0])


def test_default_page_shows_16_tiles_with_drawn_params_and_cutmix(at):
    caps = _tile_captions(at)
    assert len(caps) == 16
    assert all("RandAugment:" in c for c in caps)
    assert any("soft label" in c.value for c in at.caption)  # the mixed batch below the grid
    labels = [m.label for m in at.metric]
    assert "λ = kept area of A" in labels and "λ drawn from Beta(α, α)" in labels


def test_build_a_chain_reorder_remove(at):
    at.selectbox(key="aug_preset").set_value("none")
    at.button(key="aug_load_preset").click().run()
    assert not at.exception
    assert any("No steps" in i.value for i in at.info)
    for name in ("rotation", "grayscale"):
        at.selectbox(key="aug_add_name").set_value(name)
        at.button(key="aug_add").click().run()
    assert not at.exception
    spec = _json_block(at)
    assert [s["name"] for s in spec["steps"]] == ["rotation", "grayscale"] and spec["mixing"] is None
    assert all(c.split(": ", 1)[1].startswith(("rotate", "rotation: not applied")) for c in _tile_captions(at))
    uid = at.session_state["aug_steps"][1]["uid"]
    at.button(key=f"aug_up_{uid}").click().run()
    assert [s["name"] for s in _json_block(at)["steps"]] == ["grayscale", "rotation"]
    at.slider(key=f"aug_s{at.session_state['aug_steps'][1]['uid']}_degrees").set_value(90.0).run()
    assert _json_block(at)["steps"][1]["params"]["degrees"] == 90.0
    at.button(key=f"aug_rm_{uid}").click().run()
    assert [s["name"] for s in _json_block(at)["steps"]] == ["rotation"]
    assert not at.exception


def test_changing_the_seed_changes_the_tiles_and_back(at):
    first = _tile_captions(at)
    at.number_input(key="aug_seed").set_value(7).run()
    changed = _tile_captions(at)
    assert changed != first and "(seed 7)" in changed[0]
    at.number_input(key="aug_seed").set_value(0).run()
    assert _tile_captions(at) == first


def test_cutmix_and_mixup_view(at):
    kept = next(m for m in at.metric if m.label == "λ = kept area of A").value
    assert 0.0 <= float(kept) <= 1.0
    at.radio(key="aug_mx_mode").set_value("mixup").run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "weight of A" in labels and "weight of B" in labels


def test_randaugment_string_conversion(at):
    at.text_input(key="aug_ra_timm").set_value("rand-m7-n3-mstd0.5").run()
    at.button(key="aug_ra_convert").click().run()
    assert at.session_state["aug_ra_n"] == 3 and at.session_state["aug_ra_m"] == 7
    assert at.session_state["aug_ra_bins"] == 11
    assert any("mstd0.5" in i.value for i in at.info)
    assert any("rand-m7-n3" in m.value for m in at.markdown)
    at.text_input(key="aug_ra_timm").set_value("rand-x9").run()
    at.button(key="aug_ra_convert").click().run()
    assert not at.exception and any("unknown section" in e.value for e in at.error)


def test_export_and_import(at):
    code = [c.value for c in at.code if "import torch" in c.value]
    assert code and "v2.RandAugment(num_ops=2, magnitude=9" in code[0] and "v2.CutMix" in code[0]
    new = {"version": 1, "steps": [{"name": "vflip", "p": 0.5}], "mixing": {"name": "mixup", "params": {"alpha": 0.4}}}
    at.text_area(key="aug_import_text").set_value(json.dumps(new)).run()
    at.button(key="aug_import_btn").click().run()
    assert not at.exception
    spec = _json_block(at)
    assert [s["name"] for s in spec["steps"]] == ["vflip"] and spec["mixing"]["name"] == "mixup"
    assert any("imported" in s.value for s in at.success)
    at.text_area(key="aug_import_text").set_value('{"steps": [{"name": "blur"}]}').run()
    at.button(key="aug_import_btn").click().run()
    assert not at.exception
    assert any("unknown augmentation 'blur'" in e.value for e in at.error)
    assert [s["name"] for s in _json_block(at)["steps"]] == ["vflip"]  # a bad import changes nothing


def test_bad_settings_show_a_message_not_a_traceback(at):
    at.selectbox(key="aug_preset").set_value("none")
    at.button(key="aug_load_preset").click().run()
    at.selectbox(key="aug_add_name").set_value("gaussian_blur")
    at.button(key="aug_add").click().run()
    uid = at.session_state["aug_steps"][0]["uid"]
    at.slider(key=f"aug_s{uid}_kernel_size").set_value(5).run()
    assert not at.exception and not at.error
    # the new value reaches the spec, the exported code and every tile (each tile drew a blur)
    assert _json_block(at)["steps"][0]["params"]["kernel_size"] == 5
    assert any("v2.GaussianBlur(kernel_size=5," in c.value for c in at.code)
    caps = _tile_captions(at)
    assert len(caps) == 16 and all(c.split(": ", 1)[1].startswith("blur σ=") for c in caps)
    # an even kernel cannot be set with the slider (step 2) but can arrive in a file: refused, named, no change
    bad = {"version": 1, "steps": [{"name": "gaussian_blur", "p": 1.0, "params": {"kernel_size": 4}}]}
    at.text_area(key="aug_import_text").set_value(json.dumps(bad)).run()
    at.button(key="aug_import_btn").click().run()
    assert not at.exception
    assert any("kernel_size must be odd" in e.value and "4" in e.value for e in at.error)
    assert _json_block(at)["steps"][0]["params"]["kernel_size"] == 5
    # crop with padding 0 and fraction 1 is refused with a clear message
    at.selectbox(key="aug_add_name").set_value("crop")
    at.button(key="aug_add").click().run()
    uid = at.session_state["aug_steps"][1]["uid"]
    at.slider(key=f"aug_s{uid}_padding").set_value(0).run()
    assert not at.exception
    assert any("nothing random" in e.value for e in at.error)


def test_the_same_geometric_step_twice_shows_both_geometries(at):
    """Found while timing issue 8.15: two rotations gave two charts the same key and the page crashed."""
    at.selectbox(key="aug_preset").set_value("none")
    at.button(key="aug_load_preset").click().run()
    for _ in range(2):
        at.selectbox(key="aug_add_name").set_value("rotation")
        at.button(key="aug_add").click().run()
    assert not at.exception, at.exception
    assert len([c for c in at.get("plotly_chart") if "aug_geo_fig" in str(c.proto.id)]) >= 2


def test_adding_a_step_resumes_every_tile_from_its_cached_steps(at):
    """Issue 8.15: a click recomputes only the new step (bit-identity with a full run: tests/unit)."""
    import gc

    from core.augment import PrefixCache

    def hits() -> int:
        return sum(c.hits for c in gc.get_objects() if isinstance(c, PrefixCache))

    before, steps = hits(), len(at.session_state["aug_steps"])
    at.selectbox(key="aug_add_name").set_value("grayscale")
    at.button(key="aug_add").click().run()
    assert not at.exception, at.exception
    assert len(_tile_captions(at)) == 16
    assert hits() - before >= 16 * steps  # every tile resumed after the steps it already had


def test_page_files_keep_to_one_job():
    """Issue 14.1: the page is layout; state is written only in views/_augment_state.py; pictures and figures
    are drawn in core.augment.figures (no PIL / Plotly / tensor code in any views/ file of the lab)."""
    import ast

    views = Path(PAGE).parent
    files = [Path(PAGE), *sorted(views.glob("_augment_*.py"))]
    assert len(files) >= 4
    for path in files:
        tree = ast.parse(path.read_text())
        mods = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        mods |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not mods & {"PIL", "plotly", "torch"}, (path.name, mods & {"PIL", "plotly", "torch"})
        private = [f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                   for a in n.names if a.name.startswith("_") and n.module != "views"]  # views._x: a module
        assert not private, (path.name, private)  # no reaching into another module's internals
        if path.name != "_augment_state.py":
            writes = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign))
                      for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                      if isinstance(t, ast.Subscript) and ast.unparse(t.value) in ("ss", "st.session_state")]
            assert not writes, (path.name, [ast.unparse(w) for w in writes])
