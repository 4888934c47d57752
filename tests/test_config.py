"""Tests of cladec.config: where the cache lives, the profile name, the data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from cladec import config


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """No cladec or XDG variable set, and a home folder of the test's own."""
    for name in ("CLADEC_HOME", "XDG_CACHE_HOME", "CLADEC_DATA", "CLADEC_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))  # Path.home() reads HOME on POSIX
    monkeypatch.setenv("USERPROFILE", str(home))  # and USERPROFILE on Windows
    return home


def test_home_defaults_to_dot_cache(bare_env):
    assert config.cladec_home() == bare_env / ".cache" / "cladec"


def test_home_follows_xdg_cache_home(bare_env, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert config.cladec_home() == tmp_path / "xdg" / "cladec"


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_xdg_cache_home_is_unset(bare_env, monkeypatch, value):
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    assert config.cladec_home() == bare_env / ".cache" / "cladec"


def test_relative_xdg_cache_home_is_ignored(bare_env, monkeypatch):
    # The XDG specification says relative paths are invalid; a relative cache
    # would silently move with the working directory.
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert config.cladec_home() == bare_env / ".cache" / "cladec"


def test_cladec_home_wins_over_xdg(bare_env, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("CLADEC_HOME", str(tmp_path / "mine"))
    assert config.cladec_home() == tmp_path / "mine"


def test_cladec_home_expands_the_user(bare_env, monkeypatch):
    monkeypatch.setenv("CLADEC_HOME", "~/models")
    assert config.cladec_home() == bare_env / "models"


def test_home_is_read_at_every_call(bare_env, monkeypatch, tmp_path):
    before = config.cladec_home()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "later"))
    assert config.cladec_home() != before
    assert config.cladec_home() == tmp_path / "later" / "cladec"


def test_home_is_not_created(bare_env, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert not config.cladec_home().exists()
    assert not (tmp_path / "xdg").exists()


def test_data_dir(bare_env, monkeypatch, tmp_path):
    assert config.data_dir() is None
    monkeypatch.setenv("CLADEC_DATA", str(tmp_path))
    assert config.data_dir() == Path(tmp_path)


def test_profile_name(bare_env, monkeypatch):
    assert config.profile_name() == "full"
    monkeypatch.setenv("CLADEC_PROFILE", " Quick ")
    assert config.profile_name() == "quick"
    assert config.profile_name("full") == "full"
    monkeypatch.setenv("CLADEC_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"CLADEC_PROFILE='fast'.*full, quick"):
        config.profile_name()
