"""Grafana in the lab, when it can be had: no package source this machine reaches carries a Grafana
server (not Debian, PyPI or npm), so the lab serves grafana/grafana only when RAYLAB_GRAFANA_ARCHIVE
names a `docker save` archive of the pinned image (made on a machine that reaches Docker Hub:
`docker pull grafana/grafana:<tag> && docker save grafana/grafana:<tag> -o grafana.tar`). Without
it, deployments in the lab leave Grafana out (ray_monitoring_grafana_enabled: false) and the tests
that need it skip, saying why."""

from __future__ import annotations

import os
from pathlib import Path

from .registry import MIRROR_HOST, mirror_has
from .util import LabError, pinned_reference, run, say

ARCHIVE_VARIABLE = "RAYLAB_GRAFANA_ARCHIVE"


def pinned_image() -> tuple[str, str]:
    return pinned_reference("ray_grafana_image")


def ensure_grafana() -> bool:
    """Push the archive's Grafana into the mirror when one is given and the mirror lacks it; whether the
    mirror serves the pinned Grafana now."""
    repository, tag = pinned_image()
    if mirror_has(repository, tag):
        return True
    archive = os.environ.get(ARCHIVE_VARIABLE, "")
    if not archive:
        return False
    if not Path(archive).is_file():
        raise LabError(f"{ARCHIVE_VARIABLE}={archive}: no such file")
    say(f"loading {archive} and pushing {repository}:{tag} into the mirror")
    run(["docker", "load", "-i", archive])
    ref = f"{MIRROR_HOST}/{repository}:{tag}"
    run(["docker", "tag", f"{repository}:{tag}", ref])
    try:
        run(["docker", "push", ref])
    finally:
        run(["docker", "rmi", ref, f"{repository}:{tag}"], check=False)
    return mirror_has(repository, tag)


def serves_grafana() -> bool:
    repository, tag = pinned_image()
    return mirror_has(repository, tag)


def grafana_tests_skip_reason(served: bool, archive: str) -> str | None:
    """Whether the Grafana tests run, decided once the lab is up (the archive pushed): None to run them, else why
    they skip. An archive given but not served is a broken lab, never a skip."""
    repository, tag = pinned_image()
    if served:
        return None
    if archive:
        raise LabError(f"{ARCHIVE_VARIABLE}={archive} was given, yet the lab's mirror serves no {repository}:{tag}")
    return (f"the lab's mirror serves no Grafana: no package source this machine reaches carries a Grafana server; "
            f"set {ARCHIVE_VARIABLE} to a `docker save` archive of {repository}:{tag} to run these")


def deploy_vars(mirror: str) -> dict:
    """What every test deployment on this machine passes: the lab mirror, and Grafana only when the mirror
    serves it."""
    return {"docker_registry_mirrors": [mirror], "ray_monitoring_grafana_enabled": serves_grafana()}


def ensure_standin() -> str:
    """The mirror serves the Grafana stand-in (tests/lab/recipes/grafana_standin.py); its reference."""
    from .images import ensure_image
    from .recipes import grafana_standin
    from .util import cache_dir

    recipe = grafana_standin.recipe()
    ensure_image(recipe, cache_dir())
    return f"{recipe.repository}:{recipe.tag}"
