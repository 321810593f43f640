"""Your packages on every node: an image derived from the pinned Ray image, built once, shared over the LAN.

Pure functions over settings and file contents (tests/unit/plugins/module_utils/test_derived_image.py):
whether the nodes run a derived image, its name (a digest of every input, so the same inputs never build twice),
the host that builds it, the Dockerfile and build files, and what a failed build's log says about the culprit.

On one Ray host the image is built there and stays local. In a lab it is built on the LAN cache's host (else the
head's host) and pushed into a LAN registry there (a `registry` container, push-enabled, beside the pull-through
cache); every other host pulls it from the LAN. Every engine lists that registry as an insecure (plain HTTP)
registry, as it does the cache.
"""

import hashlib
import json
import re

from ansible_collections.ray_docker.cluster.plugins.module_utils import registry_cache

# A requirement as pip reads it on one line: a name, extras, version specifiers, an environment marker.
# No options, URLs or paths: those belong in ray_image_requirements_file or a Dockerfile.
REQUIREMENT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\[[A-Za-z0-9._, -]+\])?"
                         r"(?:\s*(?:===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+(?:\s*,\s*(?:===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+)*)?"
                         r"(?:\s*;\s*[A-Za-z0-9_.'\" <>=!()-]+)?")
MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
REPOSITORY = "ray-docker/ray"
USER_STAGE_REPOSITORY = "ray-docker/ray-user"
# `docker images` patterns of every image the project builds: on one host, pulled from a LAN registry, a user's stage.
REFERENCES = (REPOSITORY, f"*/{REPOSITORY}", USER_STAGE_REPOSITORY)
# Where the image keeps what the check imports on every node (written at build time, read by the check job).
IMAGE_RECORD = "/home/ray/.ray-docker/image.json"
# The official image's user, who owns its Python environment.
IMAGE_USER = "1000:100"
INPUT_VARIABLES = ("ray_image_pip_packages", "ray_image_requirements_file", "ray_image_apt_packages",
                   "ray_image_dockerfile")


def customized(settings):
    """Whether the nodes run a derived image: any package list, requirements file or Dockerfile set."""
    return any(settings.get(name) for name in INPUT_VARIABLES)


def requirement_name(line):
    """The project name of a requirement line ('pandas[excel]>=2' -> 'pandas'), '' for none (an option, a comment)."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return ""
    match = re.match(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?", line)
    return match.group(0) if match else ""


def requirements_text(settings, requirements_file_text=""):
    """The one requirements.txt the build installs: ray_image_pip_packages, then the requirements file's lines."""
    lines = [str(item).strip() for item in settings.get("ray_image_pip_packages") or []]
    if requirements_file_text.strip():
        lines += ["# ray_image_requirements_file", requirements_file_text.strip()]
    return "\n".join(lines) + "\n" if lines else ""


def inputs(settings, files):
    """Everything that makes the image what it is, as one canonical mapping. `files`: {variable: the content of the
    control-node file it names} for ray_image_requirements_file, ray_image_dockerfile and ray_image_build_ca_file.
    The proxy settings are not inputs: they change how the packages travel, not what is installed."""
    base = f"{settings['ray_image_repository']}:{settings['ray_image_tag']}"
    return {"base": base,
            "requirements": requirements_text(settings, files.get("ray_image_requirements_file", "")),
            "apt": sorted(str(name) for name in settings.get("ray_image_apt_packages") or []),
            "dockerfile": files.get("ray_image_dockerfile", ""),
            "index_url": settings.get("ray_image_pip_index_url") or "",
            "extra_index_urls": list(settings.get("ray_image_pip_extra_index_urls") or []),
            "ca": hashlib.sha256(files.get("ray_image_build_ca_file", "").encode("utf-8")).hexdigest()
            if files.get("ray_image_build_ca_file") else ""}


def digest(build_inputs):
    return hashlib.sha256(json.dumps(build_inputs, sort_keys=True).encode("utf-8")).hexdigest()


