#!/usr/bin/python
"""Ansible module: the one read-only look at a host that a run needs: its CPUs, memory and platform, and
the Docker engine state every role compares with its plan."""

DOCUMENTATION = r"""
module: ray_host_facts
short_description: A host's CPUs, memory, platform and Docker engine state, in one read-only call
version_added: 1.0.0
author: ray-docker maintainers
description:
  - Read-only (runs in check mode), standard library only. The preflight runs it on every Ray host before
    anything changes; it is the reachability probe, it sizes each Ray node's share of the host, and its engine
    snapshot lets every role see what is in place without asking the host again.
  - CPUs are the ones this process may run on (affinity), capped by a CPU quota when the host is itself a
    container; memory is MemTotal, capped by a memory limit when the host is a container. On WSL2 both are
    what the WSL VM has (set by .wslconfig).
  - The action plugin of the same name fills in what to read from the project's settings when the task
    gives no options, so C(ray_docker.cluster.ray_host_facts:) alone takes the run's snapshot.
  - Files that are not UTF-8 (a C(.wslconfig) saved as UTF-16 or ANSI, a Windows user name in a code page)
    never make it fail; see the C(encoding) of each file read.
extends_documentation_fragment:
  - ray_docker.cluster.engine_query
options:
  engine:
    description: Also read the Docker engine's state (as RV(ansible_facts.ray_snapshot)).
    type: bool
    default: false
  outdated:
    description:
      - Read nothing; mark RV(ansible_facts.ray_snapshot) out of date (key C(outdated)), so that the next role that
        compares reads the host again (the action plugin answers it on the control node). A role does this after it
        changed the host.
    type: bool
    default: false
  daemon_json:
    description: The engine's daemon.json to read (raw text).
    type: path
  desktop_daemon_json:
    description:
      - Docker Desktop's daemon.json as this WSL distribution reaches it; V(auto) finds it in the Windows user's
        profile when Docker Desktop's engine answers or its WSL integration is there.
    type: str
    default: auto
  image_references:
    description: Image names to list every tag of (V(repo) or a pattern such as V(*/repo), as C(docker images) takes
      them), into C(ray_snapshot.image_list) (repository:tag to Id); the derived images of earlier inputs are found so.
    type: list
    elements: str
    default: []
  data_dir:
    description: The nodes' data folder root (ray_cluster_data_dir), whose free space (and Docker's root's free space)
      goes into RV(ansible_facts.ray_host.disk).
    type: path
  measure_data_dir:
    description:
      - Also count what the files under O(data_dir) take (C(du -s)). That walks every file the nodes keep (a job's
        pip environment alone is tens of thousands), about a second per 100,000 files, so only C(status) asks for it;
        a deployment needs only the free space.
    type: bool
    default: false
  registry_cache:
    description:
      - On the LAN image cache's host, where its state is (port, upstream, files, service; the action plugin fills it
        from the registry_cache role's settings), read into C(ray_snapshot.registry_cache) so that a no-op run reads that
        host once.
    type: dict"""

EXAMPLES = r"""
- name: Take the run's snapshot of this host (what to read comes from the project's settings)
  ray_docker.cluster.ray_host_facts:

- name: Show what the host has
  ansible.builtin.debug:
    msg: "{{ ansible_facts.ray_host.cpus }} CPUs; engine answers: {{ ansible_facts.ray_snapshot.engine_answers }}"
"""

