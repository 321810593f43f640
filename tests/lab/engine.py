"""The Docker engine on this machine: started directly (there is no systemd), restarted on demand."""

from __future__ import annotations

import shutil
from pathlib import Path

from .util import apt_install, run, say, wait_until

DOCKER_PIDFILE = Path("/var/run/docker.pid")
DOCKERD_LOG = Path("/var/log/dockerd.log")
ENGINE_TIMEOUT = 60


def engine_version() -> str | None:
    """The engine's version when it answers, else None."""
    if not shutil.which("docker"):
        return None
    proc = run(["docker", "info", "--format", "{{.ServerVersion}}"], check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _is_live_dockerd(pid: int) -> bool:
    """Without an init that reaps orphans, an ended dockerd can linger as a zombie; it counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    name, _, rest = stat.partition("(")[2].rpartition(")")
    return name == "dockerd" and rest.split()[0] != "Z"


def remove_stale_docker_pidfile() -> None:
    """dockerd refuses to start while its pid file names a live process, and the file outlives a
    daemon that ended with the previous session (its pid may since belong to something else)."""
    try:
        pid = int(DOCKER_PIDFILE.read_text().strip() or 0)
    except FileNotFoundError:
        return
    except ValueError:
        pid = 0
    if pid and _is_live_dockerd(pid):
        return
    say(f"removing stale {DOCKER_PIDFILE}")
    DOCKER_PIDFILE.unlink(missing_ok=True)


def ensure_engine() -> None:
    """Start dockerd directly: there is no systemd, and Debian's init script fails here because it
    raises the open-files limit beyond what root may. An engine that already answers is kept."""
    version = engine_version()
    if version:
        say(f"Docker engine {version} answering")
        return
    if not (shutil.which("dockerd") and shutil.which("docker")):
        apt_install("docker.io")
    remove_stale_docker_pidfile()
    say(f"starting dockerd (log: {DOCKERD_LOG})")
    # dockerd writes its pid file itself; start-stop-daemon only reads it to skip a running one.
    run(["start-stop-daemon", "--start", "--background", "--oknodo",
         "--pidfile", DOCKER_PIDFILE, "--output", DOCKERD_LOG, "--exec", shutil.which("dockerd")])
    version = wait_until(engine_version, ENGINE_TIMEOUT,
                         f"Docker engine did not answer within {ENGINE_TIMEOUT} s; see {DOCKERD_LOG}")
    say(f"Docker engine {version} answering")


def restart_engine() -> None:
    """Stop dockerd and start it again. The benchmarks do it before every cold run: on Docker 20.10
    each pull-and-remove cycle makes the next pull slower (10 s, 13 s, 19 s) until dockerd restarts,
    which would penalise whichever cold run comes later."""
    if shutil.which("systemctl") and run(["systemctl", "is-active", "--quiet", "docker"], check=False).returncode == 0:
        run(["systemctl", "restart", "docker"])
        wait_until(engine_version, ENGINE_TIMEOUT, f"Docker engine did not answer within {ENGINE_TIMEOUT} s after a restart")
        return
    run(["start-stop-daemon", "--stop", "--oknodo", "--retry", "TERM/30/KILL/5", "--pidfile", DOCKER_PIDFILE])
    ensure_engine()
