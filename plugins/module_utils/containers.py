"""Telling a Ray container that will not come up from one that is still starting.

While the wait finds nodes missing, the ray_cluster_info action inspects their containers on their
host. A container that exited, that Docker restarted three times or more since the wait began, or that
sits in Docker's restart delay after three or more restarts (a crash loop: the delay starts at 100 ms
and doubles up to a minute), will not join: the wait stops at once and shows its log instead of running
into its timeout. Two restarts are tolerated: a worker that gave up on a head that was still starting
comes back and joins, and on a busy host (all nodes recreated at once, e.g. after a new image) the head
can take long enough for a worker to give up twice.
"""

import re

RESTARTS_TOLERATED = 2
LOG_LINES = 12
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ContainerWatch:
    def __init__(self, names):
        self.names = list(names)
        self.baseline = {}

    def failures(self, inspected):
        """[(container, reason)] for the watched containers that will not come up."""
        problems = []
        for name in self.names:
            details = (inspected or {}).get(name)
            if details is None:
                problems.append((name, "does not exist"))
                continue
            state = details.get("State") or {}
            restarts = int(details.get("RestartCount") or 0)
            since = restarts - self.baseline.setdefault(name, restarts)
            if state.get("Status") in ("exited", "dead"):
                problems.append((name, f"exited with code {state.get('ExitCode')}"
                                       f"{': ' + state['Error'] if state.get('Error') else ''}"))
            elif since > RESTARTS_TOLERATED or (state.get("Restarting") and restarts > RESTARTS_TOLERATED):
                problems.append((name, f"keeps exiting (restarted {restarts} times, last exit code {state.get('ExitCode')})"))
        return problems


def failure_message(host, node_names, problems, logs):
    """The wait's error: which node, what its container did, and the end of its log."""
    parts = []
    for container, reason in problems:
        node = next((name for name in node_names if name.rpartition("@")[0] == container), container)
        lines = ANSI.sub("", logs.get(container) or "").rstrip().splitlines()[-LOG_LINES:]
        tail = "\n".join("    " + line for line in lines) or "    (no output)"
        parts.append(f"{node}: its container {container} on {host} {reason} and did not join the cluster. "
                     f"Last lines of `docker logs {container}`:\n{tail}")
    return "\n".join(parts)