RETURN = r"""
ansible_facts:
  description: What the host holds.
  type: dict
  returned: always
  contains:
    ray_host:
      description:
        - cpus, mem_total (bytes), default_ipv4 (the address of the default route, '' without one), kernel_release,
          wsl (bool), wsl_version (0, 1 or 2), init (PID 1's name), nofile_hard (hard limit of open files),
          wsl_conf (/etc/wsl.conf's text), windows_profile (the Windows user's profile as a Linux path, '' without
          Windows interop), windows_profile_windows (the same as Windows writes it, C:\\Users\\<name>), wslconfig (that
          profile's .wslconfig as text), wslconfig_encoding,
          docker_desktop_integration (Docker Desktop's WSL integration is present), engine_os (the engine's
          OperatingSystem, for example 'Docker Desktop'; '' when no engine answers).
        - With O(data_dir) and O(engine), disk - docker_root and data_root, each path, checked (the nearest folder
          that exists), free and total (bytes, of its file system); with O(measure_data_dir), data_root also used (bytes
          under it, as du counts them; null when a folder could not be read).
      type: dict
      returned: always
    ray_snapshot:
      description:
        - engine_answers, engine_error, host_info (ServerVersion, OperatingSystem, RegistryConfig.Mirrors, ...),
          daemon_json and desktop_daemon_json (path, exists, content, encoding), images (name to Id or null),
          image_list (with O(image_references), each repository and tag to its Id), networks, volumes, containers
          (name to Id, ImageID, State, Status, Labels), files (path to exists, mode, uid, gid, sha256), python_requests, and on the LAN image cache's host registry_cache (query and state).
      type: dict
      returned: when O(engine) is true
"""

import math
import os
import resource
import shutil
import socket
import subprocess

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ray_docker.cluster.plugins.module_utils import host_state, registry_cache_state, wsl

UNLIMITED = 1 << 60  # cgroup v1 reports "no limit" as a huge number
# Docker Desktop's WSL integration. /mnt/wsl is shared by every distribution of the Windows user, so the folder
# alone says Desktop runs, not that this distribution uses it: an integrated distribution's docker CLI and socket
# are links into it.
DESKTOP_INTEGRATION = "/mnt/wsl/docker-desktop"
DOCKER_SOCKET = "/var/run/docker.sock"
# Desktop's proxy in an integrated distribution serves its docker.sock and leaves its pid here (docker/for-win#14686).
DESKTOP_PROXY_PID = "/var/run/docker-desktop-proxy.pid"


