"""The lab's services as one step: engine, registry mirror, and every recipe's image in the mirror."""

from __future__ import annotations

from .engine import ensure_engine
from .grafana import ensure_grafana
from .images import ensure_image
from .recipes import all_recipes
from .registry import MIRROR_URL, ensure_registry
from .util import cache_dir, locked


def ensure_up() -> str:
    """Bring the whole lab up (idempotent) and return the mirror URL; for pytest fixtures."""
    cache = cache_dir()
    with locked(cache):
        ensure_engine()
        ensure_registry(cache)
        for recipe in all_recipes():
            ensure_image(recipe, cache)
        ensure_grafana()
    return MIRROR_URL
