"""The images the lab builds and pushes into its mirror, one small recipe per module.

A recipe module has a recipe() function returning an images.Recipe with the repository and tag its
role pins, read at each call so an edited pin is honoured. To add an image, add a module here and
list its recipe in all_recipes()."""

from __future__ import annotations

from ..images import Recipe
from . import prometheus_image, ray_image, redis_image, registry_image


def all_recipes() -> list[Recipe]:
    """Every image the mirror must serve, as the roles pin them now, and one older Ray for the upgrade tests."""
    return [ray_image.recipe(), ray_image.recipe(ray_image.OLDER_RAY_VERSION), redis_image.recipe(),
            prometheus_image.recipe(), registry_image.recipe()]
