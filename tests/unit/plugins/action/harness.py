"""Run the collection's action plugins as Ansible runs them, without a play and without contacting a host.

`run(name, task_vars, args)` loads a real Task (ansible.playbook.task.Task.load with the action's FQCN and its
arguments), makes the plugin's ActionModule with a real DataLoader, Templar and PlayContext and a fake connection,
and calls `run(task_vars=...)`, as Ansible's TaskExecutor does. A plugin that would read a host
(`_execute_module`) finds a recorder in its place: it answers from the responses a test gives and fails the test
when it was given none, so "no host is contacted" is checked, not assumed.

`Lab` builds the task variables a play hands a task: inventory_hostname, groups, hostvars (each host's variables
and its run snapshot, ansible_facts ray_host and ray_snapshot, as the preflight's probe leaves them), the task's own
host's variables at the top level. Settings the test does not give come from the roles' defaults, through the
plugins' own plugin_utils/role_settings.py, as in a run.

`FakeDashboard` is a local HTTP server that answers the two dashboard requests the control node makes (the state
API's node list, the Jobs API's refusal without the token), so that ray_cluster_info and ray_job_check run their
real HTTP client against it.
"""

import base64
import copy
import importlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar, trust_as_template

COLLECTION = "ray_docker.cluster"
GIB = 1024 ** 3
RAY_IMAGE = "rayproject/ray:2.60.0-py311-cpu"
REDIS_IMAGE = "redis:7.0.15"
PROMETHEUS_IMAGE = "prom/prometheus:v2.53.3"
GRAFANA_IMAGE = "grafana/grafana:12.2.1"
ALL_IMAGES = (RAY_IMAGE, REDIS_IMAGE, PROMETHEUS_IMAGE, GRAFANA_IMAGE)


def collection_package():
    """The collection's package, with the metadata Ansible's collection finder needs to import more of it.

    A unit test of another folder (tests/unit/windows/test_module_contracts.py) runs init_plugin_loader() when pytest
    collects it, which installs Ansible's collection finder. A collection package imported before that as a plain
    namespace package has no `_collection_meta`, and the finder then refuses to import any module of it not imported
    yet ("collection metadata was not loaded"): the plugins these tests import at run time. The metadata is what the
    finder reads itself, meta/runtime.yml."""
    package = importlib.import_module("ansible_collections.ray_docker.cluster")
    if getattr(package, "_collection_meta", None) is None:
        runtime = Path(__file__).resolve().parents[4] / "meta" / "runtime.yml"
        package._collection_meta = yaml.safe_load(runtime.read_text(encoding="utf-8")) or {}
    return package


def plugin(name):
    """The action plugin's Python module (plugins/action/<name>.py)."""
    collection_package()
    return importlib.import_module(f"ansible_collections.ray_docker.cluster.plugins.action.{name}")


class FakeConnection:
    """What ActionBase.run looks at on a connection (the shell's remote tmpdir); nothing here connects."""

    transport = "fake"

    def __init__(self):
        self._shell = SimpleNamespace(tmpdir=None)


class ModuleRecorder:
    """Stands in for ActionBase._execute_module: records each call and answers from `responses`.

    `responses`: a module result (dict), a list of them (one per call, in order), or a callable
    (module_name, module_args, task_vars) -> result. None: any call fails the test (no host may be contacted)."""

    def __init__(self, responses=None):
        self.responses = responses
        self.calls = []

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append({"module_name": module_name, "module_args": copy.deepcopy(module_args)})
        if self.responses is None:
            raise AssertionError(f"the plugin contacted the host (module {module_name} with {module_args}), "
                                 "but the test gave it no module result")
        if callable(self.responses):
            return copy.deepcopy(self.responses(module_name, module_args, task_vars))
        if isinstance(self.responses, list):
            return copy.deepcopy(self.responses[len(self.calls) - 1])
        return copy.deepcopy(self.responses)


def make_task(name, args=None, check_mode=False):
    data = {"action": f"{COLLECTION}.{name}", "args": dict(args or {})}
    if check_mode:
        data["check_mode"] = True
    return Task.load(data, loader=DataLoader())


