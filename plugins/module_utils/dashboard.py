"""A small client for the Ray dashboard's HTTP API, standard library only.

The control node's action plugins (ray_cluster_info, ray_job_check) use it. The auth token is read
from a file and sent as a Bearer header: it never appears in task arguments, results or logs.
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request


class DashboardError(Exception):
    """The dashboard could not be reached or answered with an error."""

    def __init__(self, message, status=None, summary=None):
        super().__init__(message)
        self.status = status
        self.summary = summary  # what was seen, when expected nodes were missing


def read_token(path):
    """The token in `path`, stripped; '' when no path is given."""
    if not path:
        return ""
    with open(path, encoding="utf-8") as handle:
        token = handle.read().strip()
    if not token:
        raise DashboardError(f"the token file {path} is empty")
    return token


class DashboardClient:
    def __init__(self, url, token="", timeout=10):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def get_json(self, path):
        request = urllib.request.Request(self.url + path, headers={"Accept": "application/json"})
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise DashboardError(f"{self.url}{path} answered HTTP {exc.code} {exc.reason}", exc.code)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DashboardError(f"{self.url}{path} is not answering: {getattr(exc, 'reason', exc)}")

    def post_json(self, path, body=None):
        data = json.dumps(body or {}).encode("utf-8")
        request = urllib.request.Request(self.url + path, data=data, method="POST",
                                         headers={"Accept": "application/json", "Content-Type": "application/json"})
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8") or "null")
        except urllib.error.HTTPError as exc:
            raise DashboardError(f"{self.url}{path} answered HTTP {exc.code} {exc.reason}", exc.code)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DashboardError(f"{self.url}{path} is not answering: {getattr(exc, 'reason', exc)}")

    def list_jobs(self):
        """Every job the Jobs API knows ({submission_id, job_id, status, entrypoint, ...}): the REST API Ray keeps
        for every client version (ray.job_submission's client checks only that the server is 2.0 or later)."""
        return self.get_json("/api/jobs/") or []

    def stop_job(self, job_id):
        return (self.post_json(f"/api/jobs/{urllib.parse.quote(job_id)}/stop") or {}).get("stopped")

    def list_state(self, kind, filters=()):
        """Rows of the state API (`actors`, `tasks`, `nodes`) with `detail`, filtered on (key, value) pairs."""
        query = [("limit", 10000), ("detail", "true")]
        for key, value in filters:
            query += [("filter_keys", key), ("filter_predicates", "="), ("filter_values", value)]
        reply = self.get_json(f"/api/v0/{kind}?" + urllib.parse.urlencode(query))
        result = (reply.get("data") or {}).get("result") or {}
        rows = result.get("result") if isinstance(result, dict) else result
        if rows is None:
            raise DashboardError(f"unexpected answer from {self.url}/api/v0/{kind}: {reply.get('msg') or reply}")
        return rows

    def list_nodes(self):
        """Every node the GCS knows, alive or dead, as the state API reports them."""
        query = urllib.parse.urlencode({"limit": 10000, "detail": "true"})
        reply = self.get_json("/api/v0/nodes?" + query)
        data = reply.get("data") or {}
        result = data.get("result") or {}
        rows = result.get("result") if isinstance(result, dict) else result
        if not reply.get("result", True) or rows is None:
            raise DashboardError(f"unexpected answer from {self.url}/api/v0/nodes: {reply.get('msg') or reply}")
        return rows


def current_registrations(rows):
    """Each node name's newest registration, by start time.

    A node whose container restarted registers again under the same name with a new node id; the GCS
    keeps listing the old registration as ALIVE until its health checks fail (tens of seconds). That
    old registration is stale: its process is gone. A name is alive when its newest registration is.
    """
    newest = {}
    for row in rows:
        name = row.get("node_name") or row.get("node_id")
        if name not in newest or (row.get("start_time_ms") or 0) > (newest[name].get("start_time_ms") or 0):
            newest[name] = row
    return newest


def summarize_nodes(rows, expected_names):
    """Compare the GCS's nodes with the plan: alive, missing, dead, stale and unexpected node names.

    One node per name (current_registrations): `nodes`, `resources` and `targets` (node id -> name, what
    the check pins its tasks to) count only each name's newest registration.
    """
    current = current_registrations(rows)
    alive_rows = [row for row in current.values() if row.get("state") == "ALIVE"]
    alive = sorted(name for name, row in current.items() if row.get("state") == "ALIVE")
    dead = sorted(name for name, row in current.items() if row.get("state") != "ALIVE")
    current_ids = {row.get("node_id") for row in current.values()}
    stale = sorted({row.get("node_name") for row in rows if row.get("state") == "ALIVE" and row.get("node_id") not in current_ids})
    expected = list(expected_names or [])
    resources = {}
    for row in alive_rows:
        for name, amount in (row.get("resources_total") or {}).items():
            if not name.startswith("node:"):
                resources[name] = resources.get(name, 0) + amount
    nodes = [
        {
            "node_name": row.get("node_name"),
            "node_id": row.get("node_id"),
            "node_ip": row.get("node_ip"),
            "state": row.get("state"),
            "is_head_node": row.get("is_head_node", False),
            "resources_total": {k: v for k, v in (row.get("resources_total") or {}).items() if not k.startswith("node:")},
        }
        for row in alive_rows
    ]
    return {
        "nodes": sorted(nodes, key=lambda node: (not node["is_head_node"], node["node_name"] or "")),
        "alive": alive,
        "missing": [name for name in expected if name not in alive],
        "dead": dead,
        "stale": stale,
        "unexpected": [name for name in alive if expected and name not in expected],
        "resources": resources,
        "targets": {row.get("node_id"): row.get("node_name") for row in alive_rows},
    }


def wait_for_nodes(url, token_file, expected_names, timeout=0, interval=0.5, on_missing=None):
    """The node summary once every expected name is alive (or at once when timeout is 0).

    Raises DashboardError when the dashboard never answered, rejected the token, or expected
    nodes were still missing at the deadline (the message names them). `on_missing(summary)` is
    called on each poll while nodes are missing and may raise to stop waiting sooner.
    """
    client = DashboardClient(url, read_token(token_file))
    expected = list(expected_names or [])
    deadline = time.monotonic() + timeout
    last_error, summary = None, None
    while True:
        try:
            summary = summarize_nodes(client.list_nodes(), expected_names)
            last_error = None
        except DashboardError as exc:
            if exc.status in (401, 403):
                raise DashboardError(f"the Ray dashboard rejected the auth token: {exc}", exc.status)
            last_error = exc
        if summary is not None and not summary["missing"] and last_error is None:
            return summary
        if time.monotonic() >= deadline:
            break
        if on_missing is not None:  # also while the dashboard is not answering: the head may be what fails
            on_missing(summary if last_error is None and summary is not None else
                       {"missing": expected, "alive": [], "error": str(last_error)})
        time.sleep(interval)
    if summary is None:
        raise DashboardError(f"the Ray dashboard did not answer{' within %d s' % timeout if timeout else ''}: {last_error}")
    if timeout and summary["missing"]:
        raise DashboardError(
            f"Ray nodes not alive after {timeout} s: {', '.join(summary['missing'])} "
            f"(alive: {', '.join(summary['alive']) or 'none'}). Look at `docker logs <container>` on their hosts.",
            summary=summary)
    return summary
