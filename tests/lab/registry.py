"""The registry mirror: Debian's CNCF registry on this machine, serving the images the lab pushes."""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from .util import ensure_command, run, say, wait_until

MIRROR_URL = "http://127.0.0.1:5000"
# Image names pushed into the mirror start with its address (loopback registries need no TLS).
MIRROR_HOST = "127.0.0.1:5000"
REGISTRY_BIN = "/usr/bin/docker-registry"
REGISTRY_TIMEOUT = 30
MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
])

# The mirror is on loopback: never send its requests through an HTTP proxy from the environment.
_local_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _mirror_get(path: str, headers: dict | None = None) -> bool:
    request = urllib.request.Request(MIRROR_URL + path, headers=headers or {})
    try:
        with _local_http.open(request, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _mirror_json(path: str, headers: dict | None = None) -> dict | None:
    request = urllib.request.Request(MIRROR_URL + path, headers=headers or {})
    try:
        with _local_http.open(request, timeout=10) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def mirror_label(repository: str, tag: str, label: str) -> str | None:
    """A label of the image the mirror serves as repository:tag (from its config blob), None when absent. The lab
    pushes single-platform images, so the manifest points at the config directly."""
    manifest = _mirror_json(f"/v2/{repository}/manifests/{tag}", {"Accept": MANIFEST_TYPES}) or {}
    digest = (manifest.get("config") or {}).get("digest")
    config = _mirror_json(f"/v2/{repository}/blobs/{digest}") if digest else None
    return (((config or {}).get("config") or {}).get("Labels") or {}).get(label)


def tag_in_mirror(repository: str, tag: str, new_tag: str) -> None:
    """Serve the image repository:tag under a second tag as well (its manifest put again; no layer moves)."""
    request = urllib.request.Request(f"{MIRROR_URL}/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES})
    with _local_http.open(request, timeout=10) as response:
        manifest, media_type = response.read(), response.headers["Content-Type"]
    put = urllib.request.Request(f"{MIRROR_URL}/v2/{repository}/manifests/{new_tag}", data=manifest, method="PUT",
                                 headers={"Content-Type": media_type})
    with _local_http.open(put, timeout=10) as response:
        if response.status != 201:
            raise OSError(f"the mirror answered {response.status} to tagging {repository}:{tag} as {new_tag}")


def ray_versions(repository: str = "rayproject/ray") -> list[str]:
    """The Ray versions the mirror serves images of (tags like 2.60.0-py311-cpu), oldest first."""
    tags = (_mirror_json(f"/v2/{repository}/tags/list") or {}).get("tags") or []
    found = {match.group(1) for tag in tags if (match := re.fullmatch(r"(\d+\.\d+\.\d+)-py\d+-cpu", tag))}
    return sorted(found, key=lambda version: tuple(int(part) for part in version.split(".")))


def registry_answers() -> bool:
    return _mirror_get("/v2/")


def mirror_has(repository: str, tag: str) -> bool:
    """True when the mirror can serve repository:tag (what `docker pull` asks it for)."""
    return _mirror_get(f"/v2/{repository}/manifests/{tag}", {"Accept": MANIFEST_TYPES})


def registry_paths(cache: Path) -> dict[str, Path]:
    return {
        "config": cache / "registry.yml",
        "storage": cache / "registry",
        "pidfile": cache / "registry.pid",
        "log": cache / "registry.log",
    }


def write_registry_config(paths: dict[str, Path]) -> None:
    """JSON is valid YAML, so the registry's config needs no YAML library. Storage lives in the
    cache so pushed images survive `down` and new checkouts."""
    config = {
        "version": "0.1",
        "log": {"level": "info"},
        "storage": {"filesystem": {"rootdirectory": str(paths["storage"])}},
        "http": {"addr": "0.0.0.0:5000"},
    }
    paths["config"].write_text(json.dumps(config, indent=2) + "\n")


def ensure_registry(cache: Path) -> None:
    """Run Debian's CNCF registry on 0.0.0.0:5000 (lab hosts reach it through the bridge gateway)."""
    if registry_answers():
        say(f"registry answering at {MIRROR_URL}")
        return
    binary = ensure_command("docker-registry", "docker-registry")
    paths = registry_paths(cache)
    write_registry_config(paths)
    say(f"starting registry (log: {paths['log']})")
    run(["start-stop-daemon", "--start", "--background", "--oknodo", "--make-pidfile",
         "--pidfile", paths["pidfile"], "--output", paths["log"], "--exec", binary,
         "--", "serve", paths["config"]])
    wait_until(registry_answers, REGISTRY_TIMEOUT,
               f"registry did not answer within {REGISTRY_TIMEOUT} s; see {paths['log']}")
    say(f"registry answering at {MIRROR_URL}")


def stop_registry(cache: Path) -> None:
    """Stop only the registry the lab started (by its pid file)."""
    pidfile = registry_paths(cache)["pidfile"]
    if pidfile.exists():
        run(["start-stop-daemon", "--stop", "--oknodo", "--retry", "10", "--pidfile", pidfile,
             "--exec", shutil.which("docker-registry") or REGISTRY_BIN])
        pidfile.unlink()
        say("registry stopped")
    else:
        say("no lab registry running")
    if registry_answers():
        say(f"something not started by the lab still answers at {MIRROR_URL}; left alone")
