"""Which cluster Ray versions the control node's Ray can talk to.

The control node speaks only Ray's HTTP APIs to a cluster (the Jobs API to submit, follow and stop jobs and to run
the check; the state API to list nodes, jobs and actors); draining and everything else that speaks the cluster's
gRPC protocol runs inside the nodes' own containers. Ray keeps those HTTP APIs across versions: its Jobs client
only asks that the server be Ray 2.0 or later (ray/dashboard/modules/job/sdk.py), the server checks nothing of the
client. Token authentication, which every cluster here uses, came with Ray 2.52: older clusters are refused.
"""

import re

OLDEST_CLUSTER = (2, 52, 0)


def parse(version):
    numbers = [int(part) for part in re.findall(r"\d+", str(version or ""))[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))


def client_problem(control_version, cluster_version):
    """Why the control node's Ray cannot drive a cluster of `cluster_version` (None when it can)."""
    control, cluster = parse(control_version), parse(cluster_version)
    if cluster < OLDEST_CLUSTER:
        return (f"the cluster runs Ray {cluster_version}; token authentication, which every cluster here uses, needs "
                f"Ray {'.'.join(map(str, OLDEST_CLUSTER))} or later")
    if cluster[0] != control[0]:
        return (f"the control node's Python has Ray {control_version}, the cluster runs Ray {cluster_version}: another "
                f"major version; install ray[default]=={cluster_version} for the Python that runs Ansible")
    return None
