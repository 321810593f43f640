"""Make sure the project's virtual environment exists and is current, then run inside it.

Standard library only: this runs before any dependency can be imported, on a machine that may
have nothing but python3. The environment lives in .venv next to the project; a stamp file
records which requirements files (and which of their contents) it was built from.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".requirements.json"
# The checkout is the collection ray_docker.cluster (galaxy.yml at its root). A link in the environment's
# site-packages makes Ansible find it (it scans sys.path for ansible_collections) and Python import
# its plugins' shared code, without a committed symlink or an edited ANSIBLE_COLLECTIONS_PATH.
COLLECTION = ("ray_docker", "cluster")


class BootstrapError(Exception):
    """The environment could not be prepared; the message says what to do."""


def venv_python(venv=VENV):
    return venv / "bin" / "python"


def requirements_chain(requirements):
    """A requirements file and the files it includes with -r, includes first."""
    path = Path(requirements)
    chain = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("-r "):
            chain += requirements_chain(path.parent / line.strip()[3:].strip())
    return chain + [path]


def requirements_digest(requirements):
    """Digest of a requirements file and the files it includes."""
    digest = hashlib.sha256()
    for path in requirements_chain(requirements):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def is_current(requirements, stamp=STAMP):
    """True when the environment was built from this exact requirements file."""
    try:
        installed = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return installed.get(Path(requirements).name) == requirements_digest(requirements)


def _say(message):
    print(f"[setup] {message}", file=sys.stderr, flush=True)


def _create_venv():
    result = subprocess.run([sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True)
    if result.returncode == 0:
        return
    shutil.rmtree(VENV, ignore_errors=True)
    missing_ensurepip = "ensurepip" in result.stdout + result.stderr
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    hint = " Install it with: sudo apt-get install -y python3-venv" if missing_ensurepip else ""
    if missing_ensurepip and shutil.which("apt-get") and (not sudo or shutil.which("sudo")):
        # Debian and Ubuntu ship venv support as a separate package.
        package = f"python{sys.version_info.major}.{sys.version_info.minor}-venv"
        _say(f"installing {package} (Debian/Ubuntu keep venv support in a separate package)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
            subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", package], check=True, env=env)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            return
        except (OSError, subprocess.CalledProcessError) as exc:  # no sudo rights, no network, ...
            shutil.rmtree(VENV, ignore_errors=True)
            raise BootstrapError(f"could not create {VENV}: {package} is missing and installing it failed ({exc}).{hint}")
    raise BootstrapError(f"could not create {VENV}: {(result.stderr or result.stdout).strip()}.{hint}")


def build(requirements):
    """Create .venv if needed and install `requirements` into it, with progress on stderr."""
    if not venv_python().exists():
        _say(f"creating the virtual environment {VENV}")
        _create_venv()
    _say(f"installing {Path(requirements).name} into .venv (first run takes a few minutes)")
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check"]
    # Show what pip fetches and installs, not its long "already satisfied" list.
    process = subprocess.Popen(pip + ["install", "--progress-bar", "off", "-r", str(requirements)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))  # lines as they come
    tail = []
    for line in process.stdout:
        tail = (tail + [line.rstrip()])[-20:]
        if line.startswith(("Collecting", "Installing", "Successfully")):
            _say("pip: " + line.strip()[:150])
    if process.wait() != 0:
        print("\n".join(tail), file=sys.stderr)
        raise BootstrapError(f"pip could not install {requirements} (exit {process.returncode}); see the lines above")
    try:
        installed = json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        installed = {}
    for path in requirements_chain(requirements):  # requirements-dev.txt also satisfies requirements.txt
        installed[path.name] = requirements_digest(path)
    STAMP.write_text(json.dumps(installed, indent=2), encoding="utf-8")
    _say("environment ready")


def link_collection(venv=VENV, root=ROOT):
    """Point .venv's site-packages/ansible_collections/ray_docker/cluster at this checkout (idempotent)."""
    site_packages = sorted(venv.glob("lib/python*/site-packages"))
    if not site_packages:
        raise BootstrapError(f"{venv} has no site-packages folder: remove {venv} and run again")
    link = site_packages[-1].joinpath("ansible_collections", *COLLECTION)
    if link.is_symlink() and Path(os.readlink(link)) == root:
        return link
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():  # a checkout that moved, or a copy someone installed there
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        else:
            link.unlink()
    link.symlink_to(root, target_is_directory=True)
    return link


def ensure_venv(requirements, argv):
    """Re-run `argv` with .venv's python, building or updating the environment first.

    Set RAY_DOCKER_NO_VENV=1 to use the current interpreter as it is (it must have the requirements).
    """
    if os.environ.get("RAY_DOCKER_NO_VENV") == "1":
        return
    inside = Path(sys.prefix).resolve() == VENV.resolve()
    if not is_current(requirements):
        build(requirements)
    link_collection()
    if inside:
        return
    os.execv(str(venv_python()), [str(venv_python()), *argv])
