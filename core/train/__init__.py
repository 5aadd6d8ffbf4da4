"""Training: ``TrainConfig`` (every setting, JSON round-trip), ``PRESETS``, and the one loop ``train()``.

    from core.train import TrainConfig, train
    result = train(TrainConfig.from_preset("shapes-tiny"))      # foreground, nothing written
    result.test["acc"], result.model                              # final test accuracy, trained network

Runs that survive refreshes and restarts go through ``core.runs`` (a run folder + a worker subprocess).
"""
from core.train.config import DEFAULT_PRESET, MODES, OPTIMIZERS, PRESETS, Preset, TrainConfig
from core.train.errors import OOM_MESSAGE, TrainError

__all__ = ["TrainConfig", "PRESETS", "Preset", "DEFAULT_PRESET", "MODES", "OPTIMIZERS", "TrainError",
           "OOM_MESSAGE", "train", "TrainResult"]


def __getattr__(name):  # the loop imports torch: load it only when asked
    if name in ("train", "TrainResult"):
        from core.train import loop  # here: the loop imports torch; `import core.train` stays light (queued workers)

        return getattr(loop, name)
    raise AttributeError(name)
