"""Helpers for faults, jobs and nodes, shared by the e2e tests and benchmarks/bench_faults.py.

A crash is the container's main process dying: `docker kill` would not do, since the engine never
restarts a container it was told to kill (restart policy or not).
"""

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ACTOR_JOB = """
import json, ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
ray.init()
@ray.remote(num_cpus=0)
class Counter:
    def __init__(self): self.count = 0
    def incr(self): self.count += 1; return self.count
    def node(self): return ray.get_runtime_context().get_node_id()
counter = Counter.options(name="e2e-counter", namespace="e2e", lifetime="detached", max_restarts=0,
                          scheduling_strategy=NodeAffinitySchedulingStrategy(node_id="{node_id}", soft=False)).remote()
print("ACTOR " + json.dumps({{"count": ray.get(counter.incr.remote()), "node": ray.get(counter.node.remote())}}))
"""

ACTOR_ASK = """
import json, ray
ray.init()
counter = ray.get_actor("e2e-counter", namespace="e2e")
print("ACTOR " + json.dumps({"count": ray.get(counter.incr.remote(), timeout=60), "node": ray.get(counter.node.remote())}))
"""


def actor_report(job):
    line = next((line for line in job["logs"].splitlines() if line.startswith("ACTOR ")), None)
    return json.loads(line[len("ACTOR "):]) if line else None


def node_ids(summary):
    """{node name: node id} of the alive nodes in a `status --json` summary."""
    return {node["node_name"]: node["node_id"] for node in (summary.get("cluster") or {}).get("nodes") or []}


def wait_for(probe, timeout, interval=0.5):
    """(seconds it took, last value): poll probe() until it returns something truthy or the time is up."""
    started = time.monotonic()
    while True:
        value = probe()
        if value or time.monotonic() - started > timeout:
            return time.monotonic() - started, value
        time.sleep(interval)


JOB_CLIENT = """
import json, sys, time
from ray.job_submission import JobStatus, JobSubmissionClient
url, entrypoint, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
client = JobSubmissionClient(url)
job = client.submit_job(entrypoint=entrypoint)
deadline = time.monotonic() + wait
while time.monotonic() < deadline and not client.get_job_status(job).is_terminal():
    time.sleep(0.5)
print(json.dumps({"job_id": job, "status": str(client.get_job_status(job)), "logs": client.get_job_logs(job)}))
"""


TOKEN = Path.home() / ".config" / "ray-docker" / "ray" / "auth_token"


def ray_client(client_script, *args, token_file=None, timeout=120):
    """The JSON a Ray client script prints last, run with the cluster's token in a separate process (RAY_AUTH_*
    must be set before Ray loads)."""
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_file or TOKEN)}
    proc = subprocess.run([sys.executable, "-c", client_script, *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def submit_job(script, url="http://127.0.0.1:8265", token_file=None, wait=120):
    """Run `script` (Python source) as a Ray job through the Jobs API with the cluster's token, as a user
    would; wait up to `wait` s for it to end."""
    return ray_client(JOB_CLIENT, url, "python -c " + shlex.quote(script), wait, token_file=token_file, timeout=wait + 120)
