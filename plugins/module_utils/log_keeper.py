"""Keeps a Ray node's logs bounded, inside the node's own container, for as long as it runs.

Ray rotates its components' logs (RAY_ROTATION_MAX_BYTES, RAY_ROTATION_BACKUP_COUNT) but never deletes a past
session, `logs/old` (the logs of ended workers) or runtime-environment leftovers, and nothing bounds the whole tree
(ray#62961, ray#39591). The node's container runs this module as a background loop next to `ray start` (its source
is handed to the container: standard library only, no import of the collection): the keeper lives and dies with
the node, needs no deployment, no timer and no other container, and runs as the node's own user, who owns the files.

Every INTERVAL seconds: sessions other than the current one and `logs/old` files older than the retention go (and,
every SWEEP_EVERY rounds, runtime-environment leftovers older than it); then, while the logs tree is over the cap,
past sessions' logs go first, then the current session's `logs/old`, then rotated files, oldest first, and last the
largest current files are emptied (Ray's writers append, so they go on writing from the start).
"""

import os
import re
import shutil
import sys
import time

INTERVAL = 10
# Runtime-environment leftovers (one job's pip packages are tens of thousands of files) only age out, in days: they
# are walked every SWEEP_EVERY rounds (10 minutes), not every round, which cost a node a fifth of a core.
SWEEP_EVERY = 60
ROTATED = re.compile(r"\.\d+$|\.\d+\.(?:out|err|log)$")


def walk_files(top):
    """[(path, size, mtime)] of the regular files under `top` (symlinks left alone)."""
    found = []
    for folder, _, files in os.walk(top):
        for name in files:
            path = os.path.join(folder, name)
            try:
                stat = os.lstat(path)
            except OSError:
                continue
            if not os.path.islink(path):
                found.append((path, stat.st_size, stat.st_mtime))
    return found


def plan(sessions, current, files, now, cap_bytes, retention_seconds):
    """What to do, as [(action, path)] with action 'rmtree', 'delete' or 'truncate'.

    `sessions`: {session folder: mtime}; `current`: the current session's folder; `files`: [(path, size, mtime)] of
    every file under the sessions' `logs` and `runtime_resources` folders."""
    actions, gone = [], set()
    for session, mtime in sorted(sessions.items(), key=lambda item: item[1]):
        if session != current and now - mtime > retention_seconds:
            actions.append(("rmtree", session))
            gone.add(session + os.sep)
    alive = [(path, size, mtime) for path, size, mtime in files if not any(path.startswith(prefix) for prefix in gone)]
    kept = []
    for path, size, mtime in alive:
        old = f"{os.sep}logs{os.sep}old{os.sep}" in path or f"{os.sep}runtime_resources{os.sep}" in path
        if old and now - mtime > retention_seconds:
            actions.append(("delete", path))
        else:
            kept.append((path, size, mtime))
    logs = [(path, size, mtime) for path, size, mtime in kept if f"{os.sep}logs{os.sep}" in path]
    total = sum(size for _, size, _ in logs)
    if total <= cap_bytes:
        return actions

    def rank(item):
        path, _, mtime = item
        if not path.startswith(current + os.sep):
            return (0, mtime)  # a past session's logs
        if f"{os.sep}logs{os.sep}old{os.sep}" in path:
            return (1, mtime)
        if ROTATED.search(os.path.basename(path)):
            return (2, mtime)
        return (3, mtime)

    removable = sorted((item for item in logs if rank(item)[0] < 3), key=rank)
    for path, size, _ in removable:
        if total <= cap_bytes:
            return actions
        actions.append(("delete", path))
        total -= size
    for path, size, _ in sorted((item for item in logs if rank(item)[0] == 3), key=lambda item: -item[1]):
        if total <= cap_bytes:
            break
        if size:
            actions.append(("truncate", path))
            total -= size
    return actions


def apply(actions):
    for action, path in actions:
        try:
            if action == "rmtree":
                shutil.rmtree(path, ignore_errors=True)
            elif action == "delete":
                os.remove(path)
            else:
                os.truncate(path, 0)
        except OSError:
            pass  # gone meanwhile, or still being written: the next round sees it again


def once(root, cap_bytes, retention_seconds, now=None, sweep=True):
    """One round; `sweep` also walks the sessions' runtime_resources for leftovers beyond the retention."""
    now = time.time() if now is None else now
    current = os.path.realpath(os.path.join(root, "session_latest"))
    sessions = {}
    for name in os.listdir(root) if os.path.isdir(root) else []:
        path = os.path.join(root, name)
        if name.startswith("session_") and name != "session_latest" and os.path.isdir(path) and not os.path.islink(path):
            sessions[path] = os.path.getmtime(path)
    files = []
    for session in sessions:
        for part in ("logs", "runtime_resources") if sweep else ("logs",):
            files += walk_files(os.path.join(session, part))
    actions = plan(sessions, current, files, now, cap_bytes, retention_seconds)
    apply(actions)
    return actions


def main(argv):
    root, cap_mb, days = argv[0], float(argv[1]), float(argv[2])
    rounds = 0
    while True:
        try:
            once(root, int(cap_mb * 2**20), days * 86400, sweep=rounds % SWEEP_EVERY == 0)
        except Exception as exc:  # never stop the node for its logs
            print(f"ray-docker log keeper: {exc}", file=sys.stderr)
        rounds += 1
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main(sys.argv[1:])
