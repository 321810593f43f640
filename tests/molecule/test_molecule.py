"""Molecule scenarios (molecule/<name>): each role, and the whole site, on lab-host containers.

Each test runs `molecule test -s <name>` from the repository root: create lab hosts from
raylab/host:bookworm (Debian with Docker installed but not running), prepare, converge, check
idempotence, verify real state, destroy. The lab (engine, registry mirror on 0.0.0.0:5000 serving
the Ray image) and the host image must exist first; this module makes sure of both.

    python3 -m tests tests/molecule            # all five scenarios (about 6 minutes)
    python3 -m tests tests/molecule -k cluster
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import lab

pytestmark = pytest.mark.molecule

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ["docker", "registry_cache", "ray_cluster", "cluster", "wsl_distro"]
TIMEOUT = 1800  # seconds per scenario; they take 2-5 minutes here
TAIL_LINES = 80
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def venv_bin() -> Path:
    """The folder with molecule and ansible-playbook: the project's .venv, else this interpreter's."""
    for candidate in (ROOT / ".venv" / "bin", Path(sys.executable).parent):
        if (candidate / "molecule").exists():
            return candidate
    pytest.fail("molecule is not installed: run `python3 -m tests`, which builds .venv from requirements-dev.txt")


def ensure_host_image() -> str:
    """Build raylab/host:bookworm when it is missing or stale; its id.

    Unlike `python -m tests.lab hosts 0`, this never removes running lab hosts (raylab-host-*),
    which other tests on the same engine may be using."""
    cache = lab.cache_dir()
    with lab.locked(cache):
        return lab.ensure_host_image(cache, lab.ensure_key(cache))


@pytest.fixture(scope="module")
def lab_ready():
    lab.ensure_up()
    ensure_host_image()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario, lab_ready):
    bin_dir = venv_bin()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "NO_COLOR": "1", "PY_COLORS": "0", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    started = time.monotonic()
    try:
        proc = subprocess.run([str(bin_dir / "molecule"), "test", "-s", scenario], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        tail = "\n".join(ANSI.sub("", output).splitlines()[-TAIL_LINES:])
        pytest.fail(f"molecule test -s {scenario} did not finish within {TIMEOUT} s; last lines:\n{tail}")
    elapsed = time.monotonic() - started
    print(f"molecule test -s {scenario}: exit {proc.returncode} in {elapsed:.0f} s")
    tail = "\n".join(ANSI.sub("", proc.stdout).splitlines()[-TAIL_LINES:])
    assert proc.returncode == 0, (
        f"molecule test -s {scenario} exited {proc.returncode} after {elapsed:.0f} s; last lines:\n{tail}")
