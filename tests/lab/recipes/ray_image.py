"""The Ray image: mimics the official rayproject/ray where the project relies on it, built from
Debian packages and PyPI wheels, at the repository and tag the ray role pins."""

from __future__ import annotations

import importlib.util
import platform
import re
import shutil
import sys
from pathlib import Path

from ..images import DEBIAN_SUITE, Recipe
from ..util import ROLES, apt_install, role_default, run, say

# Used until the ray role exists, so the lab works on its own.
FALLBACK_IMAGE = ("rayproject/ray", "2.60.0-py311-cpu", "2.60.0")
# One older real Ray the mirror also serves, built the same way, for the upgrade tests (token auth needs >= 2.52).
OLDER_RAY_VERSION = "2.59.0"
# Debian 12's python3 is what runs Ray in the image, so wheels are chosen for it, not for the
# interpreter running this script: CPython 3.11 and glibc 2.36.
IMAGE_PYTHON = "3.11"
IMAGE_GLIBC_MINOR = 36

DOCKERFILE = """\
# Mimics the parts of the official rayproject/ray image the project relies on: user ray
# (uid 1000, gid 100 "users"), HOME /home/ray, ray and python on PATH from /home/ray/anaconda3.
FROM {base} AS base
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      python3 python3-venv procps ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 1000 --gid 100 --create-home --home-dir /home/ray --shell /bin/bash ray

# The wheels come from the host because pip inside containers cannot verify PyPI's certificate
# here. Installing in a separate stage keeps the wheel files out of the final image's layers.
FROM base AS build
LABEL {label}
COPY --chown=1000:100 wheels /tmp/wheels
USER ray
RUN python3 -m venv /home/ray/anaconda3 \\
 && /home/ray/anaconda3/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels \\
      "ray[default]=={version}"

FROM base
COPY --from=build --chown=1000:100 /home/ray/anaconda3 /home/ray/anaconda3
ENV PATH=/home/ray/anaconda3/bin:$PATH HOME=/home/ray LANG=C.UTF-8
USER ray
WORKDIR /home/ray
CMD ["bash"]
"""


def pinned_image() -> tuple[str, str, str]:
    """(repository, tag, ray_version) the project deploys, read from the roles' defaults so the mirror always
    serves exactly what the roles pull."""
    if not (ROLES / "ray_image").exists():
        return FALLBACK_IMAGE
    version = role_default("ray", "ray_version")
    tag = re.sub(r"\{\{\s*ray_version\s*\}\}", version, role_default("ray_image", "ray_image_tag"))
    return role_default("ray_image", "ray_image_repository"), tag, version


def ensure_wheels(cache: Path, ray_version: str) -> Path:
    """ray[default] and its dependencies as wheels for the image's Python, downloaded once on the
    host (pip inside containers fails TLS verification here). Renamed into place only when complete."""
    target = cache / "wheels" / f"ray-{ray_version}"
    if target.is_dir():
        return target
    if importlib.util.find_spec("pip") is None:
        apt_install("python3-pip")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    arch = platform.machine()
    platforms = [f"manylinux_2_{minor}_{arch}" for minor in range(5, IMAGE_GLIBC_MINOR + 1)]
    platforms.append(f"manylinux2014_{arch}")  # pip widens it to manylinux2010 and manylinux1
    say(f"downloading ray[default]=={ray_version} wheels (once)")
    run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", partial,
         "--only-binary=:all:", "--implementation", "cp", "--python-version", IMAGE_PYTHON,
         "--abi", "cp" + IMAGE_PYTHON.replace(".", ""),
         *(arg for name in platforms for arg in ("--platform", name)),
         f"ray[default]=={ray_version}"])
    partial.rename(target)
    return target


def recipe(ray_version: str | None = None) -> Recipe:
    """The pinned Ray image (or the same image of another Ray version), with the wheels in its build context."""
    repository, tag, pinned_version = pinned_image()
    if ray_version and ray_version != pinned_version:
        tag = tag.replace(pinned_version, ray_version, 1)
    ray_version = ray_version or pinned_version
    return Recipe(
        repository=repository,
        tag=tag,
        suite=DEBIAN_SUITE,  # the image's python3 is Debian 12's (IMAGE_PYTHON)
        dockerfile=DOCKERFILE,
        dockerfile_args={"version": ray_version},
        prepare=lambda cache: {"wheels": ensure_wheels(cache, ray_version)},
        # What the project relies on from the official image.
        check="ray --version && python --version && id && echo HOME=$HOME",
        expected=(f"version {ray_version}", "Python 3.", "uid=1000(", "gid=100(", "HOME=/home/ray"),
    )
