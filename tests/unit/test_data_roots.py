"""core.data.roots: server folders only under the allowed data roots (issue 13, finding 1; reliability.md 24)."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from core.data import roots
from core.data.errors import DataError
from core.data.roots import FolderNotAllowed, allowed_roots, check_config, check_server_folder, is_allowed
from core.train.config import TrainConfig


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A data folder with one imported data set and one plain folder, and an outside folder with images."""
    data = tmp_path / "data"
    (data / "folders" / "pets" / "cat").mkdir(parents=True)
    (data / "mine" / "dog").mkdir(parents=True)
    outside = tmp_path / "outside" / "photos"
    (outside / "cat").mkdir(parents=True)
    monkeypatch.setenv("CNNPG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNPG_DATA_DIR", str(data))
    monkeypatch.delenv(roots.ENV_VAR, raising=False)
    monkeypatch.chdir(data / "mine")
    return data.resolve(), outside.resolve()


def test_default_root_is_the_apps_data_folder(env):
    data, _ = env
    assert allowed_roots() == [data]


def test_instructor_adds_roots_with_the_environment_variable(env, monkeypatch, tmp_path):
    data, outside = env
    monkeypatch.setenv(roots.ENV_VAR, os.pathsep.join(["", str(outside.parent), " ", str(data), "~"]))
    assert allowed_roots() == [data, outside.parent, Path.home().resolve()]  # deduplicated, empty entries dropped
    assert check_server_folder(str(outside)) == outside


@pytest.mark.parametrize("typed", ["/", "~", "../../..", "/usr/share", "/etc", "~/", "/proc/self/root", "../../../.."])
def test_folders_outside_every_root_are_refused_with_where_they_may_live(env, typed):
    data, _ = env
    with pytest.raises(FolderNotAllowed) as err:
        check_server_folder(typed)
    message = str(err.value)
    assert str(data) in message and roots.ENV_VAR in message
    assert typed not in message.replace(str(data), "")  # the typed text is never echoed (it is rendered as Markdown)


def test_dotdot_is_resolved_before_the_check(env):
    data, outside = env
    sneaky = str(data / "folders" / ".." / ".." / "outside" / "photos")
    assert sneaky.startswith(str(data))  # a plain prefix check on the text would let it through
    with pytest.raises(FolderNotAllowed):
        check_server_folder(sneaky)


def test_a_symlink_inside_a_root_pointing_out_is_refused(env):
    data, outside = env
    link = data / "escape"
    link.symlink_to(outside, target_is_directory=True)
    with pytest.raises(FolderNotAllowed):
        check_server_folder(str(link))
    with pytest.raises(FolderNotAllowed):
        check_server_folder(str(link / "cat"))


def test_a_symlink_loop_is_refused_not_crashing(env):
    data, _ = env
    (data / "loop").symlink_to(data / "loop")
    with pytest.raises(DataError):
        check_server_folder(str(data / "loop"))


def test_a_root_that_is_itself_a_link_is_compared_resolved(env, monkeypatch, tmp_path):
    _, outside = env
    link_root = tmp_path / "link-root"
    link_root.symlink_to(outside.parent, target_is_directory=True)
    monkeypatch.setenv(roots.ENV_VAR, str(link_root))
    assert check_server_folder(str(link_root / "photos")) == outside


def test_folders_inside_the_data_folder_and_imported_names_pass(env):
    data, _ = env
    assert check_server_folder("pets") == data / "folders" / "pets"  # an imported data set's name
    assert check_server_folder(str(data / "mine")) == data / "mine"
    assert check_server_folder(".") == data / "mine"  # the server's working directory is inside here
    assert check_server_folder(f"  {data}/mine/../folders/pets  ") == data / "folders" / "pets"
    assert is_allowed(data) and not is_allowed("/")


def test_allowed_but_missing_folder_and_empty_input(env):
    data, _ = env
    with pytest.raises(DataError, match="folder not found") as err:
        check_server_folder(str(data / "nope"))
    assert not isinstance(err.value, FolderNotAllowed)
    for empty in ("", "   ", None, "a\x00b"):
        with pytest.raises(DataError, match="choose a folder"):
            check_server_folder(empty)


def test_the_check_lists_nothing(env, monkeypatch):
    """Refusing (or accepting) must not walk the folder: ``/`` used to be walked whole before any limit."""
    calls = []
    monkeypatch.setattr(os, "walk", lambda *a, **k: calls.append(("walk", a)) or iter(()))
    monkeypatch.setattr(os, "scandir", lambda *a, **k: calls.append(("scandir", a)) or iter(()))
    monkeypatch.setattr(os, "listdir", lambda *a, **k: calls.append(("listdir", a)) or [])
    with pytest.raises(FolderNotAllowed):
        check_server_folder("/")
    check_server_folder("pets")
    assert calls == []


def test_check_config_gates_the_train_pages_folder(env):
    data, outside = env
    shapes = TrainConfig()
    assert check_config(shapes) is shapes
    imported = replace(TrainConfig(), dataset="folder", dataset_options={"path": "pets"})
    assert check_config(imported) is imported  # a name stays a name (the run's config shows it)
    typed = replace(TrainConfig(), dataset="folder", dataset_options={"path": f"{data}/folders/../mine"})
    checked = check_config(typed)
    assert checked.dataset_options == {"path": str(data / "mine")} and typed.dataset_options["path"].endswith("mine")
    with pytest.raises(FolderNotAllowed):
        check_config(replace(TrainConfig(), dataset="folder", dataset_options={"path": str(outside)}))


def test_core_datas_opener_stays_unrestricted_for_the_cli(env):
    """The CLI on a user's own machine keeps opening any folder: only the pages call the check."""
    from core.data.folders import resolve_folder

    _, outside = env
    assert resolve_folder(str(outside)) == outside
