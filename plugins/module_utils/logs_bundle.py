"""`runner.py logs`: what each host's collection holds, and the one archive the control node makes of them.

Pure functions over file names, times and bytes (tests/unit/plugins/module_utils/test_logs_bundle.py): which files of
a node's data folder belong in the archive (its sessions' logs, newer than --since), how to name them in it, and how
secrets are kept out of it: every member's bytes have the cluster's token and passwords replaced, whatever file they
hide in (Ray logs its own command lines, which carry the GCS store's password).
"""

import re

REDACTED = b"<redacted>"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(duration):
    """'30m' -> 1800; '' -> 0 (everything)."""
    match = re.fullmatch(r"(\d+)([smhd])", str(duration or "").strip())
    return int(match.group(1)) * UNITS[match.group(2)] if match else 0


def wanted(relative, mtime, since):
    """Whether a file of a node's data folder (path relative to it) belongs in the archive: its sessions' logs, changed
    at or after `since` (seconds since the epoch; 0: all). Spills, sockets and runtime environments do not."""
    parts = relative.split("/")
    return len(parts) >= 3 and parts[0].startswith("session_") and parts[1] == "logs" and mtime >= since


def redact(data, secrets):
    """`data` (bytes) with every secret (bytes, at least 8 long) replaced."""
    for secret in sorted((s for s in secrets if s and len(s) >= 8), key=len, reverse=True):
        data = data.replace(secret, REDACTED)
    return data


def redact_stream(source, target, secrets, chunk=2**20):
    """Copy `source` to `target` (binary file objects) with every secret replaced, a chunk at a time (a node's log
    may be as large as its cap); the bytes written."""
    wanted = [s for s in secrets if s and len(s) >= 8]
    keep = max((len(s) for s in wanted), default=1) - 1  # a secret cut by a chunk's end is completed by the next
    carry, written = b"", 0
    while True:
        block = source.read(chunk)
        data = redact(carry + block, wanted)
        if not block:
            target.write(data)
            return written + len(data)
        cut = max(0, len(data) - keep)
        target.write(data[:cut])
        written += cut
        carry = data[cut:]


def index_text(rows):
    """INDEX.txt of the archive: one line per member, where it came from."""
    lines = ["# What this archive holds, and where each file came from (ray-docker logs).",
             "# member\tbytes\tsource"]
    lines += [f"{row['member']}\t{row['bytes']}\t{row['source']}" for row in rows]
    return "\n".join(lines) + "\n"
