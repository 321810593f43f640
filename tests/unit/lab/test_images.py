"""A lab image is rebuilt when its recipe changes (tests/lab/images.py): the digest on the image, against the recipe's."""

import dataclasses

from tests.lab.images import build_reason, recipe_digest
from tests.lab.recipes import all_recipes


def test_the_digest_is_stable_and_follows_every_part_of_the_recipe():
    for recipe in all_recipes():
        digest = recipe_digest(recipe)
        assert digest == recipe_digest(dataclasses.replace(recipe))
        changed = [
            dataclasses.replace(recipe, dockerfile=recipe.dockerfile + "\nRUN true\n"),
            dataclasses.replace(recipe, dockerfile_args={**recipe.dockerfile_args, "extra": "1"}),
            dataclasses.replace(recipe, check=recipe.check + " && true"),
            dataclasses.replace(recipe, suite="bookworm" if recipe.suite != "bookworm" else "trixie"),
        ]
        assert len({recipe_digest(other) for other in changed} | {digest}) == len(changed) + 1, recipe.repository


def test_the_mirror_image_is_built_again_unless_it_carries_the_recipes_digest():
    assert build_reason("abc", served=True, wanted="abc") is None
    assert build_reason(None, served=False, wanted="abc") == "missing"
    assert build_reason("old", served=True, wanted="abc") == "its recipe changed"
    assert build_reason(None, served=True, wanted="abc") == "built before recipes were labelled"
