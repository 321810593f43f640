"""Every action test runs with HOME in its own temporary folder: the plugins' defaults put the cluster's secrets
(~/.config/ray-docker) and caches (~/.cache/ray-docker) under it, and no test may touch the real ones."""

import pytest


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return path
