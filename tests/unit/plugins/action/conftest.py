"""Every action test runs with HOME in its own temporary folder: the plugins' defaults put the cluster's secrets
(~/.config/ray-docker) and caches (~/.cache/ray-docker) under it, and no test may touch the real ones."""

import pytest

from tests.unit.plugins.action.harness import TOKEN


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return path


@pytest.fixture
def token_file(home):
    """The control node's token (harness.TOKEN) where the settings expect it by default."""
    path = home / ".config" / "ray-docker" / "ray" / "auth_token"
    path.parent.mkdir(parents=True)
    path.write_text(TOKEN + "\n")
    return path