def action(name, args=None, check_mode=False, module_results=None):
    """The plugin's ActionModule for a task `name: args`, with a real loader, templar and play context."""
    loader = DataLoader()
    task = make_task(name, args, check_mode)
    instance = plugin(name).ActionModule(task, FakeConnection(), PlayContext(), loader, Templar(loader=loader), None)
    instance._load_name = f"{COLLECTION}.{name}"  # what the plugin loader sets (named in argument errors)
    instance._execute_module = ModuleRecorder(module_results)
    return instance


def run(name, task_vars, args=None, check_mode=False, module_results=None):
    """(result, module calls) of one task of the action `name` on task_vars' host."""
    instance = action(name, args, check_mode, module_results)
    result = instance.run(task_vars=task_vars)
    return result, instance._execute_module.calls


# ---------------------------------------------------------------- the host's snapshot (ray_host_facts)

def host_facts(address="10.0.0.11", cpus=8, mem_total=32 * GIB, **extra):
    """ansible_facts.ray_host of a plain Linux host (the probe's facts)."""
    facts = {"cpus": cpus, "mem_total": mem_total, "default_ipv4": address, "kernel_release": "6.12.48+deb13-amd64",
             "wsl": False, "wsl_version": 0, "init": "systemd", "nofile_hard": 1048576, "wsl_conf": "",
             "windows_profile": "", "windows_profile_windows": "", "wslconfig": "", "wslconfig_encoding": "utf-8",
             "docker_desktop_integration": False, "engine_os": "Debian GNU/Linux 13 (trixie)"}
    facts.update(extra)
    return facts


def engine(answers=True, images=None, containers=None, networks=None, volumes=None, files=None, mirrors=(),
           daemon_json=None, **extra):
    """ansible_facts.ray_snapshot: what the probe reads of the host's Docker engine. `images`: names present (Id
    sha256:<name>) or {name: {Id}}."""
    if isinstance(images, (list, tuple)):
        images = {name: {"Id": image_id(name)} for name in images}
    snapshot = {
        "engine_answers": answers, "engine_error": "" if answers else "connection refused",
        "daemon_json": daemon_json if daemon_json is not None else
        {"path": "/etc/docker/daemon.json", "exists": False, "content": "", "encoding": "utf-8"},
        "desktop_daemon_json": None,
        "images": dict(images or {}), "networks": dict(networks or {}), "volumes": dict(volumes or {}),
        "containers": dict(containers or {}), "files": dict(files or {}), "python_requests": True,
    }
    if answers:  # the probe reports no host_info when the engine does not answer
        snapshot["host_info"] = {"ServerVersion": "26.1.5", "OperatingSystem": "Debian GNU/Linux 13 (trixie)",
                                 "RegistryConfig": {"Mirrors": list(mirrors)}}
    snapshot.update(extra)
    return snapshot


def image_id(name):
    return "sha256:" + base64.b16encode(name.encode()).decode().lower()[:64].ljust(64, "0")


def running(spec):
    """How the engine query lists a container made from `spec` (a plan's docker_container parameters)."""
    return {"Id": f"id-{spec['name']}", "ImageID": "", "State": "running", "Status": "Up 1 minute",
            "Labels": dict(spec["labels"])}


def described(exists=True, mode="0644", uid=0, gid=0, sha256=None, directory=False):
    """How the engine query describes a file (its `files` entry)."""
    entry = {"exists": exists, "directory": directory, "mode": mode, "uid": uid, "gid": gid}
    if sha256 is not None:
        entry["sha256"] = sha256
    return entry


# ---------------------------------------------------------------- the inventory

