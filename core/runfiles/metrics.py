"""``metrics.jsonl``: one JSON record per line, append-only.

Record types: ``meta`` (once per start: total steps, classes, ...), ``train`` (every ``log_every`` steps),
``eval`` / ``test`` (a split's accuracy), ``resume`` (a restart from the checkpoint at ``step``), ``end``.

:class:`Records` derives what every reader needs from the list (the latest ``meta``, the best validation, the
step reached), so the Runs table (:func:`core.runs.store.list_runs`) and a run's live view
(:class:`core.runs.results.RunView`) cannot disagree.

Gotcha: a resumed run redoes the steps after its checkpoint, so the file holds some steps twice;
:func:`read_metrics` drops the records a ``resume`` made obsolete, so curves show each step once.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.runfiles.atomic import json_safe
from core.runfiles.layout import METRICS_FILE

STEP_RECORDS = ("train", "eval", "test", "end")


def append_metrics(run_dir: str | os.PathLike, record: dict) -> None:
    """Append one JSON line. A crash mid-write leaves at most a truncated last line, which readers skip."""
    line = json.dumps(json_safe(record), separators=(",", ":")) + "\n"
    path = Path(run_dir) / METRICS_FILE
    with open(path, "a", encoding="utf-8") as f:
        if f.tell() > 0:
            # a previous writer died mid-line: start on a fresh line so this record stays readable
            with open(path, "rb") as r:
                r.seek(-1, os.SEEK_END)
                if r.read(1) != b"\n":
                    f.write("\n")
        f.write(line)


def read_metrics(run_dir: str | os.PathLike, *, resolve_resumes: bool = True) -> list[dict]:
    """All readable records. Unparseable lines (e.g. a truncated last line) are skipped.

    With ``resolve_resumes``, records logged after the checkpoint a run resumed from are dropped (the resumed
    run redoes those steps), so curves show each step once.
    """
    out: list[dict] = []
    try:
        with open(Path(run_dir) / METRICS_FILE, "rb") as f:
            for raw in f:
                try:
                    rec = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue
                if not isinstance(rec, dict):
                    continue
                if resolve_resumes and rec.get("type") == "resume":
                    step = rec.get("step", 0)
                    out = [r for r in out if r.get("type") in ("meta",) or r.get("step", 0) <= step
                           and r.get("type") not in ("end",)]
                out.append(rec)
    except FileNotFoundError:
        pass
    return out


def last_step(records: list[dict]) -> int:
    """The step a run has reached: the one number the table, the progress bar and the status message show.

    Training records come every ``log_every`` steps, so a run cancelled at step 777 has its last one at 770;
    its ``end`` record (written with the final checkpoint) says 777. ``records``: :func:`read_metrics` output.
    """
    return max((int(r.get("step") or 0) for r in records if r.get("type") in STEP_RECORDS), default=0)


class RecordViews:
    """What a run's metrics records say, derived one way for every reader. Subclasses hold ``records``."""

    records: list[dict]

    def _latest(self, kind: str) -> dict | None:
        return next((r for r in reversed(self.records) if r.get("type") == kind), None)

    @property
    def meta(self) -> dict:
        """The latest ``meta`` record. A self-training run writes one per stage, each with the steps of the stages
        so far as ``total_steps``; a resumed run writes one per start."""
        return self._latest("meta") or {}

    @property
    def train(self) -> list[dict]:
        return [r for r in self.records if r.get("type") == "train"]

    @property
    def evals(self) -> list[dict]:
        return [r for r in self.records if r.get("type") == "eval"]

    @property
    def test(self) -> dict | None:
        return self._latest("test")

    @property
    def phase(self) -> dict | None:
        return self._latest("phase")

    @property
    def classes(self) -> list[str]:
        return list(self.meta.get("classes") or [])

    @property
    def best_val(self) -> dict:
        """The validation record with the highest accuracy, or {}."""
        return max((r for r in self.evals if r.get("split") == "val" and r.get("acc") is not None),
                   key=lambda r: r["acc"], default={})

    @property
    def step(self) -> int:
        return last_step(self.records)


@dataclass
class Records(RecordViews):
    """A bare list of records (:func:`read_metrics` output) with :class:`RecordViews`' derivations."""

    records: list[dict]
