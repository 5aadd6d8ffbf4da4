"""core.models.sources: one weights-source object per source, and registry facts taken from it at registration."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from torchvision.models import get_model_weights

import core.models.registry as R
from core.models import sources as S

ROOT = Path(__file__).resolve().parents[2]


def test_every_entry_has_a_source_and_torchvision_sizes_are_the_weights_own():
    for spec in R.ARCHITECTURES.values():
        src = S.source_of(spec)
        assert src.kind == spec.source
        if spec.source == "torchvision":  # independent: torchvision's enum, read here directly
            w = get_model_weights(spec.tv_name).DEFAULT
            assert spec.input_size == w.transforms().crop_size[0]
            assert spec.min_input_size == max(w.meta["min_size"])
            assert src.enum(spec) is w
    assert R.get_spec("efficientnet_b3").input_size == 300  # the one whose crop differs from 224


def test_a_typed_value_that_the_weights_also_define_is_refused(monkeypatch):
    entry = {k: getattr(R.get_spec("resnet18"), k) for k in R.ArchSpec.__dataclass_fields__}
    entry.update(name="resnet18_typed", input_size=256)
    monkeypatch.setattr(R, "_ENTRIES", [])
    with pytest.raises(ValueError, match="input_size come from its weights"):
        R._register(**entry)
    entry.update(input_size=224)  # the same value as the weights: allowed (nothing can go stale)
    R._register(**entry)
    assert R._ENTRIES[0].input_size == 224


def test_sources_answer_for_entries_without_weights():
    for name in ("lenet5", "seresnet18"):
        spec = R.get_spec(name)
        src = S.source_of(spec)
        assert not spec.has_pretrained
        assert src.categories(spec) is None and src.meta(spec) == {} and src.cache_path(spec) is None
        assert src.manual_path(spec) is None and src.index_entry(spec) == {"kind": "none"}
        with pytest.raises(S.WeightsUnavailable, match="no pretrained weights"):
            src.download(spec, None, fetch=None)


def test_timm_source_names_the_hub_repo_and_the_manual_file():
    spec = R.get_spec("seresnet50")
    src = S.source_of(spec)
    assert src.hub_repo(spec) == "timm/seresnet50.a1_in1k"
    assert src.manual_path(spec).name == "seresnet50.a1_in1k.safetensors"
    assert src.download_url(spec).endswith("/timm/seresnet50.a1_in1k/resolve/main/model.safetensors")
    assert src.meta(spec)["weights"] == "seresnet50.a1_in1k" and "acc1" not in src.meta(spec)
    assert len(src.categories(spec)) == 1000


def test_download_hands_the_source_s_own_target_to_the_fetcher():
    seen = []

    class Fetch:
        def url(self, spec, url, dst, progress):
            seen.append(("url", url, dst))
            return dst

        def hub(self, spec, repo, filenames, progress):
            seen.append(("hub", repo, filenames))
            return Path("x")

    r18, se50 = R.get_spec("resnet18"), R.get_spec("seresnet50")
    S.source_of(r18).download(r18, None, Fetch())
    S.source_of(se50).download(se50, None, Fetch())
    w = get_model_weights("resnet18").DEFAULT
    assert seen[0] == ("url", w.url, S.TORCHVISION.cache_path(r18)) and seen[0][2].name == w.url.rsplit("/", 1)[1]
    assert seen[1] == ("hub", "timm/seresnet50.a1_in1k", S.HF_FILES)


@pytest.mark.parametrize("path", ["core/models/weights.py", "core/models/card.py", "core/models/preprocessing.py"])
def test_no_caller_branches_on_the_source_name(path):
    assert not re.search(r"source\s*==", (ROOT / path).read_text())
