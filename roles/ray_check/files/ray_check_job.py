"""Ray job that proves every alive node works; submitted through the Jobs API by ray_job_check.

For each target node (its argument: base64 JSON {node id: name}, each name's current registration as
the control node sees it; without one, every alive node): a task pinned to it (NodeAffinitySchedulingStrategy, soft=False)
that also imports the modules asked for (a second argument, base64 JSON {imports, record}: the user's modules and the
derived image's record of its packages' modules, read on the node), then an
actor placed on it and called, and an object the actor creates there and the next node's actor
reads (a ring, so every node sends and receives). Prints one line `RAY_CHECK_RESULT <json>` for the module to parse.
"""

import base64
import hashlib
import importlib
import json
import os
import platform
import socket
import sys
import time

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

PAYLOAD_BYTES = 4 * 1024 * 1024  # well above Ray's inline limit, so it travels through the object store
TIMEOUT = 120


def on_node(node_id):
    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)}


def where():
    return {
        "node_id": ray.get_runtime_context().get_node_id(),
        "hostname": socket.gethostname(),
        "ip": ray.util.get_node_ip_address(),
        "ray_version": ray.__version__,
        "python_version": platform.python_version(),
    }


def imports(asked):
    """{record: the image's record of what it installed or None, modules: {module: '' or why it failed}}."""
    record = None
    if asked.get("record") and os.path.exists(asked["record"]):
        with open(asked["record"], encoding="utf-8") as handle:
            record = json.load(handle)
    wanted = list(asked.get("imports") or [])
    for found in ((record or {}).get("modules") or {}).values():
        wanted += [module for module in found if module not in wanted]
    results = {}
    for module in wanted:
        try:
            importlib.import_module(module)
            results[module] = ""
        except BaseException as exc:  # an import may raise anything, even SystemExit
            results[module] = f"{type(exc).__name__}: {exc}"[:300]
    return {"record": record, "modules": results}


@ray.remote(num_cpus=0)
def probe(asked):
    return dict(where(), imports=imports(asked))


@ray.remote(num_cpus=0)
class Pinger:
    """One per node. Created after the pinned tasks finished, so it takes over the idle worker
    process they left instead of starting another one (each start costs seconds of CPU)."""

    def ping(self, value):
        return {"echo": value + 1, **where()}

    def make_payload(self, seed):
        block = hashlib.sha256(seed.encode()).digest()
        return block * (PAYLOAD_BYTES // len(block))

    def digest(self, payload):
        return {"sha256": hashlib.sha256(payload).hexdigest(), "node_id": ray.get_runtime_context().get_node_id()}


def main():
    started = time.monotonic()
    ray.init(address="auto", logging_level="WARNING")
    alive = {node["NodeID"]: node.get("NodeName") or node["NodeManagerAddress"] for node in ray.nodes() if node["Alive"]}
    targets = json.loads(base64.b64decode(sys.argv[1])) if len(sys.argv) > 1 else alive
    asked = json.loads(base64.b64decode(sys.argv[2])) if len(sys.argv) > 2 else {}
    # "gone": registrations whose process is gone although the GCS still lists them (it notices within
    # tens of seconds; the scheduler at once). The control node waits for their next registration.
    report = {"nodes": [], "transfers": [], "errors": [], "gone": []}
    for node_id, name in targets.items():
        if node_id not in alive:
            report["gone"].append(node_id)
    names = {node_id: name for node_id, name in targets.items() if node_id in alive}

    probes = {node_id: probe.options(**on_node(node_id)).remote(asked) for node_id in names}
    entries = {}
    for node_id, name in names.items():
        entry = {"node_id": node_id, "node_name": name}
        try:
            info = ray.get(probes[node_id], timeout=TIMEOUT)
            entry.update(info, task=info["node_id"] == node_id)
            if not entry["task"]:
                report["errors"].append(f"task pinned to {name} ran on {info['node_id']}")
        except ray.exceptions.TaskUnschedulableError:
            report["gone"].append(node_id)
            continue
        except Exception as exc:  # report every node, not just the first failure
            entry["task"] = False
            report["errors"].append(f"task on {name} failed: {exc}")
        entries[node_id] = entry
    names = {node_id: names[node_id] for node_id in entries}
    ids = list(names)

    actors = {node_id: Pinger.options(**on_node(node_id)).remote() for node_id in ids}
    pings = {node_id: actors[node_id].ping.remote(41) for node_id in ids}
    for node_id, entry in entries.items():
        try:
            pong = ray.get(pings[node_id], timeout=TIMEOUT)
            entry["actor"] = pong["echo"] == 42 and pong["node_id"] == node_id
            if not entry["actor"]:
                report["errors"].append(f"actor on {names[node_id]} answered {pong}")
        except Exception as exc:
            entry["actor"] = False
            report["errors"].append(f"actor on {names[node_id]} failed: {exc}")
        report["nodes"].append(entry)

    transfers = []  # all at once: each pair of nodes moves its object in parallel
    for index, source in enumerate(ids):
        target = ids[(index + 1) % len(ids)]
        seed = f"{source}->{target}"
        payload = actors[source].make_payload.remote(seed)
        transfers.append((source, target, seed, actors[target].digest.remote(payload)))
    for source, target, seed, pending in transfers:
        expected = hashlib.sha256(hashlib.sha256(seed.encode()).digest() * (PAYLOAD_BYTES // 32)).hexdigest()
        transfer = {"from": names[source], "to": names[target], "bytes": PAYLOAD_BYTES}
        try:
            result = ray.get(pending, timeout=TIMEOUT)
            transfer["ok"] = result["sha256"] == expected and result["node_id"] == target
            if not transfer["ok"]:
                report["errors"].append(f"object from {names[source]} arrived corrupted or elsewhere on {names[target]}")
        except Exception as exc:
            transfer["ok"] = False
            report["errors"].append(f"object from {names[source]} to {names[target]} failed: {exc}")
        report["transfers"].append(transfer)

    report["driver_python_version"] = platform.python_version()
    report["seconds"] = round(time.monotonic() - started, 2)
    print("RAY_CHECK_RESULT " + json.dumps(report), flush=True)
    return 0 if not report["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
