"""Shared fixtures: load the project's Ansible plugins as plain Python for unit tests."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every test skipped fails like no test run; per-marker counts for `python3 -m tests --ci`.
pytest_plugins = ["tests.guard"]


def load_source(name, relative_path):
    """Import a plugin file (filter plugin, module_utils, module) that lives outside any package."""
    spec = importlib.util.spec_from_file_location(name, ROOT / relative_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def docker_daemon():
    return load_source("docker_daemon_filters", "filter_plugins/docker_daemon.py")


@pytest.fixture(scope="session")
def ray_filters():
    return load_source("ray_cluster_filters", "filter_plugins/ray_cluster.py")


def pytest_collection_modifyitems(items):
    """Mark each test by its folder, so `pytest -m unit` is the fast inner loop."""
    for item in items:
        folder = Path(item.fspath).parent.name
        if folder in ("unit", "lint", "e2e", "molecule"):
            item.add_marker(getattr(pytest.mark, folder))


@pytest.fixture(scope="session")
def load_module_utils():
    return load_source("docker_engine_api", "module_utils/docker_engine_api.py")
