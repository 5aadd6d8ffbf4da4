"""The README's distillation / self-training table is a snapshot of bench/results/distill.json: it must say what
the file says (a remeasurement that changes the file fails here until the README is updated with it)."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pm(stat: dict, scale: float = 100) -> str:
    return f"{scale * stat['mean']:.1f} ± {scale * stat['sd']:.1f}"


def test_readme_table_matches_the_measured_file():
    m = json.loads((ROOT / "bench" / "results" / "distill.json").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().split(" (")[0]: line for line in readme.splitlines()
            if line.startswith("| ") and line.count("|") == 5}
    kd, st, ctl = m["kd"], m["self_train"], m["self_train_control"]
    assert f"teacher {100 * kd['setting']['teacher_test_acc']:.1f} %" in rows["KD"]
    assert f"student alone {_pm(kd['plain_acc'])} %" in rows["KD"]
    assert f"| {_pm(kd['kd_acc'])} % |" in rows["KD"]
    assert f"{_pm(kd['diff']).replace('-', '−')} points" in rows["KD"]
    teacher = _pm(st["stage_acc"][0])
    assert f"stage-0 teacher {teacher} %" in rows["Self-training"]
    assert f"{_pm(st['stage_acc'][1])} %, then {_pm(st['stage_acc'][2])} %" in rows["Self-training"]
    assert f"{100 * st['gain']['mean']:+.1f}".replace("-", "−") in rows["Self-training"]
    assert f"{_pm(ctl['stage_acc'][1])} %" in rows["Noise-only control"]
    assert f"{100 * ctl['gain']['mean']:+.1f}".replace("-", "−") in rows["Noise-only control"]