def trusted(value):
    """`value` with every string marked as a template Ansible may render, as the inventory, vars files and -e give
    them (ansible-core 2.19 renders no other string: a fact or a module's result stays as it is)."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [trusted(item) for item in value]
    return value


class Lab:
    """An inventory of Ray hosts (ray_head, ray_workers, optional windows_wsl) with each host's variables and
    snapshot, and the task variables a play gives a task on one of them.

    `variables`: the play's variables (group_vars all, -e): on every host. `host_variables`: {host: {...}}.
    Hosts get ansible_host 10.0.0.11, .12, ... and the same default_ipv4 in their facts, unless given."""

    def __init__(self, heads=("head",), workers=(), variables=None, host_variables=None, engines=None, facts=None,
                 groups=None):
        self.heads, self.workers = list(heads), list(workers)
        self.variables = dict(variables or {})
        self.host_variables = {host: dict(values) for host, values in (host_variables or {}).items()}
        self.groups = {"all": [], "ray_head": self.heads, "ray_workers": self.workers}
        self.groups.update({name: list(members) for name, members in (groups or {}).items()})
        self.engines = dict(engines or {})
        self.facts = dict(facts or {})
        hosts = []
        for members in [self.heads, self.workers] + [list(m) for m in (groups or {}).values()]:
            hosts += [host for host in members if host not in hosts]
        self.hosts = hosts
        self.groups["all"] = list(hosts)

    def address(self, host):
        return self.host_variables.get(host, {}).get("ansible_host") or f"10.0.0.{11 + self.hosts.index(host)}"

    def hostvars(self, host):
        values = {"inventory_hostname": host, "ansible_host": self.address(host)}
        values.update(trusted(self.variables))
        values.update(trusted({name: value for name, value in self.host_variables.get(host, {}).items()
                               if name != "ansible_facts"}))
        values["ansible_facts"] = self.host_variables.get(host, {}).get("ansible_facts", {})
        facts = {}
        if host in self.heads + self.workers:
            facts["ray_host"] = self.facts.get(host) or host_facts(self.address(host))
            if self.engines.get(host, engine()) is not None:
                facts["ray_snapshot"] = self.engines.get(host) or engine()
        facts.update(values.pop("ansible_facts", {}) or {})
        values["ansible_facts"] = facts
        return values

    def task_vars(self, host, **extra):
        """What the task on `host` sees: its own variables at the top level, every host's in hostvars; `extra`: more
    variables of this task's host only (as -e or the play's vars would give them, but seen by this host alone)."""
        hostvars = {name: self.hostvars(name) for name in self.hosts}
        task_vars = copy.deepcopy(hostvars[host])
        task_vars.update(groups=copy.deepcopy(self.groups), hostvars=hostvars, ansible_play_hosts_all=list(self.hosts),
                         ansible_play_hosts=list(self.hosts))
        task_vars.update(trusted(extra))  # variables of the play or -e for this task
        return task_vars


# ---------------------------------------------------------------- the dashboard

def node_row(name, node_id, ip="10.0.0.11", head=False, state="ALIVE", start=1, cpus=4.0):
    """A row of the state API's node list (GET /api/v0/nodes?detail=true)."""
    return {"node_name": name, "node_id": node_id, "node_ip": ip, "state": state, "is_head_node": head,
            "start_time_ms": start, "resources_total": {"CPU": cpus, f"node:{ip}": 1.0}}


TOKEN = "a" * 64  # the cluster's token in the action tests (conftest's token_file holds it)


class FakeDashboard:
    """A local stand-in for the head's dashboard: /api/v0/nodes (the state API) and /api/jobs/ (the Jobs API), both
    requiring `Authorization: Bearer <token>` like a head with token authentication. Records each request's path
    and whether it carried the right token."""

    def __init__(self, token, rows=(), tasks=(), actors=()):
        self.token, self.rows, self.requests = token, list(rows), []
        self.state = {"tasks": list(tasks), "actors": list(actors)}  # /api/v0/tasks, /api/v0/actors (unfiltered)
        dashboard = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                authorized = self.headers.get("Authorization") == f"Bearer {dashboard.token}"
                dashboard.requests.append({"path": self.path, "authorized": authorized})
                if not authorized:
                    self._reply(401, {"result": False, "msg": "Unauthorized"})
                elif self.path.startswith("/api/v0/nodes"):
                    self._reply(200, {"result": True, "msg": "", "data": {"result": {"total": len(dashboard.rows),
                                                                                      "result": dashboard.rows}}})
                elif self.path.split("?")[0] in ("/api/v0/tasks", "/api/v0/actors"):
                    rows = dashboard.state[self.path.split("?")[0].rsplit("/", 1)[1]]
                    self._reply(200, {"result": True, "msg": "", "data": {"result": {"total": len(rows), "result": rows}}})
                elif self.path.startswith("/api/jobs/"):
                    self._reply(200, [])
                else:
                    self._reply(404, {"result": False, "msg": "not found"})

            def _reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
