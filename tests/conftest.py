"""Shared test set-up: markers by folder, and the guard that keeps a hollow run from passing.

The collection's Python (plugins/) is imported as Ansible imports it, as
ansible_collections.ray_docker.cluster.plugins...: runner.py's bootstrap links this checkout into .venv.
"""

from pathlib import Path

from tests.layers import marker_of

ROOT = Path(__file__).resolve().parent.parent
# Every test skipped fails like no test run; per-marker counts for `python3 -m tests --ci`.
pytest_plugins = ["tests.guard"]


def pytest_collection_modifyitems(items):
    """Mark each test by its layer's folder (tests/layers.py), so `pytest -m unit` is the fast inner loop."""
    for item in items:
        marker = marker_of(Path(item.fspath).relative_to(ROOT))
        if marker:
            item.add_marker(marker)
