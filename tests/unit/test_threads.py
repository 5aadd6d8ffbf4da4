"""core.threads: the torch thread policy of the server and the training workers (issue 13, finding 3)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.errors import InputError
from core.threads import ENV_VARS, apply_thread_policy, available_cores, thread_policy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    old = torch.get_num_threads()
    yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("cores,server,worker", [(1, 1, 1), (2, 1, 1), (4, 1, 3), (8, 2, 6), (16, 4, 12), (64, 16, 48)])
def test_policy_shares_the_cores(cores, server, worker):
    assert thread_policy("server", cores) == server and thread_policy("worker", cores) == worker
    # together they never oversubscribe a machine with more than one core
    assert cores == 1 or server + worker <= cores


def test_environment_overrides_and_bad_values(monkeypatch):
    monkeypatch.setenv("CNNPG_THREADS_SERVER", " 3 ")
    assert thread_policy("server", 2) == 3 and thread_policy("worker", 2) == 1
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv("CNNPG_THREADS_WORKER", bad)
        with pytest.raises(InputError, match="CNNPG_THREADS_WORKER"):
            thread_policy("worker")
    with pytest.raises(InputError, match="role"):
        thread_policy("browser")


def test_apply_sets_torch_threads_in_this_process(monkeypatch):
    n = apply_thread_policy("server")
    assert n == thread_policy("server", available_cores()) == torch.get_num_threads()
    monkeypatch.setenv("CNNPG_THREADS_SERVER", "2")
    assert apply_thread_policy("server") == 2 == torch.get_num_threads()


@pytest.mark.slow  # a fresh Python process importing torch
def test_a_fresh_process_gets_both_pools_set():
    """At process start (where the app and the worker call it) the inter-op pool is sized too."""
    code = ("import os, torch; os.environ['CNNPG_THREADS_WORKER'] = '2'\n"
            "from core.threads import apply_thread_policy; apply_thread_policy('worker')\n"
            "print(torch.get_num_threads(), torch.get_num_interop_threads())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "2"]
