"""Checkpoints: a run's weights and training state, in safetensors files, committed atomically.

On disk (``run_dir``)::

    last.json / best.json   checkpoint metadata (step, metrics, ...); names the tensor files below. Replacing
                            last.json is the commit point of a checkpoint
    last.safetensors        the model weights of the last / best checkpoint: a hard link to the file under
    best.safetensors          checkpoints/, loadable by ``core.models.build(..., weights=path)``
    checkpoints/            weights-<step>-<tag>.safetensors and state-<step>-<tag>.safetensors (optimizer, RNG,
                            scaler tensors; their JSON part sits in last.json's ``train_state_json``)

A checkpoint is several files: the tensor files are written first under new names, then ``last.json`` is
replaced, then the files no metadata names any more are removed. A SIGKILL at any instant leaves a loadable
checkpoint (the old one or the new one).

Safetensors files hold tensors only, so loading one cannot run code (unlike ``torch.load`` of a pickle).

Gotcha: safetensors refuses tensors that share storage (tied weights, views) and non-contiguous ones; every
tensor is saved as an independent contiguous CPU copy.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from pathlib import Path

from core.errors import RunError
from core.runfiles.atomic import atomic_write_json, fsync_dir, read_json
from core.runfiles.layout import CKPT_DIR


def save_checkpoint(run_dir: str | os.PathLike, model_state: dict, meta: dict,
                    train_state: dict | None = None, *, best: bool = False) -> dict:
    """Write a checkpoint (``last``; also ``best`` when ``best``) and return its metadata.

    ``model_state``: a state_dict of tensors. ``train_state``: {"tensors": {name: tensor}, "json": {...}} with
    the optimizer, RNG and scaler state (see core.train.state). ``meta``: JSON (step, epoch, metrics, ...).
    """
    from safetensors.torch import save_file  # here: imports torch; a queued worker waits as a small process

    run_dir = Path(run_dir)
    ck = run_dir / CKPT_DIR
    ck.mkdir(exist_ok=True)
    step = int(meta.get("step", 0))
    tag = f"{step:08d}-{secrets.token_hex(2)}"
    weights_name = f"{CKPT_DIR}/weights-{tag}.safetensors"
    save_file(_plain_tensors(model_state), _tmp_then(run_dir / weights_name), metadata={"step": str(step)})
    _commit_tmp(run_dir / weights_name)
    meta = dict(meta, weights=weights_name, saved=time.time())
    if train_state is not None:
        state_name = f"{CKPT_DIR}/state-{tag}.safetensors"
        save_file(_plain_tensors(train_state.get("tensors", {})), _tmp_then(run_dir / state_name),
                  metadata={"step": str(step)})
        _commit_tmp(run_dir / state_name)
        meta["state"] = state_name
        meta["train_state_json"] = train_state.get("json", {})
    atomic_write_json(run_dir / "last.json", meta)  # <- the commit point
    _alias(run_dir / weights_name, run_dir / "last.safetensors")
    if best:
        best_meta = {k: v for k, v in meta.items() if k not in ("state", "train_state_json")}
        atomic_write_json(run_dir / "best.json", best_meta)
        _alias(run_dir / weights_name, run_dir / "best.safetensors")
    _collect_garbage(run_dir)
    return meta


def _plain_tensors(tensors: dict) -> dict:
    # safetensors refuses views sharing storage and non-contiguous tensors: give it independent CPU copies
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items()}


def _tmp_then(final: Path) -> str:
    return str(final.with_name(f".{final.name}.tmp"))


def _commit_tmp(final: Path) -> None:
    tmp = final.with_name(f".{final.name}.tmp")
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    fsync_dir(final.parent)


def _alias(target: Path, alias: Path) -> None:
    """Atomically point ``alias`` at ``target``'s content (hard link; copy where links are not supported)."""
    tmp = alias.with_name(f".{alias.name}.{secrets.token_hex(4)}.tmp")
    try:
        os.link(target, tmp)
    except OSError:
        shutil.copyfile(target, tmp)
    os.replace(tmp, alias)
    fsync_dir(alias.parent)


def _collect_garbage(run_dir: Path) -> None:
    keep = set()
    for name in ("last.json", "best.json"):
        meta = read_json(run_dir / name, default={}) or {}
        keep.update(v for k, v in meta.items() if k in ("weights", "state") and isinstance(v, str))
    for p in (run_dir / CKPT_DIR).iterdir():
        rel = f"{CKPT_DIR}/{p.name}"
        if rel not in keep and (not p.name.startswith(".") or time.time() - p.stat().st_mtime > 3600):
            with contextlib.suppress(OSError):
                p.unlink()


def has_checkpoint(run_dir: str | os.PathLike, kind: str = "last") -> bool:
    meta = read_json(Path(run_dir) / f"{kind}.json", default=None)
    return isinstance(meta, dict) and (Path(run_dir) / str(meta.get("weights", ""))).is_file()


def checkpoint_meta(run_dir: str | os.PathLike, kind: str = "last") -> dict | None:
    meta = read_json(Path(run_dir) / f"{kind}.json", default=None)
    return meta if isinstance(meta, dict) else None


def load_checkpoint(run_dir: str | os.PathLike, kind: str = "last", *, with_train_state: bool = True) -> dict:
    """{"meta": {...}, "model": state_dict, "train_state": {"tensors", "json"} | None}; RunError if unusable."""
    from safetensors import SafetensorError  # here: torch, as in save_checkpoint
    from safetensors.torch import load_file

    run_dir = Path(run_dir)
    meta = checkpoint_meta(run_dir, kind)
    if meta is None or "weights" not in meta:
        raise RunError(f"run {run_dir.name} has no {kind} checkpoint yet")
    try:
        model = load_file(run_dir / meta["weights"])
        train_state = None
        if with_train_state and meta.get("state"):
            train_state = {"tensors": load_file(run_dir / meta["state"]), "json": meta.get("train_state_json", {})}
    except (OSError, SafetensorError) as err:
        raise RunError(f"checkpoint of run {run_dir.name} cannot be read: {err}") from None
    return {"meta": meta, "model": model, "train_state": train_state}
