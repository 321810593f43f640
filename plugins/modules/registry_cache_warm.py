#!/usr/bin/python
"""Ansible module: fill the LAN image cache with images' layers before any engine pulls them."""

DOCUMENTATION = r"""
module: registry_cache_warm
short_description: Fill the LAN image cache with images' layers, each crossing the upstream link once
version_added: 1.0.0
author: ray-docker maintainers
description:
  - Runs on the cache's host. For each image, asks the cache for its manifest (the platform's one from a multi-platform
    index), then for every layer and config blob the cache does not hold yet, starts a download through the cache and
    hangs up at once, and waits until the cache has stored the blob.
  - Why - distribution 2.x, asked for a blob it lacks, fetches it from the upstream twice (once to store it, once to
    pass it on) and once more for each client asking while it is in flight. Hanging up stops the pass-on copy after
    a few kilobytes; the stored copy goes on. Engines that pull afterwards get every layer from the LAN.
  - An image the cache cannot serve (it does not run, its upstream does not have it) is reported and left to the
    engines' own pulls, which go past the cache.
options:
  port:
    description: The cache's port on 127.0.0.1.
    type: int
    required: true
  data_dir:
    description: The cache's storage root (its blobs are looked up there).
    type: path
    required: true
  images:
    description: Docker Hub images (V(repository:tag) or V(repository@digest)).
    type: list
    elements: str
    required: true
  log_file:
    description: The cache's log; a blob it reports it could not keep (its disk is full) is not waited for.
    type: path
    required: true
  timeout:
    description: Seconds to wait for the cache to store every blob.
    type: int
    default: 1800
"""

EXAMPLES = r"""
- name: Fill the cache with Ray and Redis
  ray_docker.cluster.registry_cache_warm:
    port: 5050
    data_dir: /var/lib/ray-docker/registry-cache
    log_file: /var/log/ray-docker/registry-cache.log
    images: ["rayproject/ray:2.60.0-py311-cpu", "redis:7.0.15"]
"""

RETURN = r"""
images:
  description: Per image - C(blobs) (how many it has), C(fetched) (how many the cache had to fetch now), C(error) ('' on
    success).
  type: dict
  returned: always
seconds:
  description: Time spent.
  type: float
  returned: always
"""

import http.client
import json
import os
import platform
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ray_docker.cluster.plugins.module_utils import registry_cache

MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json",
])
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}
# A blob asked for this long ago and still not kept is asked for again (its fetch was lost).
STALL_SECONDS = 120


class CacheError(Exception):
    pass


def get_json(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers={"Accept": MANIFEST_TYPES})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise CacheError(f"GET {path}: {response.status} {body[:200].decode(errors='replace').strip()}")
        return json.loads(body)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise CacheError(f"GET {path}: {exc}")
    finally:
        connection.close()


def start_and_hang_up(port, path):
    """Ask for a blob and hang up once the answer starts: the cache keeps fetching it to store it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        if response.status not in (200, 307):
            raise CacheError(f"GET {path}: {response.status}")
    except (OSError, http.client.HTTPException) as exc:
        raise CacheError(f"GET {path}: {exc}")
    finally:
        connection.close()


def blobs_of(port, repository, reference):
    """The config and layer digests of the image for this host's platform (the manifest stored on the way)."""
    manifest = get_json(port, f"/v2/{repository}/manifests/{reference}")
    if "manifests" in manifest:
        arch = ARCHITECTURES.get(platform.machine(), platform.machine())
        chosen = [entry for entry in manifest["manifests"]
                  if (entry.get("platform") or {}).get("os") == "linux"
                  and (entry.get("platform") or {}).get("architecture") == arch]
        if not chosen:
            raise CacheError(f"{repository}:{reference} has no linux/{arch} image")
        manifest = get_json(port, f"/v2/{repository}/manifests/{chosen[0]['digest']}")
    return [manifest["config"]["digest"]] + [layer["digest"] for layer in manifest.get("layers") or []
                                             if not layer.get("urls")]


def stored(data_dir, repository, digest):
    algorithm, _, hexdigest = digest.partition(":")
    return os.path.exists(os.path.join(data_dir, "docker", "registry", "v2", "repositories", repository, "_layers",
                                       algorithm, hexdigest, "link"))


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def store_errors_since(path, offset):
    """The cache's reasons for blobs it could not keep, logged since `offset`."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return registry_cache.read_access_log(text)[1]


def reference_of(name):
    repository = registry_cache.hub_repository(name)
    if "@" in name:
        return repository, name.split("@", 1)[1]
    last = name.rsplit("/", 1)[-1]
    return repository, last.split(":", 1)[1] if ":" in last else "latest"


def main():
    module = AnsibleModule(
        argument_spec={
            "port": {"type": "int", "required": True},
            "data_dir": {"type": "path", "required": True},
            "images": {"type": "list", "elements": "str", "required": True},
            "log_file": {"type": "path", "required": True},
            "timeout": {"type": "int", "default": 1800},
        },
        supports_check_mode=True,
    )
    params = module.params
    started = time.monotonic()
    report = {}
    if module.check_mode:
        module.exit_json(changed=False, images={name: {"blobs": 0, "fetched": 0, "error": ""} for name in params["images"]},
                         seconds=0.0)
    offset = log_size(params["log_file"])
    wanted = []  # (image, repository, digest) the cache lacks
    for name in params["images"]:
        repository, reference = reference_of(name)
        entry = report[name] = {"blobs": 0, "fetched": 0, "error": ""}
        try:
            digests = blobs_of(params["port"], repository, reference)
        except CacheError as exc:
            entry["error"] = str(exc)
            continue
        entry["blobs"] = len(digests)
        wanted += [(name, repository, digest) for digest in digests if not stored(params["data_dir"], repository, digest)]
    asked = {}  # (repository, digest) -> when it was last asked for
    while wanted and time.monotonic() - started < params["timeout"]:
        wanted = [item for item in wanted if not stored(params["data_dir"], item[1], item[2])]
        errors = store_errors_since(params["log_file"], offset) if wanted else []
        if errors:  # it passes blobs on without keeping them: the engines' pulls go through it all the same
            for name, _, _ in wanted:
                report[name]["error"] = report[name]["error"] or f"the cache could not keep a blob: {errors[-1]}"
            break
        now = time.monotonic()
        names = {(repository, digest): name for name, repository, digest in wanted}
        for key in registry_cache.blobs_to_ask([(repository, digest) for _, repository, digest in wanted], asked, now,
                                               STALL_SECONDS):
            try:
                start_and_hang_up(params["port"], f"/v2/{key[0]}/blobs/{key[1]}")
            except CacheError as exc:
                report[names[key]]["error"] = report[names[key]]["error"] or str(exc)
                continue
            report[names[key]]["fetched"] += key not in asked
            asked[key] = now
        wanted = [item for item in wanted if not report[item[0]]["error"]]
        if wanted:
            time.sleep(0.5)
    for name, _, digest in wanted:
        report[name]["error"] = report[name]["error"] or f"the cache had not stored {digest} after {params['timeout']} s"
    module.exit_json(changed=any(entry["fetched"] for entry in report.values()), images=report,
                     seconds=round(time.monotonic() - started, 1))


if __name__ == "__main__":
    main()
