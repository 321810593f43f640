"""daemon.json built by merging, never by overwriting.

The docker role reads the file a user already has, merges the project's keys into it and decides whether
the running engine can pick the change up with a reload (SIGHUP) or needs a restart (the docker_plan action
calls these). Keeping that logic here, in plain Python, makes it testable without an engine.
"""

import json



class DaemonJsonError(ValueError):
    """A daemon.json the run must not touch; the message says why and names the file."""

# Keys dockerd re-reads on SIGHUP (Docker docs, "Configuration reload behavior").
# A change to any other key needs a restart, which stops containers without live-restore.
RELOADABLE_KEYS = frozenset({
    "debug",
    "labels",
    "live-restore",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "default-runtime",
    "runtimes",
    "authorization-plugins",
    "insecure-registries",
    "registry-mirrors",
    "shutdown-timeout",
    "features",
    "builder",
})


def parse(text, path="/etc/docker/daemon.json"):
    """Parse an existing daemon.json; an empty file counts as {}.

    A file that is not a JSON object stops the run with the reason: silently replacing it
    would lose what the user had, and dockerd would refuse to start with it anyway.
    """
    if not text or not text.strip():
        return {}
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise DaemonJsonError(
            f"{path} is not valid JSON ({exc}). Nothing was changed: fix or remove the file, then re-run."
        )
    if not isinstance(config, dict):
        raise DaemonJsonError(f"{path} must hold a JSON object, not {type(config).__name__}. Nothing was changed.")
    return config


def merge(existing, registry_mirrors=None, insecure_registries=None, options=None):
    """Merge the project's settings into an existing daemon.json dict.

    Unrelated keys survive untouched. `options` (free-form daemon.json keys) win over what the
    file had; non-empty mirror and insecure-registry lists replace the file's lists, and empty
    ones leave them alone, so a user's own mirrors are not dropped by a default.
    """
    merged = dict(existing or {})
    for key, value in (options or {}).items():
        merged[key] = value
    if registry_mirrors:
        merged["registry-mirrors"] = list(registry_mirrors)
    if insecure_registries:
        merged["insecure-registries"] = list(insecure_registries)
    return merged


def changed_keys(old, new):
    """Keys whose value differs between two daemon.json dicts (added, removed or changed)."""
    old, new = old or {}, new or {}
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))


def apply_action(old, new):
    """How a running engine takes the new config: 'none', 'reload' or 'restart'."""
    changed = changed_keys(old, new)
    if not changed:
        return "none"
    if all(key in RELOADABLE_KEYS for key in changed):
        return "reload"
    return "restart"


def mirrors_missing(wanted, active):
    """Mirrors from `wanted` that the engine does not report (Docker adds a trailing slash)."""
    normalized = {str(url).rstrip("/") for url in active or []}
    return [url for url in wanted or [] if str(url).rstrip("/") not in normalized]
