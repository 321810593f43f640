"""The cluster's secrets on the control node: created once, 0600 in a 0700 folder, never logged.

The auth token, the GCS store's Redis password and Grafana's admin password are generated here the first time
a run needs them and read afterwards. Several hosts' tasks may ask at once: the file is created exclusively, so
one of them writes it and every other reads that one. Rendered files that hold a secret (redis.conf) are kept
next to them, so that the roles copy files instead of handing secrets around as task arguments.
"""

import hashlib
import os
import secrets
import string

ALPHABETS = {"hex": string.hexdigits.lower()[:16], "alnum": string.ascii_letters + string.digits}


class SecretError(Exception):
    """A secret file that exists but is not what the run needs."""


def ensure(path, length, alphabet="alnum"):
    """The secret in `path`, created with `length` characters of `alphabet` when the file does not exist."""
    path = os.path.expanduser(path)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    value = "".join(secrets.choice(ALPHABETS[alphabet]) for _ in range(length))
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="utf-8") as handle:
            current = handle.read().strip()
        if len(current) != length:
            raise SecretError(f"{path} must hold a {length}-character secret; remove it to have a new one generated")
        return current
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def sha256_of_file(path):
    with open(os.path.expanduser(path), "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def keep_rendered(path, content):
    """Write `content` (it holds a secret) to `path` with mode 0600 when it differs; its sha256."""
    path = os.path.expanduser(path)
    data = content.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            unchanged = handle.read() == data
    except FileNotFoundError:
        unchanged = False
    if not unchanged:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    return hashlib.sha256(data).hexdigest()


def sha256_of_text(text):
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()
