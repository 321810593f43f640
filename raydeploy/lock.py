"""One runner.py at a time per user: a second run that would change the cluster waits for the first.

Two `site` runs at once would each create, stop or recreate the same containers. The lock is an
flock on a file in ~/.config/ray-docker, so it is released when a run ends or crashes; the file says
who holds it, for the waiting run's message. Read-only verbs (status, preflight) do not take it.
"""

import fcntl
import json
import os
import time
from pathlib import Path

LOCK_FILE = Path.home() / ".config" / "ray-docker" / "runner.lock"


class LockTimeout(Exception):
    """Another run held the lock for longer than we were told to wait."""


def holder(path=LOCK_FILE):
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def acquire(verb, timeout, say, path=LOCK_FILE, interval=0.5):
    """Take the lock (a file object to keep open), waiting up to `timeout` s; raise LockTimeout."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            other = holder(path)
            who = f"runner.py {other.get('verb', '?')} (pid {other.get('pid', '?')}, since {other.get('started', '?')})"
            if time.monotonic() >= deadline:
                handle.close()
                raise LockTimeout(f"{who} is still running; nothing was changed. Wait for it, or pass --lock-timeout")
            if not announced:
                say(f"waiting for {who} to finish (up to {timeout:g} s)")
                announced = True
            time.sleep(interval)
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"verb": verb, "pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}))
    handle.flush()
    return handle