def build_host(settings, head_hosts, worker_hosts, head_host):
    """The host that builds: the LAN cache's host when the lab uses the cache, else the head's host."""
    if registry_cache.active(settings, head_hosts, worker_hosts):
        return registry_cache.cache_host(settings, head_host)
    return head_host


def shared(head_hosts, worker_hosts):
    """Whether other hosts need the image from the build host (a LAN registry), i.e. a lab of several Ray hosts."""
    return registry_cache.ray_hosts_count(head_hosts, worker_hosts) > 1


def registry_address(settings, build_address):
    """host:port of the LAN registry of derived images, as every engine reaches it ('' while unknown)."""
    if not build_address:
        return ""
    host = f"[{build_address}]" if ":" in build_address else build_address
    return f"{host}:{int(settings['ray_image_registry_port'])}"


def reference(settings, input_digest, registry=""):
    """The derived image's name: the base tag and the inputs' digest, in the LAN registry when there is one."""
    name = f"{REPOSITORY}:{settings['ray_image_tag']}-{input_digest[:12]}"
    return f"{registry}/{name}" if registry else name


def user_stage_reference(input_digest):
    return f"{USER_STAGE_REPOSITORY}:{input_digest[:12]}"


def dockerfile_text(build_inputs, has_ca):
    """The Dockerfile of the packages' stage, FROM the base it is given (the pinned image, or the user's stage)."""
    lines = ["# ray-docker: the pinned Ray image and your packages (ray_image_* variables). Generated; do not edit.",
             "ARG BASE_IMAGE", "FROM ${BASE_IMAGE}", "ARG RAY_DOCKER_INPUTS", "USER root"]
    if has_ca:
        # The system's bundle (apt, curl, Python's ssl) and pip's own (PIP_CERT below) trust the network's CA.
        lines += ["COPY ray-docker-build-ca.crt /usr/local/share/ca-certificates/ray-docker-build-ca.crt",
                  "RUN update-ca-certificates"]
    if build_inputs["apt"]:
        lines += ["RUN apt-get update \\",
                  f" && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {' '.join(build_inputs['apt'])} \\",
                  " && rm -rf /var/lib/apt/lists/*"]
    lines += [f"USER {IMAGE_USER}", f"COPY --chown={IMAGE_USER} requirements.txt record_imports.py /tmp/ray-docker/"]
    if build_inputs["requirements"]:
        options = []
        if build_inputs["index_url"]:
            options.append(f"--index-url {build_inputs['index_url']}")
        options += [f"--extra-index-url {url}" for url in build_inputs["extra_index_urls"]]
        cert = "PIP_CERT=/etc/ssl/certs/ca-certificates.crt " if has_ca else ""
        lines.append(f"RUN {cert}pip install --no-cache-dir --progress-bar off {' '.join(options + ['-r /tmp/ray-docker/requirements.txt'])}"
                     .replace("  ", " "))
    lines += ['RUN mkdir -p "$(dirname ' + IMAGE_RECORD + ')" \\',
              f' && python /tmp/ray-docker/record_imports.py "$RAY_DOCKER_INPUTS" /tmp/ray-docker/requirements.txt > {IMAGE_RECORD}',
              'LABEL ray-docker.inputs="${RAY_DOCKER_INPUTS}"']
    return "\n".join(lines) + "\n"


RECORD_IMPORTS = '''"""Run at build time in the image: the top-level modules each requirement installed, for the check to import."""
import importlib.metadata
import json
import re
import sys


def modules(name):
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return []
    top = (dist.read_text("top_level.txt") or "").split()
    if not top:
        for path in dist.files or []:
            first = str(path).split("/")[0]
            if first.endswith((".dist-info", ".egg-info", ".data")) or first in ("..", "__pycache__", "bin"):
                continue
            if first.endswith(".py"):
                top.append(first[:-3])
            elif "/" in str(path) and str(path).endswith("__init__.py") and str(path).count("/") == 1:
                top.append(first)
    found = {module for module in top if module.isidentifier() and not module.startswith("_")}
    # A distribution's own module when it has one (duckdb's wheel also ships adbc_driver_duckdb, which needs another
    # package): that is what a user imports. Else every public top-level module (PyYAML: yaml).
    own = re.sub(r"[-_.]+", "_", name).lower()
    return [own] if own in found else sorted(found)


names = []
for line in open(sys.argv[2], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    match = re.match(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?", line) if line and not line.startswith("-") else None
    if match:
        names.append(match.group(0))
print(json.dumps({"inputs": sys.argv[1], "modules": {name: modules(name) for name in names}}, sort_keys=True))
'''