def read(path, default=""):
    """A small system file's text; '' (or `default`) when it is absent or unreadable."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace").strip()
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


def default_ipv4():
    """The source address of the default IPv4 route (what `ip route get` would pick; no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routed like any address beyond the LAN
        return probe.getsockname()[0]
    except OSError:
        return ""
    finally:
        probe.close()


def windows_profile(wsl_conf):
    """(%USERPROFILE% of the Windows user as Windows writes it, and as this distribution sees it); ('', '') without
    interop.

    `cmd.exe /u` writes UTF-16 to a pipe (cmd's /u: "Formats internal command output to a pipe or a file as
    Unicode"), so a name such as C:\\Users\\张三 reads right whatever the PC's OEM code page; cmd.exe runs from a
    Windows folder (started from a Linux one it warns about UNC paths)."""
    root = wsl.automount_root(wsl_conf)
    candidates = (os.path.join("/" + root.strip("/"), "c/Windows/System32/cmd.exe"), shutil.which("cmd.exe"))
    cmd = next((path for path in candidates if path and os.path.exists(path)), None)
    if not cmd:
        return "", ""
    try:
        out = subprocess.run([cmd, "/u", "/c", "echo %USERPROFILE%"], capture_output=True, timeout=20,
                             cwd=os.path.dirname(cmd)).stdout
    except (OSError, subprocess.SubprocessError):
        return "", ""
    profile = wsl.decode_cmd_unicode(out)
    linux = wsl.windows_to_wsl_path(profile, root)
    return (profile, linux) if linux else ("", "")


def host_facts():
    kernel_release = read("/proc/sys/kernel/osrelease")
    version = wsl.wsl_version(kernel_release)
    facts = {
        "cpus": cpu_count(),
        "mem_total": mem_total(),
        "default_ipv4": default_ipv4(),
        "kernel_release": kernel_release,
        "wsl": version > 0,
        "wsl_version": version,
        "init": read("/proc/1/comm"),
        # What a container's nofile ulimit may not exceed where root lacks CAP_SYS_RESOURCE (`ulimit -Hn`).
        "nofile_hard": nofile_hard(),
        "wsl_conf": read("/etc/wsl.conf"),
        "docker_desktop_integration": desktop_integration(),
        "windows_profile": "",
        "windows_profile_windows": "",
        "wslconfig": "",
        "wslconfig_encoding": "",
    }
    # Found by cmd.exe itself rather than by a WSL kernel: what matters is whether Windows answers.
    facts["windows_profile_windows"], facts["windows_profile"] = windows_profile(facts["wsl_conf"])
    if facts["windows_profile"]:
        wslconfig = host_state.read_text(os.path.join(facts["windows_profile"], ".wslconfig"))
        facts["wslconfig"] = wslconfig["content"] or ""
        facts["wslconfig_encoding"] = wslconfig["encoding"] if wslconfig["exists"] else ""
        facts["wslconfig_exists"] = wslconfig["exists"]
        facts.update(keep_alive_state(facts["windows_profile"], wsl.automount_root(facts["wsl_conf"])))
    return facts


def desktop_integration():
    """Whether this distribution uses Docker Desktop: Desktop's proxy runs in it, or its docker CLI or engine socket is
    a link into Desktop's integration folder (a Desktop that is stopped leaves them dangling, which still says so)."""
    links = (shutil.which("docker") or "/usr/bin/docker", DOCKER_SOCKET)
    return os.path.exists(DESKTOP_PROXY_PID) or any(
        os.path.islink(path) and os.path.realpath(path).startswith(DESKTOP_INTEGRATION + "/") for path in links)


def keep_alive_state(profile, root):
    """Journey 1's keep-alive as Windows holds it, through interop: the HKCU Run values (reg.exe query: the row
    format is not localized), the project's old Startup entries, whether wslg.exe is there, and the records of what
    the project changed in the user's files (plugins/module_utils/wsl.py, distro_plan)."""
    windows = "/" + root.strip("/") + "/c" if root.strip("/") else "/c"
    state = {"windows_run": {}, "startup_entries": [], "windows_records": {},
             "wslg_exe": os.path.exists(wsl.windows_to_wsl_path(wsl.WSLG_EXE, root))}
    reg = os.path.join(windows, "Windows/System32/reg.exe")
    if os.path.exists(reg):
        try:
            out = subprocess.run([reg, "query", wsl.RUN_KEY], capture_output=True, timeout=20, cwd=os.path.dirname(reg))
            state["windows_run"] = wsl.parse_reg_query(out.stdout.decode("utf-8", "replace"))
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        state["startup_entries"] = sorted(name for name in os.listdir(os.path.join(profile, wsl.STARTUP_FOLDER))
                                          if name.startswith("ray-docker "))
    except OSError:
        pass
    records = os.path.join(profile, wsl.RECORDS_FOLDER)
    try:
        for name in sorted(os.listdir(records)):
            if name.endswith(".json"):
                state["windows_records"][name] = read(os.path.join(records, name))
    except OSError:
        pass
    return state


def disk(path, measure=False):
    """{path, checked (the nearest folder that exists), free, total} of a path's file system; with `measure`, also
    used: the bytes the files under the path take (None when some folder could not be read)."""
    checked = path
    while checked and not os.path.exists(checked):
        checked = os.path.dirname(checked.rstrip("/")) or "/"
    stat = os.statvfs(checked)
    found = {"path": path, "checked": checked, "free": stat.f_bavail * stat.f_frsize, "total": stat.f_blocks * stat.f_frsize}
    if measure:
        found["used"] = used_bytes(path) if checked == path else 0
    return found


def used_bytes(path):
    """What `du -s` says, in bytes: the blocks of every file and folder under `path` (links not followed, each
    inode once); None when a folder could not be read, rather than a number that is too small."""
    seen, total = set(), 0
    unreadable = []
    for folder, dirs, files in os.walk(path, onerror=unreadable.append):
        for name in [folder] + [os.path.join(folder, entry) for entry in files]:
            try:
                stat = os.lstat(name)
            except OSError:
                continue  # removed while we walked (the log keeper trims these folders)
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_blocks * 512
    return None if unreadable else total


def engine_snapshot(params, facts, run_command):
    snapshot = {"python_requests": host_state.python_requests(), "files": host_state.read_files(params["files"])}
    if params["registry_cache"]:
        snapshot["registry_cache"] = {"query": params["registry_cache"],
                                      "state": registry_cache_state.read(params["registry_cache"], run_command)}
    if params["daemon_json"]:
        snapshot["daemon_json"] = host_state.read_text(params["daemon_json"])
    try:
        state = host_state.engine_state(params["docker_host"], params["images"], params["networks"], params["volumes"],
                                        params["container_label"], image_references=params["image_references"])
    except host_state.EngineError as exc:
        if exc.status is not None:  # the engine answered with an error: a real problem
            raise
        snapshot.update(engine_answers=False, engine_error=str(exc), images={}, networks={}, volumes={}, containers={})
        facts["engine_os"] = ""
    else:
        snapshot.update(engine_answers=True, **state)
        facts["engine_os"] = state["host_info"].get("OperatingSystem") or ""
    if params["data_dir"]:
        root = (snapshot.get("host_info") or {}).get("DockerRootDir") or "/var/lib/docker"
        facts["disk"] = {"docker_root": disk(root), "data_root": disk(params["data_dir"], measure=params["measure_data_dir"])}
    desktop = str(facts["engine_os"]).startswith("Docker Desktop") or (
        facts["docker_desktop_integration"] and not snapshot["engine_answers"])
    path = params["desktop_daemon_json"]
    if path == "auto":
        path = os.path.join(facts["windows_profile"], ".docker", "daemon.json") if desktop and facts["windows_profile"] else ""
    if path:
        snapshot["desktop_daemon_json"] = host_state.read_text(path)
    return snapshot


def main():
    module = AnsibleModule(
        argument_spec={
            "engine": {"type": "bool", "default": False},
            "outdated": {"type": "bool", "default": False},  # answered by the action plugin
            "docker_host": {"type": "str", "default": "unix:///var/run/docker.sock"},
            "daemon_json": {"type": "path"},
            "desktop_daemon_json": {"type": "str", "default": "auto"},
            "images": {"type": "list", "elements": "str", "default": []},
            "image_references": {"type": "list", "elements": "str", "default": []},
            "networks": {"type": "list", "elements": "str", "default": []},
            "volumes": {"type": "list", "elements": "str", "default": []},
            "container_label": {"type": "str"},
            "files": {"type": "list", "elements": "path", "default": []},
            "registry_cache": {"type": "dict"},
            "data_dir": {"type": "path"},
            "measure_data_dir": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    facts = host_facts()
    result = {"ray_host": facts}
    if module.params["engine"]:
        try:
            result["ray_snapshot"] = engine_snapshot(module.params, facts, module.run_command)
        except host_state.EngineError as exc:
            module.fail_json(msg=str(exc))
        except OSError as exc:
            module.fail_json(msg=f"cannot read {exc.filename or 'a file'}: {exc}")
    else:
        facts["engine_os"] = engine_os(module.params["docker_host"])
    module.exit_json(changed=False, ansible_facts=result)


def engine_os(docker_host):
    """What the engine on the socket says it runs on ('Docker Desktop' for Desktop's), or ''."""
    try:
        return host_state.engine_state(docker_host, timeout=5)["host_info"].get("OperatingSystem") or ""
    except (host_state.EngineError, ValueError):
        return ""


if __name__ == "__main__":
    main()
