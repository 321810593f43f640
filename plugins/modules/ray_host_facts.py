#!/usr/bin/python
"""Ansible module: what the Ray roles need to know about a host itself, read-only, in one call."""

DOCUMENTATION = r"""
module: ray_host_facts
short_description: A host's CPUs, memory and platform, for sharing it between Ray nodes
version_added: 1.0.0
author: ray-docker maintainers
description:
  - Read-only (runs in check mode), standard library only, no engine needed. The preflight runs it on every
    host before anything changes, it sizes each Ray node's share of the host, and it is the reachability probe.
  - CPUs are the ones this process may run on (affinity), capped by a CPU quota when the host is itself a
    container; memory is MemTotal, capped by a memory limit when the host is a container. On WSL2 both are what
    the WSL VM has (set by .wslconfig).
options: {}
"""

EXAMPLES = r"""
- name: Learn the host's CPUs, memory and platform
  ray_docker.cluster.ray_host_facts:

- name: Show them
  ansible.builtin.debug:
    msg: "{{ ray_host.cpus }} CPUs, {{ ray_host.mem_total }} bytes, WSL {{ ray_host.wsl_version }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts about the host.
  type: dict
  returned: always
  contains:
    ray_host:
      description:
        - cpus, mem_total (bytes), kernel_release, wsl (bool), wsl_version (0, 1 or 2), init (PID 1's name),
          nofile_hard (hard limit of open files), wsl_conf (/etc/wsl.conf's text, '' when absent),
          windows_profile (the Windows user's profile as a Linux path, '' without Windows interop),
          wslconfig (its .wslconfig's text), docker_desktop_integration (Docker Desktop's WSL integration is present),
          engine_os (the Docker engine's OperatingSystem, for example 'Docker Desktop'; '' when no engine answers).
      type: dict
      returned: always
"""

import math
import os
import re
import resource
import shutil
import subprocess

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ray_docker.cluster.plugins.module_utils.docker_engine_api import EngineClient, EngineError

UNLIMITED = 1 << 60  # cgroup v1 reports "no limit" as a huge number


def read(path, default=""):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return default


def cpu_quota():
    """The CPU quota of this process's cgroup in CPUs, or None (v2 cpu.max, v1 cfs quota/period)."""
    quota, _, period = read("/sys/fs/cgroup/cpu.max").partition(" ")
    if quota and quota != "max" and period:
        return int(quota) / int(period)
    quota, period = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
    if quota.lstrip("-").isdigit() and int(quota) > 0 and period.isdigit():
        return int(quota) / int(period)
    return None


def cpu_count():
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:
        count = os.cpu_count() or 1
    quota = cpu_quota()
    return max(1, min(count, math.floor(quota))) if quota else count


def mem_total():
    total = 0
    for line in read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            total = int(line.split()[1]) * 1024
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        limit = read(path)
        if limit.isdigit() and int(limit) < min(total, UNLIMITED):
            total = int(limit)
    return total


def nofile_hard():
    """The hard limit of open files, None when unlimited."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return None if hard == resource.RLIM_INFINITY else hard


def wsl_version(kernel_release):
    """2 for WSL2 (`...-microsoft-standard-WSL2`), 1 for WSL1 (`...-Microsoft`), 0 elsewhere."""
    release = kernel_release.lower()
    if "microsoft" not in release:
        return 0
    return 2 if ("wsl2" in release or "microsoft-standard" in release) else 1


CMD_EXE = "/mnt/c/Windows/System32/cmd.exe"
DESKTOP_INTEGRATION = "/mnt/wsl/docker-desktop"


def automount_root(wsl_conf):
    """[automount] root from /etc/wsl.conf (default /mnt/)."""
    section = ""
    for line in wsl_conf.splitlines():
        header = re.match(r"^\s*\[([^\]]+)\]", line)
        if header:
            section = header.group(1).strip().lower()
        elif section == "automount" and re.match(r"^\s*root\s*=", line, re.IGNORECASE):
            return line.split("=", 1)[1].split("#", 1)[0].strip()
    return "/mnt/"


def windows_profile(wsl_conf):
    """%USERPROFILE% of the Windows user, as this distro sees it (/mnt/c/Users/<name>); '' without interop.

    cmd.exe runs from a Windows folder: started from a Linux one it warns about UNC paths."""
    root = "/" + automount_root(wsl_conf).strip("/") + "/" if automount_root(wsl_conf).strip("/") else "/"
    cmd = next((path for path in (CMD_EXE.replace("/mnt/", root, 1), shutil.which("cmd.exe")) if path and os.path.exists(path)), None)
    if not cmd:
        return ""
    try:
        out = subprocess.run([cmd, "/c", "echo %USERPROFILE%"], capture_output=True, text=True, timeout=20,
                             cwd=os.path.dirname(cmd)).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.match(r"^([A-Za-z]):[\\/]*(.*)$", out.strip())
    if not match:
        return ""
    rest = match.group(2).replace("\\", "/").strip("/")
    return f"{root}{match.group(1).lower()}" + (f"/{rest}" if rest else "")


def engine_os():
    """What the engine on the default socket says it runs on ('Docker Desktop' for Desktop's), or ''."""
    try:
        return (EngineClient(timeout=5).info() or {}).get("OperatingSystem") or ""
    except (EngineError, ValueError):
        return ""


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    kernel_release = read("/proc/sys/kernel/osrelease")
    version = wsl_version(kernel_release)
    facts = {
        "cpus": cpu_count(),
        "mem_total": mem_total(),
        "kernel_release": kernel_release,
        "wsl": version > 0,
        "wsl_version": version,
        "init": read("/proc/1/comm"),
        # What a container's nofile ulimit may not exceed where root lacks CAP_SYS_RESOURCE (`ulimit -Hn`).
        "nofile_hard": nofile_hard(),
        "wsl_conf": read("/etc/wsl.conf"),
        "docker_desktop_integration": os.path.isdir(DESKTOP_INTEGRATION)
        or os.path.realpath(shutil.which("docker") or "").startswith(DESKTOP_INTEGRATION),
    }
    facts["engine_os"] = engine_os()
    facts["windows_profile"] = windows_profile(facts["wsl_conf"])
    facts["wslconfig"] = read(os.path.join(facts["windows_profile"], ".wslconfig")) if facts["windows_profile"] else ""
    module.exit_json(changed=False, ansible_facts={"ray_host": facts})


if __name__ == "__main__":
    main()
