"""Shared helpers of the lab: running commands, waiting for daemons, the cache and its lock, Debian
packages, and inspecting Docker objects."""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# The roles' defaults pin every image a deployment pulls; the lab's mirror serves exactly those.
ROLES = REPO_ROOT / "roles"
APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


class LabError(RuntimeError):
    """A lab step failed; the message names the command and why."""


def say(message: str) -> None:
    """Progress goes to stderr so stdout carries only results (the mirror URL)."""
    print(f"lab: {message}", file=sys.stderr, flush=True)


def _tail(text: str | None, lines: int = 30) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


def run(cmd, *, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """Run a command, capturing its output; on failure raise LabError with the command line and the
    end of its output, because a bare CalledProcessError hides why the lab could not come up."""
    cmd = [str(part) for part in cmd]
    if "stdout" not in kw and "stderr" not in kw:
        kw["capture_output"] = True
    kw.setdefault("text", True)
    try:
        proc = subprocess.run(cmd, **kw)
    except FileNotFoundError as exc:
        raise LabError(f"`{shlex.join(cmd)}`: command not found ({exc.filename})") from exc
    if check and proc.returncode != 0:
        output = "\n".join(part for part in (_tail(proc.stdout), _tail(proc.stderr)) if part)
        raise LabError(f"`{shlex.join(cmd)}` exited with {proc.returncode}:\n{output}")
    return proc


def wait_until(probe, timeout: float, failure: str):
    """Poll probe() until it returns something truthy; daemons answer a few seconds after starting."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise LabError(failure)
        time.sleep(0.5)


def cache_dir() -> Path:
    """The lab's persistent state; shared by every checkout on the machine so rebuilds are rare."""
    path = Path(os.environ.get("RAYLAB_CACHE") or Path.home() / ".cache" / "raylab")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def locked(cache: Path):
    """Serialise concurrent lab commands (e.g. parallel test sessions) so they never build twice."""
    with open(cache / "lab.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# --- packages ---------------------------------------------------------------------------------

@functools.cache
def _apt_update() -> None:
    run(["apt-get", "update"], env=APT_ENV)


def apt_install(*packages: str) -> None:
    """CI starts on fresh Debian machines as root, so the lab installs what it needs itself."""
    say(f"installing {' '.join(packages)} with apt-get")
    _apt_update()
    run(["apt-get", "install", "-y", *packages], env=APT_ENV)


def ensure_command(command: str, package: str) -> str:
    """Path of command, installing its Debian package first when it is missing."""
    found = shutil.which(command)
    if not found:
        apt_install(package)
        found = shutil.which(command)
    if not found:
        raise LabError(f"{command} still missing after installing {package}")
    return found


# --- Docker objects ---------------------------------------------------------------------------

def docker_inspect(kind: str, name: str) -> dict | None:
    """`docker <kind> inspect` of one object as a dict, or None when the engine has no such object."""
    proc = run(["docker", kind, "inspect", name], check=False)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 else None


def role_default(role: str, variable: str) -> str:
    """A plain value from a role's defaults/main.yml (the lab runs without PyYAML: one `key: value` line)."""
    path = ROLES / role / "defaults" / "main.yml"
    match = re.search(rf"^{variable}:\s*[\"']?(.+?)[\"']?\s*(?:#.*)?$", path.read_text(), re.MULTILINE)
    if not match:
        raise LabError(f"{path} has no `{variable}:` line")
    return match.group(1)


def pinned_reference(variable: str, role: str = "ray") -> tuple[str, str]:
    """(repository, tag) of an image variable in a role's defaults, as the mirror stores it: Docker
    Hub's official images (no "/") live under library/, which is what an engine asks a mirror for."""
    repository, _, tag = role_default(role, variable).rpartition(":")
    return (repository if "/" in repository else f"library/{repository}"), tag
