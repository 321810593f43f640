"""Shared test set-up: markers by folder, and the guard that keeps a hollow run from passing.

The collection's Python (plugins/) is imported as Ansible imports it, as
ansible_collections.ray_docker.cluster.plugins...: runner.py's bootstrap links this checkout into .venv.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every test skipped fails like no test run; per-marker counts for `python3 -m tests --ci`.
pytest_plugins = ["tests.guard"]
MARKERS = ("unit", "lint", "e2e", "molecule")


def pytest_collection_modifyitems(items):
    """Mark each test by the top folder under tests/, so `pytest -m unit` is the fast inner loop."""
    for item in items:
        parts = Path(item.fspath).relative_to(ROOT / "tests").parts
        if parts and parts[0] in MARKERS:
            item.add_marker(getattr(pytest.mark, parts[0]))
