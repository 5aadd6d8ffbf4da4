"""What the home page reports: the compute device and the state of the pretrained-weights cache."""
from __future__ import annotations

from dataclasses import dataclass, field

from core.device import DeviceInfo, device_info


@dataclass
class Overview:
    device: DeviceInfo
    torch_version: str
    weights: dict[str, str] = field(default_factory=dict)  # arch name -> cached | downloadable | unavailable

    @property
    def weights_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for status in self.weights.values():
            counts[status] = counts.get(status, 0) + 1
        return counts


def overview() -> Overview:
    """Device and weights-cache status, computed now (nothing typed in). Looks at caches only: no download."""
    import torch

    from core.models import ARCHITECTURES, weights_status

    return Overview(
        device=device_info(),
        torch_version=torch.__version__,
        weights={name: weights_status(name) for name in ARCHITECTURES},
    )
