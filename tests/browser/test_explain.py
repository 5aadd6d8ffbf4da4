"""The Explain page's "Done when", in real Chromium from a fresh, offline home: one click trains the short Shapes
preset through the normal engine, the page then explains a Shapes test image with the new run, shows a 4-method
comparison grid, plays the pointing game (hit rate vs a random point), runs the sanity check and downloads the map.

Durations are printed (the page states the measured one), never asserted: these machines are noisy.
"""
from __future__ import annotations

import re
import time

import numpy as np
import pytest

from tests.browser.conftest import assert_no_exception, open_page, screenshot, streamlit_server, wait_for_script

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _wait(cond, timeout_s: float, what: str):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(1.0)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _metric(page, label: str) -> float:
    text = page.locator('[data-testid="stMetric"]').filter(has_text=label).first.inner_text()
    return float(re.findall(r"\d+\.\d+", text.split("\n", 1)[1])[0])


def _fake_run(home):
    """A completed LeNet-5 Shapes run (random weights as its checkpoint): for the page's flows, not its numbers."""
    import torch

    from core.data.shapes import CLASSES
    from core.explain.quickstart import PRESET
    from core.models import build
    from core.runs import store
    from core.train.config import TrainConfig

    run_dir = store.create_run(TrainConfig.from_preset(PRESET, dataset_options={"n": 60}, image_size=32),
                               home / "runs")
    torch.manual_seed(0)
    store.save_checkpoint(run_dir, build("lenet5", num_classes=6, weights="none").state_dict(),
                          {"step": 1, "classes": list(CLASSES)}, best=True)
    store.write_status(run_dir, state="completed", pid=None)
    return run_dir


def _faithfulness_and_download(page, tmp_path, size: int) -> tuple[float, float]:
    page.get_by_role("tab", name="Methods").click()
    for title in ("Grad-CAM ·", "Grad-CAM++ ·", "Saliency ·", "SmoothGrad ·"):  # the 4-method grid
        assert page.get_by_text(re.compile("^" + re.escape(title))).count() > 0, title
    page.get_by_role("tab", name="Pointing game").click()
    page.get_by_role("button", name="Play the pointing game").click()
    wait_for_script(page, 600_000)
    assert_no_exception(page)
    hit, chance = _metric(page, "Hit rate"), _metric(page, "Random point")
    page.get_by_role("tab", name="Sanity check").click()
    page.get_by_role("button", name="Run the sanity check").click()
    wait_for_script(page, 600_000)
    assert_no_exception(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"]', state="attached", timeout=120_000)  # ρ per stage
    with page.expect_download() as dl:
        page.get_by_role("button", name="Raw map (.npy)").click()
    path = tmp_path / "map.npy"
    dl.value.save_as(path)
    m = np.load(path)
    assert m.shape == (size, size) and (m >= 0).all()
    return hit, chance


@pytest.mark.timeout(900)
def test_run_grid_pointing_game_sanity_and_download(browser, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    _fake_run(home)
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.set_default_timeout(120_000)
    with streamlit_server(home) as base:
        open_page(page, base, "explain")
        page.get_by_text("Trained run").first.click()
        wait_for_script(page, 300_000)
        assert_no_exception(page)
        page.get_by_text(re.compile("Grad-CAM for")).first.wait_for()
        screenshot(page, "explain")
        hit, chance = _faithfulness_and_download(page, tmp_path, 32)
        assert 0 <= hit <= 1 and 0 < chance < 1


@pytest.mark.timeout(3600)
def test_one_click_model_then_explained_with_measured_duration(browser, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.set_default_timeout(120_000)
    with streamlit_server(home) as base:
        open_page(page, base, "explain")
        page.get_by_text("Trained run").first.click()
        wait_for_script(page)
        page.get_by_text("No finished training run yet").wait_for()
        t0 = time.time()
        page.get_by_role("button", name=re.compile("Train a short Shapes model")).click()
        _wait(lambda: page.get_by_text(re.compile("Grad-CAM for")).count() > 0, 3000, "the trained run's Grad-CAM")
        print(f"one-click model ready after {time.time() - t0:.0f} s (wall, this machine, with the browser running)")
        wait_for_script(page)
        assert_no_exception(page)
        page.get_by_text(re.compile("Measured here: the last run of this preset took")).wait_for()
        from core.explain.quickstart import PRESET
        from core.train.config import TrainConfig

        hit, chance = _faithfulness_and_download(page, tmp_path, TrainConfig.from_preset(PRESET).image_size)
        print(f"pointing game on the page, Grad-CAM at the default layer: hit rate {hit:.3f}, random point {chance:.3f}")
        # The default layer is chosen by the rule measured in core/explain/layers.py (LeNet-5 at 48 px, this preset's
        # run: C5 after its ReLU 0.37 on 200 test images vs 0.14 for a random point; the old default, the S4 pool, 0.21):
        # on the preset's own run it must beat a random point. Saliency is asserted well above chance.
        assert hit > chance, (hit, chance)
        page.locator('[data-testid="stSelectbox"]').filter(has_text=re.compile(r"^Method")).first.click()
        page.keyboard.type("Saliency")  # filter the list first, then pick the option
        page.get_by_role("option", name="Saliency").first.click()
        wait_for_script(page, 600_000)
        page.get_by_role("tab", name="Pointing game").click()
        page.get_by_role("button", name="Play the pointing game").click()
        wait_for_script(page, 600_000)
        assert_no_exception(page)
        hit, chance = _metric(page, "Hit rate"), _metric(page, "Random point")
        print(f"pointing game on the page, Saliency: hit rate {hit:.3f}, random point {chance:.3f}")
        assert hit > 2 * chance
        screenshot(page, "explain-trained")