# What pip and apt print about the package they could not install, most telling first.
CULPRITS = (
    (re.compile(r"No matching distribution found for ([^\s;]+)"), "no version of {0} on the package index"),
    (re.compile(r"Could not find a version that satisfies the requirement ([^\s;]+)"), "no version of {0} on the package index"),
    (re.compile(r"Cannot install (.+?) because these package versions have conflicting dependencies"),
     "conflicting versions: {0}"),
    (re.compile(r"ResolutionImpossible"), "the requirements' versions conflict"),
    (re.compile(r"E: Unable to locate package (\S+)"), "no Debian package {0}"),
    (re.compile(r"E: Package '([^']+)' has no installation candidate"), "no installable Debian package {0}"),
    (re.compile(r"Failed to build ([^\n]+)"), "{0} failed to build from source"),
)
TLS = re.compile(r"CERTIFICATE_VERIFY_FAILED|SSLError|certificate verify failed")
UNREACHABLE = re.compile(r"Failed to establish a new connection|Temporary failure in name resolution|"
                         r"ConnectTimeoutError|Network is unreachable|Could not resolve")


def build_failure(log_lines, error=""):
    """What went wrong, in one phrase naming the package when the log says which."""
    text = "\n".join(log_lines) + "\n" + (error or "")
    reasons = []
    for pattern, phrase in CULPRITS:
        found = pattern.search(text)
        if found:
            reasons.append(phrase.format(*(group.strip() for group in found.groups())))
            break
    if TLS.search(text):
        reasons.append("the package index's TLS certificate is not trusted (behind a network that inspects TLS, set "
                       "ray_image_build_ca_file to its CA bundle)")
    elif UNREACHABLE.search(text):
        reasons.append("the package index did not answer (set ray_image_pip_index_url to one you reach, or the "
                       "build's proxy: ray_image_build_http_proxy / ray_image_build_https_proxy)")
    return "; ".join(reasons) or (error.strip().splitlines() or ["the build failed"])[-1]


def user_dockerfile_problem(text):
    """Why a user's Dockerfile cannot be the first stage, or '': its first FROM must be the pinned image, by
    `ARG RAY_IMAGE` / `FROM ${RAY_IMAGE}` (the build passes it), so an upgrade rebuilds it on the new Ray."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.upper().startswith("FROM "):
            image = stripped.split()[1] if len(stripped.split()) > 1 else ""
            if image in ("${RAY_IMAGE}", "$RAY_IMAGE"):
                return ""
            return (f"its first FROM is {image}: it must be FROM ${{RAY_IMAGE}} (with ARG RAY_IMAGE before it), which "
                    "the build sets to the pinned Ray image")
    return "it has no FROM line"


def stale(image_list, keep, containers):
    """[repository:tag] of the project's built images on a host (`image_list`: repository:tag -> Id, REFERENCES)
    that are not in `keep` (this run's) and that no container of the cluster runs (by name or id): those of earlier
    inputs, which would otherwise pile up with every change of packages. An image the nodes run is never among them,
    so the image an upgrade would roll back to stays until the swap has passed."""
    rows = list((containers or {}).values())
    used = {row.get("Image") for row in rows} | {row.get("ImageID") for row in rows}
    return sorted(name for name, image_id in (image_list or {}).items()
                  if name not in keep and name not in used and image_id not in used)
