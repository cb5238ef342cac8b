"""The corpus-index cache falls back to a private temporary folder: 0700, owned by the user,
never a folder or link someone else put at the predictable path."""

import os
import stat
import tempfile

import pytest

from ct.data.corpus_index import usable_cache_dir


@pytest.fixture
def unusable(tmp_path, monkeypatch):
    """A requested cache that cannot be a folder (a file is in the way), and a private tmp."""
    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    return blocker / "cache", shared_tmp / f"ct-corpus-index-{os.getuid()}"


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_fallback_is_created_private_and_reused(unusable):
    requested, predictable = unusable
    first = usable_cache_dir(requested)
    assert first == predictable and _mode(first) == 0o700
    assert usable_cache_dir(requested) == predictable


@pytest.mark.parametrize("planted", ["open folder", "symlink"])
def test_a_planted_fallback_is_not_used(unusable, tmp_path, planted):
    requested, predictable = unusable
    elsewhere = tmp_path / "attacker"
    elsewhere.mkdir()
    if planted == "symlink":
        predictable.symlink_to(elsewhere, target_is_directory=True)
    else:
        predictable.mkdir(mode=0o777)
        os.chmod(predictable, 0o777)
    chosen = usable_cache_dir(requested)
    assert chosen != predictable and chosen.parent == predictable.parent
    assert chosen.name.startswith("ct-corpus-index-") and _mode(chosen) == 0o700
    assert list(elsewhere.iterdir()) == []
