"""The Distill page's measured figures: what `python -m bench.distill` found over several seeds at the page's
defaults (bench/results/distill.json, read by core.runs.distill_figures), shown next to the one-seed runs a
student starts, so a single lucky or unlucky run is not read as the answer.

Nothing here is typed by hand: every number comes from the bench file; without it, a caption says how to make it.
Gotcha: the verdict ("helped" / "hurt" / "made no clear difference") asks whether mean ± one standard deviation
of the difference over seeds stays on one side of zero, not whether the mean alone does.
"""
from __future__ import annotations

import streamlit as st

from core.models import ARCHITECTURES
from core.runs import distill_figures as figs
from core.runs import results
from views._distill_results import pct


def _measured_note(m: dict, what: str) -> str:
    return (f"Measured with `python -m bench.distill` on {m.get('measured', '?')} ({len(m['seeds'])} seeds, "
            f"{m.get('cpus', '?')} CPU cores, {m.get('jobs', 1)} run(s) at a time): {what}")


def _measured(part: str) -> dict | None:
    """The bench's figures for ``part`` of bench/results/distill.json, or None (with a note saying how to get them)."""
    m = figs.measured().get(part)
    if not m:
        st.caption("Not measured over seeds yet: `python -m bench.distill` writes bench/results/distill.json.")
    return m or None


def measured_kd() -> None:
    """Knowledge distillation at the page's defaults: the table over seeds and its verdict."""
    if not (m := _measured("kd")):
        return
    s = m["setting"]
    st.markdown(f"**Measured at these defaults** (teacher: {s['teacher']}, {pct(s['teacher_test_acc'])} test; "
                f"student {ARCHITECTURES[s['student']].title}, {s['student_epochs']} epochs, T = {s['temperature']:g}, "
                f"α = {s['alpha']:g}): distillation **{figs.verdict(m['diff'])}** (mean ± standard deviation "
                "over seeds).")
    st.dataframe(figs.measured_kd_rows(m), hide_index=True, key="distill_measured")
    st.caption(_measured_note(m, "CPU time is the run's own process time with one thread, about its duration "
                              "on an idle machine (the teacher's forward is the difference)."))


def measured_self_train() -> None:
    """Self-training at the page's defaults: the table over seeds, its verdict, and the no-pseudo-label control."""
    if not (m := _measured("self_train")):
        return
    s = m["setting"]
    st.markdown(f"**Measured at these defaults** ({s['labelled_per_class']} labelled images per class, threshold "
                f"{s['threshold']:g}, {s['iterations']} student generations, ≤ {s['max_steps']} steps per stage): "
                f"self-training **{figs.verdict(m['gain'])}** — last student minus the stage-0 teacher "
                f"{100 * m['gain']['mean']:+.1f} ± {100 * m['gain']['sd']:.1f} points.")
    st.dataframe(figs.measured_selftrain_rows(m), hide_index=True, key="st_measured")
    kept = [a for a in m.get("acc_kept", []) if a]
    if figs.verdict(m["gain"]) != "helped" and kept:
        st.markdown(f"The kept pseudo-labels were {pct(min(a['mean'] for a in kept))}–"
                    f"{pct(max(a['mean'] for a in kept))} right: the wrong rest are training labels too, and a "
                    "student learns the teacher's mistakes as facts (confirmation bias). A higher threshold keeps "
                    "fewer, cleaner ones; the confidence histogram of a run shows where it cuts.")
    control = figs.measured().get("self_train_control")
    effect = figs.pseudo_label_effect(m, control) if control else None
    if effect:
        c_gain = control["gain"]
        st.markdown(f"**Control**: the same first student with the same noise (RandAugment) but no pseudo-label "
                    f"(threshold 1.0) scores {100 * c_gain['mean']:+.1f} ± {100 * c_gain['sd']:.1f} points against "
                    f"the teacher. The pseudo-labels themselves add {100 * effect['mean']:+.1f} ± "
                    f"{100 * effect['sd']:.1f} points (stage 1 with them minus without, same seeds): "
                    f"they **{figs.verdict(effect)}**.")
    cpu, wall = (m.get("cpu_s") or {}).get("mean"), (m.get("wall_s") or {}).get("mean")
    st.caption(_measured_note(m, (f"a whole run took {results.format_seconds(cpu)} of CPU time (its own process "
                                  "time with one thread, about its duration on an idle machine)" if cpu else
                                  "CPU time not recorded")
                              + (f"; wall time on the busy machine {results.format_seconds(wall)}." if wall else ".")))
