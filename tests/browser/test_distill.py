"""Distill & self-train in real Chromium: start a KD pair and a one-iteration self-training run, see the results."""
from __future__ import annotations

import time

import pytest

from core.runs import launcher, store, worker
from core.train import TrainConfig
from tests.browser.conftest import assert_no_exception, open_page, screenshot, wait_for_script

pytestmark = pytest.mark.browser

TEACHER = dict(arch="lenet5", dataset_options={"n": 120}, image_size=32, batch_size=16, epochs=1, max_steps=4,
               augmentation="none")


def _wait_text(page, text: str, timeout_s: float) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        assert_no_exception(page)
        if page.get_by_text(text).count():
            return
        page.wait_for_timeout(1000)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {text!r}")


def _set_number(page, label: str, value: str) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True).first
    box.fill(value)
    box.press("Enter")
    wait_for_script(page)


@pytest.fixture
def app_runs(app_server, tmp_path_factory):
    """The app server's runs folder; afterwards no worker started by the test is left running."""
    home = next(p for p in tmp_path_factory.getbasetemp().glob("app-home*") if (p / "server.log").is_file())
    runs = home / "runs"
    runs.mkdir(exist_ok=True)
    yield runs
    for run_dir in runs.glob("*/"):
        if (run_dir / store.CONFIG_FILE).is_file() and store.is_active(run_dir):
            launcher.cancel(run_dir)


def test_kd_pair_and_self_training_from_the_page(app_server, page, app_runs):
    teacher = store.create_run(TrainConfig(**TEACHER), app_runs)
    worker.execute(teacher)
    open_page(page, app_server, "distill")
    page.get_by_text("Teacher (a finished run)").first.wait_for()
    _set_number(page, "Student epochs (both runs)", "1")
    page.get_by_role("button", name="Start the student with KD and without KD").click()
    wait_for_script(page)
    _wait_text(page, "Agreement with the teacher", 300)
    assert "kd=" in page.url and "plain=" in page.url
    page.get_by_text("Per-class test accuracy").first.wait_for()
    page.get_by_text("Agreement with the teacher").first.scroll_into_view_if_needed()  # the results in the shot
    page.wait_for_timeout(1000)
    screenshot(page, "distill")

    page.get_by_role("tab", name="Self-training (Noisy Student)").click()
    for label, value in (("Shapes images in the training set", "300"), ("Labelled images per class", "5"),
                         ("Student generations (iterations)", "1"), ("Epochs per stage", "2"),
                         ("Max steps per stage", "4")):
        _set_number(page, label, value)
    page.get_by_role("button", name="Start self-training").click()
    wait_for_script(page)
    _wait_text(page, "Pool (unlabelled)", 300)
    _wait_text(page, "labelled-only teacher", 120)
    assert "st=" in page.url
    page.get_by_text("Teacher confidence on").first.wait_for()
    page.get_by_text("Pool (unlabelled)").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    screenshot(page, "distill-selftrain")
    assert_no_exception(page)
