"""Image machinery: a Debian base made with debootstrap and imported into the engine, images built on
it from a recipe (Dockerfile + build context), checked, pushed into the mirror, and their build
leftovers removed. The recipes themselves (what to build) are in the recipes package."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .registry import MIRROR_HOST, mirror_has, mirror_label
from .util import LabError, docker_inspect, ensure_command, run, say

DEBIAN_SUITE = "bookworm"
DEBIAN_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"
BASE_IMAGE = "raylab/debian:{suite}"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUILD_STAGE_LABEL = "raylab.stage=build"
# On every image the lab pushes: the digest of the recipe it was built from, so a changed recipe is rebuilt.
RECIPE_LABEL = "raylab.recipe"


@dataclass(frozen=True)
class Recipe:
    """One image the mirror serves as repository:tag (the tag a role pins), built by ensure_image.

    dockerfile is a str.format template: {base} (the imported Debian `suite`), {label} (to put on
    build stages, so their leftovers are pruned) and dockerfile_args are filled in; literal braces
    are written doubled. prepare(cache), when given, runs before the build and returns what goes in
    the build context: {name in the context: file or directory in the cache}, hard-linked there.
    The check runs as `docker run --rm --entrypoint bash IMAGE -c CHECK` (the image needs bash); its
    output must contain every one of the expected strings."""

    repository: str
    tag: str
    dockerfile: str
    check: str
    expected: tuple[str, ...]
    suite: str = DEBIAN_SUITE
    dockerfile_args: Mapping[str, str] = field(default_factory=dict)
    prepare: Callable[[Path], Mapping[str, Path]] | None = None


def debian_mirror() -> str:
    """The Debian archive this machine's apt already reaches, so debootstrap takes the same route."""
    if DEBIAN_SOURCES.exists():
        for stanza in re.split(r"\n\s*\n", DEBIAN_SOURCES.read_text()):
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.MULTILINE)
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.MULTILINE)
            if suites and uris and DEBIAN_SUITE in suites.group(1).split():
                return uris.group(1)
    return DEFAULT_DEBIAN_MIRROR


def ensure_rootfs(cache: Path, suite: str = DEBIAN_SUITE) -> Path:
    """A Debian base as a tarball, built once with debootstrap (no registry can provide one)."""
    tarball = cache / f"debian-{suite}-rootfs.tar"
    if tarball.exists():
        return tarball
    ensure_command("debootstrap", "debootstrap")
    rootfs = cache / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    mirror = debian_mirror()
    say(f"debootstrap {suite} from {mirror} (once)")
    run(["debootstrap", "--variant=minbase", suite, rootfs, mirror])
    partial = tarball.with_name(tarball.name + ".partial")
    # apt's downloaded packages and lists (80 MB) would only slow every pull: images built on this
    # base run apt-get update themselves.
    run(["tar", "--numeric-owner", "--exclude=./var/cache/apt/archives/*.deb",
         "--exclude=./var/lib/apt/lists/*_*", "-C", rootfs, "-cf", partial, "."])
    partial.rename(tarball)
    shutil.rmtree(rootfs)
    return tarball


def ensure_base_image(cache: Path, suite: str = DEBIAN_SUITE) -> str:
    """Import the Debian base from the cached rootfs when the engine lacks it (builds remove it
    afterwards, so the engine keeps nothing the lab does not need); its name."""
    base = BASE_IMAGE.format(suite=suite)
    if not docker_inspect("image", base):
        rootfs = ensure_rootfs(cache, suite)
        say(f"importing {base}")
        run(["docker", "import", "--change", f"ENV PATH={BASE_PATH}", rootfs, base])
    return base


def build_image(ref: str, base: str, recipe: Recipe, files: Mapping[str, Path], cache: Path,
                labels: Mapping[str, str] | None = None) -> None:
    """Build recipe's image from the imported Debian base with files (see Recipe.prepare) in the
    build context.
    DOCKER_BUILDKIT=0: Debian's engine 20.10 has no buildx, and the legacy builder is enough."""
    with tempfile.TemporaryDirectory(dir=cache, prefix="build-") as context:
        # Hard links: the context lives in the cache, so big inputs (the Ray image's 110 MB of
        # wheels) are not copied.
        for name, source in files.items():
            if source.is_dir():
                shutil.copytree(source, Path(context) / name, copy_function=os.link)
            else:
                os.link(source, Path(context) / name)
        dockerfile = recipe.dockerfile.format(base=base, label=BUILD_STAGE_LABEL, **recipe.dockerfile_args)
        (Path(context) / "Dockerfile").write_text(dockerfile)
        say(f"building {ref}")
        run(["docker", "build", "--force-rm", *(f"--label={key}={value}" for key, value in (labels or {}).items()),
             "-t", ref, context],
            env={**os.environ, "DOCKER_BUILDKIT": "0"})


def check_image(ref: str, recipe: Recipe) -> None:
    """Fail before pushing if the image lacks what the project relies on (the recipe's check)."""
    # bash as the entrypoint: an image whose ENTRYPOINT is its program (Prometheus) is checked the same way.
    out = run(["docker", "run", "--rm", "--entrypoint", "bash", ref, "-c", recipe.check]).stdout
    say("image check: " + " | ".join(out.strip().splitlines()))
    missing = [text for text in recipe.expected if text not in out]
    if missing:
        raise LabError(f"{ref} is not what the project expects (missing {missing}):\n{out}")


def remove_build_images(ref: str, base: str) -> None:
    """The project's tests must pull the lab's images through the mirror starting from an engine
    that holds none of their layers, so nothing built here stays on the engine."""
    run(["docker", "rmi", ref], check=False)
    # The build stage is untagged; its label scopes the prune to the lab's own leftovers.
    run(["docker", "image", "prune", "--force", "--filter", f"label={BUILD_STAGE_LABEL}"], check=False)
    run(["docker", "rmi", base], check=False)


def recipe_digest(recipe: Recipe) -> str:
    """What the image is built from (Dockerfile template and its arguments, base suite, the check), as a digest."""
    source = {"dockerfile": recipe.dockerfile, "args": dict(recipe.dockerfile_args), "suite": recipe.suite,
              "check": recipe.check, "expected": list(recipe.expected)}
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


def build_reason(served_digest: str | None, served: bool, wanted: str) -> str | None:
    """Why the mirror's image must be built again (None: it is the recipe's)."""
    if served_digest == wanted:
        return None
    if not served:
        return "missing"
    return "its recipe changed" if served_digest else "built before recipes were labelled"


def ensure_image(recipe: Recipe, cache: Path) -> None:
    """Make the mirror serve recipe's image, building and pushing it when it is missing or was built from another
    recipe (so a warm machine never tests an old image)."""
    repository, tag, digest = recipe.repository, recipe.tag, recipe_digest(recipe)
    reason = build_reason(mirror_label(repository, tag, RECIPE_LABEL), mirror_has(repository, tag), digest)
    if reason is None:
        say(f"mirror serves {repository}:{tag}")
        return
    say(f"building {repository}:{tag}: {reason}")
    ref = f"{MIRROR_HOST}/{repository}:{tag}"
    files = recipe.prepare(cache) if recipe.prepare else {}
    base = BASE_IMAGE.format(suite=recipe.suite)
    try:
        ensure_base_image(cache, recipe.suite)
        build_image(ref, base, recipe, files, cache, labels={RECIPE_LABEL: digest})
        check_image(ref, recipe)
        say(f"pushing {ref}")
        run(["docker", "push", ref])
    finally:
        remove_build_images(ref, base)
    say(f"mirror serves {repository}:{tag}")
