"""What the LAN image cache's host has (read on that host, read-only): package, files, process, upstream, disk, log.

Used by the module registry_cache_info (the role's own read) and by ray_host_facts (the run's snapshot of the cache's
host, so a no-op run reads that host once).
"""

import os
import urllib.error
import urllib.request

from ansible_collections.ray_docker.cluster.plugins.module_utils import registry_cache

LOG_READ_LIMIT = 64 * 2**20
def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def answers(url, accepted=(200,)):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.status in accepted
    except urllib.error.HTTPError as exc:
        return exc.code in accepted
    except (urllib.error.URLError, OSError, ValueError):
        return False


def pid_running(pid_file, binary):
    try:
        pid = int(read_text(pid_file).split()[0])
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return os.path.basename(binary).encode() in handle.read()
    except (IndexError, ValueError, OSError):
        return False


def free_bytes(path):
    while path and not os.path.exists(path):
        path = os.path.dirname(path.rstrip("/")) or "/"
    stats = os.statvfs(path or "/")
    return stats.f_bavail * stats.f_frsize


def has_data(data_dir):
    repositories = os.path.join(data_dir, "docker", "registry", "v2", "repositories")
    try:
        return any(os.scandir(repositories))
    except OSError:
        return False


def owned(path, uid, mode=None):
    try:
        stats = os.stat(path)
    except OSError:
        return False
    return stats.st_uid == uid and (mode is None or stats.st_mode & 0o7777 == mode)


def read_log(path, offset):
    try:
        size = os.path.getsize(path)
    except OSError:
        return ""
    start = offset if 0 <= offset <= size else 0
    start = max(start, size - LOG_READ_LIMIT)
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read().decode("utf-8", errors="replace")


def read(query, run_command, log_offset=-1):
    """The cache's state on this host; `query` as registry_cache.state_query makes it, `run_command` the module's."""
    systemd = os.path.isdir("/run/systemd/system")
    if systemd:
        rc, _, _ = run_command(["systemctl", "is-active", "--quiet", query["service"]])
        running = rc == 0
    else:
        running = pid_running(query["pid_file"], query["binary"])
    try:
        import pwd

        uid = pwd.getpwnam(query["user"]).pw_uid
    except KeyError:
        uid = None
    folders_ready = uid is not None and os.path.isdir(os.path.dirname(query["config_file"])) and \
        owned(query["data_dir"], uid, 0o750) and owned(query["log_file"], uid)
    requests, store_errors = {}, []
    if log_offset >= 0:
        requests, store_errors = registry_cache.read_access_log(read_log(query["log_file"], log_offset))
    try:
        log_size = os.path.getsize(query["log_file"])
    except OSError:
        log_size = 0
    return {
        "installed": os.access(query["binary"], os.X_OK),
        "user_exists": uid is not None,
        "folders_ready": folders_ready,
        "systemd": systemd,
        "config": read_text(query["config_file"]),
        "unit": read_text(query["unit_file"]),
        "running": running,
        "answers": answers(f"http://127.0.0.1:{query['port']}/v2/"),
        "upstream_answers": bool(query["upstream"]) and answers(query["upstream"].rstrip("/") + "/v2/", (200, 401)),
        "has_data": has_data(query["data_dir"]),
        "free_bytes": free_bytes(query["data_dir"]),
        "log_size": log_size,
        "requests": requests,
        "store_errors": store_errors,
    }
