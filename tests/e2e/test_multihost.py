"""Multi-host deployment over real SSH to lab hosts (Debian containers with their own engine).

In file order: preflight errors on fresh hosts (nothing may change), then a cold `site` on
1 head + 2 workers, a re-run, a 4th host joining, a one-node variable change and `down --limit`.
"""

import hashlib
import json
import re
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from tests import lab

from .conftest import ROOT, last_run_events, module_runs, run_runner, task_result
from .test_jobs import WHERE
from .faults import ACTOR_ASK, ACTOR_JOB, actor_report, node_ids, submit_job, wait_for

HEAD = "raylab-host-0"


@pytest.fixture(scope="module")
def fresh_hosts():
    """Three lab hosts that start like new machines: engine installed, not running, no image."""
    lab.remove_hosts()
    inventory = lab.ensure_hosts(3)
    yield inventory
    lab.remove_hosts()


def load(path):
    return yaml.safe_load(path.read_text())


def write_inventory(tmp_path, data, name="inventory.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


def host_state(name):
    """What a failed preflight must leave alone on a host: daemon.json, dockerd, containers."""
    config = lab.host_exec(name, "cat", "/etc/docker/daemon.json", check=False).stdout
    dockerd = lab.host_exec(name, "pgrep", "-x", "dockerd", check=False).returncode == 0
    return hashlib.sha256(config.encode()).hexdigest(), dockerd


def ray_containers(name):
    """{container: (id, started at)} of the cluster's containers on a lab host; None while its engine is down."""
    listing = lab.host_exec(name, "docker", "ps", "-aq", "--filter", "label=ray-docker.cluster", check=False)
    if listing.returncode != 0:
        return None
    names = listing.stdout.split()
    if not names:
        return {}
    rows = json.loads(lab.host_exec(name, "docker", "inspect", *names).stdout)
    return {row["Name"].lstrip("/"): (row["Id"], row["State"]["StartedAt"]) for row in rows}


def docker_time(value):
    """Docker's RFC 3339 timestamps (nanoseconds, trailing zeros trimmed) as datetimes."""
    stamp, _, fraction = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{stamp}.{(fraction + '000000')[:6]}")


def engine_events(host, container, action, since):
    """Unix times (float, from the engine's nanosecond stamps) of a container's `action` events on a lab host
    since `since` (a naive UTC datetime)."""
    until = datetime.now(timezone.utc).timestamp()
    listing = lab.host_exec(host, "docker", "events", "--since", f"{since.replace(tzinfo=timezone.utc).timestamp():.0f}",
                            "--until", f"{until:.0f}", "--filter", f"container={container}", "--filter", f"event={action}",
                            "--format", "{{.TimeNano}}").stdout.split()
    return sorted(int(stamp) / 1e9 for stamp in listing)


def all_ray_containers(hosts):
    return {host: ray_containers(host) for host in hosts}


def hosts_of(inventory):
    data = load(inventory)["all"]["children"]
    return list(data["ray_head"]["hosts"]) + list((data["ray_workers"].get("hosts") or {}))


def address(inventory, host):
    data = load(inventory)["all"]["children"]
    return {**data["ray_head"]["hosts"], **(data["ray_workers"].get("hosts") or {})}[host]["ansible_host"]


@pytest.mark.parametrize("case", ["two heads", "host in both groups", "duplicate node IP", "port out of range",
                                  "ports collide", "unreachable worker with ray_require_all_hosts"])
def test_preflight_errors_name_the_culprit_and_change_nothing(fresh_hosts, tmp_path, case):
    data = load(fresh_hosts)
    groups = data["all"]["children"]
    extra = []
    if case == "two heads":
        groups["ray_head"]["hosts"]["raylab-host-1"] = groups["ray_workers"]["hosts"].pop("raylab-host-1")
        needle = "group ray_head must hold exactly one host (found: raylab-host-0, raylab-host-1)"
    elif case == "host in both groups":
        groups["ray_workers"]["hosts"][HEAD] = dict(groups["ray_head"]["hosts"][HEAD])
        needle = "host raylab-host-0 is in both ray_head and ray_workers"
    elif case == "duplicate node IP":
        groups["ray_workers"]["hosts"]["raylab-host-2"]["ray_node_ip_address"] = address(fresh_hosts, "raylab-host-1")
        needle = f"{address(fresh_hosts, 'raylab-host-1')} is claimed by raylab-host-1 and raylab-host-2"
    elif case == "port out of range":
        extra = ["-e", json.dumps({"ray_object_manager_port": 70000})]
        needle = "ray_object_manager_port=70000: must be in [1, 65535]"
    elif case == "ports collide":
        extra = ["-e", json.dumps({"ray_metrics_export_port": 6379})]
        needle = "ray_metrics_export_port=6379 collides with ray_gcs_port"
    else:  # by default an unreachable worker is skipped (test_a_worker_host_switched_off_...); demanded, it stops the run
        groups["ray_workers"]["hosts"]["raylab-ghost"] = {"ansible_host": "127.0.0.1", "ansible_port": 1}
        extra = ["-e", json.dumps({"ray_require_all_hosts": True})]
        needle = "Hosts that do not answer: raylab-ghost (ray_require_all_hosts is true)"
    before = {host: host_state(host) for host in hosts_of(fresh_hosts)}
    result = run_runner("site", "-i", write_inventory(tmp_path, data), *extra)
    assert result.rc == 1
    assert needle in result.stderr, result.stderr[-3000:]
    if case.startswith("unreachable worker"):
        assert "port 1: Connection refused" in result.stderr
        assert result.summary["hosts"]["raylab-ghost"]["unreachable"] == 1
    else:
        assert "Nothing was changed" in result.stderr
    assert {host: host_state(host) for host in before} == before
    # the engines were not even started (so no container could have been): the run stopped before the docker role
    assert all(ray_containers(host) is None for host in before)


def test_check_mode_on_fresh_hosts_reports_changes_and_changes_nothing(fresh_hosts):
    before = {host: host_state(host) for host in hosts_of(fresh_hosts)}
    result = run_runner("site", "-i", str(fresh_hosts), "--check", "--diff")
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["changed"] > 0
    assert "+++ after: /etc/docker/daemon.json" in result.stderr
    assert {host: host_state(host) for host in before} == before
    assert all(ray_containers(host) is None for host in before), "check mode started no engine"
    # the LAN image cache would be installed on the head's host, and is not
    assert re.search(rf"changed\s+{HEAD}\s+Say the package a real run installs", result.stderr), result.stderr[-3000:]
    assert lab.host_exec(HEAD, "test", "-e", "/usr/bin/docker-registry", check=False).returncode != 0


@pytest.fixture(scope="module")
def deployed(fresh_hosts):
    started = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    result = run_runner("site", "-i", str(fresh_hosts))
    assert result.rc == 0, result.stderr[-5000:]
    result.started = started  # the mirror's access log (UTC, to the second) from here on is this deployment's
    return result


def test_site_on_three_hosts_puts_one_node_on_each_host_ip(fresh_hosts, deployed):
    check = deployed.summary["check"]
    assert check["passed"] and check["nodes_expected"] == 3 and check["nodes_alive"] == 3
    expected = {"ray-head@raylab-host-0": address(fresh_hosts, "raylab-host-0"),
                "ray-worker-1@raylab-host-1": address(fresh_hosts, "raylab-host-1"),
                "ray-worker-1@raylab-host-2": address(fresh_hosts, "raylab-host-2")}
    assert {node["node_name"]: node["ip"] for node in check["nodes"]} == expected
    assert deployed.summary["dashboard_url"] == f"http://{address(fresh_hosts, HEAD)}:8265"
    # the head first, then the workers (of every host at once)
    head_started = engine_events(HEAD, "ray-head", "start", deployed.started)[-1]
    created = {}
    for host in ("raylab-host-1", "raylab-host-2"):
        [created[host]] = engine_events(host, "ray-worker-1", "create", deployed.started)
        assert created[host] >= head_started, host
    # all workers at once, by the engines' own clocks to the nanosecond: created by the same task on both hosts
    # (one host after the other, the second would wait out the first's whole docker_container run, over a second)
    assert abs(created["raylab-host-1"] - created["raylab-host-2"]) < 0.5, created
    # The LAN image cache on the head's host: the only host that fetched layers from the upstream mirror, each layer
    # of each repository once (distribution also starts a pass-on copy, which the role cuts off after a few MB)
    head_ip = address(fresh_hosts, HEAD)
    fetches = upstream_blob_fetches(deployed.started)
    assert fetches and {client for client, _, _ in fetches} == {head_ip}, sorted(fetches)
    for key, sizes in fetches.items():
        assert sum(sizes) < max(sizes) + 16 * 2**20, f"more than one copy of {key} crossed the upstream link: {sizes}"
    # then the pulls ran in parallel: every host asked the cache for the image's layers within the same few
    # seconds (the log has whole seconds and stamps each request as it arrives; one host after the other,
    # each would wait for the previous host's whole pull, several seconds of 635 MB through the cache)
    pulls = pull_intervals({host: address(fresh_hosts, host) for host in hosts_of(fresh_hosts)}, deployed.started,
                           lab.host_exec(HEAD, "cat", CACHE_LOG).stdout)
    starts = [start for start, _ in pulls.values()]
    assert len(pulls) == 3 and (max(starts) - min(starts)).total_seconds() <= 3, pulls
    cache_url = f"http://{head_ip}:5050"
    assert [line for line in deployed.summary["image_cache"] if f"from the LAN image cache {cache_url}" in line] == \
        [f"{host} pulled {', '.join(images)} from the LAN image cache {cache_url} on {HEAD}" for host, images in
         [(HEAD, [f"{lab.pinned_image()[0]}:{lab.pinned_image()[1]}", "redis:7.0.15", "prom/prometheus:v2.53.3"]),
          ("raylab-host-1", [f"{lab.pinned_image()[0]}:{lab.pinned_image()[1]}"]),
          ("raylab-host-2", [f"{lab.pinned_image()[0]}:{lab.pinned_image()[1]}"])]]
    for host in hosts_of(fresh_hosts):
        # one node per host keeps the whole host: all its CPUs, all its RAM but the host's reserve
        container = "ray-head" if host == HEAD else "ray-worker-1"
        info = json.loads(lab.host_exec(host, "docker", "inspect", container).stdout)[0]
        engine = json.loads(lab.host_exec(host, "docker", "info", "--format", "{{json .}}").stdout)
        assert f"--num-cpus={engine['NCPU']}" in info["Config"]["Cmd"], host
        reserved = max(2**30, int(engine["MemTotal"] * 0.1)) // 2**20 * 2**20
        assert abs(engine["MemTotal"] - reserved - info["HostConfig"]["Memory"]) < 2**20, host
        mode, uid, gid = lab.host_exec(host, "stat", "-c", "%a %u %g", "/etc/ray-docker/ray/auth_token").stdout.split()
        assert (mode, uid, gid) == ("600", "1000", "100"), host
        password = lab.host_exec(host, "stat", "-c", "%a %u %g", "/etc/ray-docker/ray/redis_password", check=False)
        if host == HEAD:
            assert password.stdout.split() == ["600", "1000", "100"], "the GCS store's password: the head's user only"
        else:
            assert password.returncode != 0, f"the GCS store's password is on {host}, which has no use for it"
        mirrors = json.loads(lab.host_exec(host, "docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}").stdout)
        assert mirrors == [cache_url + "/", load_mirror(fresh_hosts) + "/"], (host, mirrors)
    # host networking: Redis answers on the head host's loopback only, never on its LAN address
    with pytest.raises(OSError):
        socket.create_connection((address(fresh_hosts, HEAD), 6390), timeout=3).close()
    assert lab.host_exec(HEAD, "python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 6390), 3)",
                         check=False).returncode == 0, "and it does answer there"


CACHE_LOG = "/var/log/ray-docker/registry-cache.log"
ACCESS = re.compile(r'^(\S+) - - \[([^ ]+) [^\]]+\] "GET /v2/(\S+)/blobs/(\S+) HTTP[^"]*" 200 (\d+)', re.MULTILINE)


def upstream_blob_fetches(since):
    """{(client, repository, digest): [bytes of each answered GET]} of the lab mirror's blobs since `since`."""
    fetches = {}
    for client, stamp, repository, digest, size in ACCESS.findall((lab.cache_dir() / "registry.log").read_text(errors="ignore")):
        if datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S") >= since:
            fetches.setdefault((client, repository, digest), []).append(int(size))
    return fetches


def pull_intervals(addresses, since, log):
    """{host: (first, last)} time of its requests for the Ray image's blobs since `since`, from a registry's
    access log."""
    repository, _, _ = lab.pinned_image()
    intervals = {}
    for host, ip in addresses.items():
        times = [datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S")
                 for stamp in re.findall(rf"^{re.escape(ip)} - - \[([^ ]+) [^\]]+\] \"GET /v2/{re.escape(repository)}/blobs/",
                                         log, re.MULTILINE)]
        times = [time for time in times if time >= since]
        if times:
            intervals[host] = (min(times), max(times))
    return intervals


def test_a_refused_run_leaves_the_running_hosts_alone(fresh_hosts, deployed):
    """A bad value against the deployed cluster: every host's containers and daemon.json stay as they were."""
    before = {host: (ray_containers(host), host_state(host)) for host in hosts_of(fresh_hosts)}
    assert all(containers for containers, _ in before.values())
    result = run_runner("site", "-i", str(fresh_hosts), "-e", json.dumps({"ray_cluster_object_store_fraction": 1.5}))
    assert result.rc == 1 and "ray_cluster_object_store_fraction=1.5: must be in (0, 1]" in result.stderr
    assert {host: (ray_containers(host), host_state(host)) for host in before} == before


def load_mirror(inventory):
    return load(inventory)["all"]["vars"]["docker_registry_mirrors"][0]


def test_second_site_changes_and_restarts_nothing(fresh_hosts, deployed):
    before = all_ray_containers(hosts_of(fresh_hosts))
    result = run_runner("site", "-i", str(fresh_hosts))
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["changed"] == 0, [line for line in result.stderr.splitlines() if " changed " in line]
    assert result.summary["check"]["passed"]
    assert all_ray_containers(hosts_of(fresh_hosts)) == before


def test_logs_brings_every_nodes_ray_logs_and_containers_logs_without_a_secret(fresh_hosts, deployed, tmp_path):
    archive = tmp_path / "lab-logs.tar.gz"
    token = (Path.home() / ".config" / "ray-docker" / "ray" / "auth_token").read_bytes().strip()
    password = (Path.home() / ".config" / "ray-docker" / "ray" / "redis_password").read_bytes().strip()
    # a log line that carries both secrets (a user's job printing its environment, say)
    node = "/var/lib/ray-docker/ray/ray-worker-1"
    lab.host_exec("raylab-host-1", "sh", "-c", f"echo 'leaked {token.decode()} and {password.decode()}' >> "
                  f"{node}/$(basename $(readlink {node}/session_latest))/logs/leak.log")
    result = run_runner("logs", "-i", str(fresh_hosts), "-o", str(archive))
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["logs"]["file"] == str(archive) and sorted(result.summary["logs"]["hosts"]) == hosts_of(fresh_hosts)
    with tarfile.open(archive) as bundle:
        names = bundle.getnames()
        index = bundle.extractfile("INDEX.txt").read().decode()
        text = b"".join(bundle.extractfile(member).read() for member in bundle.getmembers() if member.isfile())
    for host in hosts_of(fresh_hosts):
        node = "ray-head" if host == HEAD else "ray-worker-1"
        assert any(re.fullmatch(rf"{host}/ray/{node}/session_[^/]+/logs/raylet\.out", name) for name in names), host
        assert f"{host}/docker/{node}.log" in names, host
        assert f"{host}:ray/{node}/" in index, "the index says where each file came from"
    assert any(re.fullmatch(rf"{HEAD}/ray/ray-head/session_[^/]+/logs/gcs_server\.out", name) for name in names)
    assert f"{HEAD}/docker/ray-redis.log" in names and any(name.startswith("artifacts/") for name in names)
    assert len(token) == 64 and len(password) >= 32
    assert token not in text and password not in text, "no secret in the archive"
    assert b"leaked <redacted> and <redacted>" in text, "the leaked line is there, its secrets replaced"


def test_packages_are_built_once_on_the_cache_host_and_pulled_by_the_others_from_the_lan(fresh_hosts, deployed):
    """README "Your packages on every node", in a lab: one build on the LAN cache's host (the head's), one push into
    the LAN registry there, every other host pulling it from that registry, the import proven on every node."""
    packages = json.dumps({"ray_image_pip_packages": ["tomli-w==1.0.0"],
                           "ray_image_build_ca_file": "/etc/ssl/certs/ca-certificates.crt"})
    try:
        result = run_runner("site", "-i", str(fresh_hosts), "-e", packages, timeout=1800)
        assert result.rc == 0 and result.summary["check"]["passed"], result.stderr[-5000:]
        head_ip = address(fresh_hosts, HEAD)
        image = result.summary["upgrade"]["image"]
        assert image.startswith(f"{head_ip}:5051/ray-docker/ray:2.60.0-py311-cpu-"), image
        assert all(node["imports"] == {"tomli_w": ""} for node in result.summary["check"]["nodes"])
        events = last_run_events()
        assert module_runs(events, "ray_docker.cluster.ray_image_build") == {HEAD: 1}, "one build, on one host"
        registry_log = lab.host_exec(HEAD, "sh", "-c", "docker logs ray-registry 2>&1").stdout
        pushes = [line for line in registry_log.splitlines() if "PUT /v2/ray-docker/ray/manifests/" in line]
        assert len(pushes) == 1, "one push"
        for host in ("raylab-host-1", "raylab-host-2"):
            pulls = [line for line in registry_log.splitlines()
                     if "GET /v2/ray-docker/ray/manifests/" in line and address(fresh_hosts, host) in line]
            assert pulls, f"{host} pulled the image from the LAN registry"
            running = json.loads(lab.host_exec(host, "docker", "inspect", "ray-worker-1").stdout)[0]["Config"]["Image"]
            assert running == image, host
        config = json.loads(lab.host_exec("raylab-host-1", "cat", "/etc/docker/daemon.json").stdout)
        assert f"{head_ip}:5051" in config["insecure-registries"]
        print(f"3 lab hosts, a package from the index: built and shared in {result.summary['elapsed_seconds']} s, "
              f"nodes down {result.summary['upgrade']['downtime_seconds']} s")
    finally:
        back = run_runner("site", "-i", str(fresh_hosts))
        assert back.rc == 0 and back.summary["check"]["passed"], back.stderr[-3000:]


def prometheus_targets(inventory, host=HEAD):
    """{instance: health} of the Prometheus on `host` (the head's by default), as the control node reaches it."""
    url = f"http://{address(inventory, host)}:9090/api/v1/targets"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return {t["labels"]["instance"]: t["health"] for t in json.loads(response.read())["data"]["activeTargets"]}


def test_a_fourth_host_joins_and_nothing_else_restarts(fresh_hosts, deployed):
    before = all_ray_containers(hosts_of(fresh_hosts))
    inventory = lab.ensure_hosts(4)
    started = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    result = run_runner("site", "-i", str(inventory))
    assert result.rc == 0, result.stderr[-3000:]
    # its image came from the LAN cache, which had every layer: nothing crossed the upstream link
    assert upstream_blob_fetches(started) == {}
    assert f"raylab-host-3 pulled {':'.join(lab.pinned_image()[:2])} from the LAN image cache" in \
        "\n".join(result.summary["image_cache"])
    assert result.summary["check"]["nodes_alive"] == 4 and result.summary["check"]["passed"]
    assert {host: ray_containers(host) for host in before} == before, "Prometheus too: it reloaded its targets"
    assert result.summary["hosts"]["raylab-host-3"]["changed"] > 0
    # the new node is scraped: Prometheus took the new target by a reload, not a restart
    new_target = f"{address(inventory, 'raylab-host-3')}:6384"
    _, targets = wait_for(lambda: (lambda t: t if t.get(new_target) == "up" else None)(prometheus_targets(inventory)), 60)
    assert targets and targets[new_target] == "up", prometheus_targets(inventory)


MOVED_TO = "raylab-host-1"


def running_prometheus(host):
    return lab.host_exec(host, "docker", "ps", "-q", "--filter", "name=^ray-prometheus$").stdout.strip() != ""


def test_monitoring_moves_to_another_ray_host(fresh_hosts, deployed):
    """`ray_monitoring_host`: Prometheus runs on that Ray host, scrapes every node from there, the head points
    Ray's dashboard at it, and it leaves the head's host; the workers are not touched. The next test's first `site`
    (the inventory's default) moves it back and checks that (one deployment shared, not two)."""
    inventory = lab.ensure_hosts(4)
    before = all_ray_containers(hosts_of(inventory))
    result = run_runner("site", "-i", str(inventory), "-e", f"ray_monitoring_host={MOVED_TO}")
    assert result.rc == 0 and result.summary["check"]["passed"], result.stderr[-3000:]
    assert running_prometheus(MOVED_TO) and not running_prometheus(HEAD)
    env = json.loads(lab.host_exec(HEAD, "docker", "inspect", "ray-head").stdout)[0]["Config"]["Env"]
    assert f"RAY_PROMETHEUS_HOST=http://{address(inventory, MOVED_TO)}:9090" in env, env
    wanted = {f"{address(inventory, host)}:6384" for host in hosts_of(inventory)}
    wanted |= {f"{address(inventory, HEAD)}:{port}" for port in (44227, 44217)}
    _, targets = wait_for(lambda: (lambda t: t if set(t) == wanted and set(t.values()) == {"up"} else None)(
        prometheus_targets(inventory, MOVED_TO)), 60)
    assert targets, prometheus_targets(inventory, MOVED_TO)
    after = all_ray_containers(hosts_of(inventory))
    workers = [host for host in hosts_of(inventory) if host not in (HEAD, MOVED_TO)]
    assert {host: after[host] for host in workers} == {host: before[host] for host in workers}


def cache_upload_answer(host):
    """How the running LAN cache answers an upload, asked on its own host: distribution 2.8 in read-only mode has no
    upload route at all (405, plain "Method not allowed"); as a pull-through proxy it refuses with its own
    UNSUPPORTED error (both seen here against Debian's docker-registry)."""
    script = ("import urllib.request, urllib.error\n"
              "request = urllib.request.Request('http://127.0.0.1:5050/v2/raylab/probe/blobs/uploads/', method='POST')\n"
              "try:\n    answer = urllib.request.urlopen(request, timeout=10)\n"
              "except urllib.error.HTTPError as error:\n    answer = error\n"
              "print(answer.status if hasattr(answer, 'status') else answer.code, answer.read().decode())\n")
    return lab.host_exec(host, "python3", "-c", script).stdout.strip()


def cache_config():
    return json.loads(lab.host_exec(HEAD, "cat", "/etc/ray-docker/registry-cache/config.yml").stdout)


def test_the_lan_cache_down_its_upstream_away_or_its_disk_full_loses_no_pull(fresh_hosts, deployed):
    """Faults of the LAN image cache (on the head's host). Pulls use a second tag of the Ray image (its layers are on
    every host already, so only the tag is asked for) and images a host does not have yet."""
    inventory = lab.ensure_hosts(4)
    ready = run_runner("site", "-i", str(inventory))  # after the test above: the monitoring back on the head's host
    assert ready.rc == 0 and ready.summary["check"]["passed"], ready.stderr[-3000:]
    assert running_prometheus(HEAD) and not running_prometheus(MOVED_TO), "the default puts Prometheus back"
    hosts = hosts_of(inventory)
    repository, tag, _ = lab.pinned_image()
    alias = f"{repository}:{tag.replace('2.60.0', '2.60.1', 1)}"
    lab.tag_in_mirror(repository, tag, alias.split(":", 1)[1])
    newer = ("-e", "ray_version=2.60.1")  # the image step alone pulls it; no container changes

    def untag():
        for host in hosts:
            lab.host_exec(host, "docker", "rmi", alias, check=False)

    # warm: every host's pull of a new tag is served by the cache
    untag()
    served = run_runner("image", "-i", str(inventory), *newer)
    assert served.rc == 0, served.stderr[-3000:]
    lines = "\n".join(served.summary["image_cache"])
    assert all(f"{host} pulled {alias} from the LAN image cache" in lines for host in hosts), lines

    # the upstream away: the warm cache still serves the tag (from its own copy) and every layer it holds; restarted
    # meanwhile, it serves them read-only; with the upstream back, it proxies again
    lab.stop_registry(lab.cache_dir())
    try:
        lab.host_exec("raylab-host-3", "docker", "rmi", alias)
        lab.host_exec("raylab-host-3", "docker", "pull", alias)
        lab.host_exec("raylab-host-2", "docker", "pull", "redis:7.0.15")  # never on this host: every layer from the cache
        offline = run_runner("cache", "-i", str(inventory))
        assert offline.rc == 0, offline.stderr[-3000:]
        config = cache_config()
        assert "proxy" not in config and config["storage"]["maintenance"] == {"readonly": {"enabled": True}}
        # judged by the running process, not its file: it refuses an upload (read-only mode) and serves pulls
        answer = cache_upload_answer(HEAD)
        assert answer.startswith("405") and "UNSUPPORTED" not in answer, f"the running cache is not read-only: {answer}"
        lab.host_exec("raylab-host-1", "docker", "pull", "redis:7.0.15")
    finally:
        lab.ensure_registry(lab.cache_dir())
    online = run_runner("cache", "-i", str(inventory))
    assert online.rc == 0 and cache_config()["proxy"] == {"remoteurl": load_mirror(inventory)}, online.stderr[-3000:]
    assert "UNSUPPORTED" in cache_upload_answer(HEAD), "back to proxying, the running cache refuses uploads as a proxy"

    # the cache down: the pulls go past it to the next mirror, the run ends degraded naming every host, and the
    # next run of its role (site or cache) starts it again
    lab.host_exec(HEAD, "pkill", "-f", "docker-registry serve")
    untag()
    past = run_runner("image", "-i", str(inventory), *newer)
    assert past.rc == 3, past.stderr[-3000:]
    [note] = [note for note in past.summary["degraded"] if "did not serve every pull (it did not run)" in note]
    assert all(f"{host}: {alias}" in note for host in hosts), note
    healed = run_runner("cache", "-i", str(inventory))
    assert healed.rc == 0 and healed.summary["hosts"][HEAD]["changed"] > 0, healed.stderr[-3000:]
    assert lab.host_exec(HEAD, "pgrep", "-f", "docker-registry serve", check=False).returncode == 0

    # its disk full: it passes the layers on without keeping them; the pull succeeds and the run says why
    uid = lab.host_exec(HEAD, "id", "-u", "docker-registry").stdout.strip()
    lab.host_exec(HEAD, "mount", "-t", "tmpfs", "-o", f"size=1m,uid={uid},mode=0750", "tmpfs",
                  "/var/lib/ray-docker/registry-cache")
    try:
        full = run_runner("image", "-i", str(inventory), "-e", "ray_monitoring_host=raylab-host-3")
        assert full.rc == 3, full.stderr[-3000:]
        assert lab.host_exec("raylab-host-3", "docker", "image", "inspect", "prom/prometheus:v2.53.3",
                             check=False).returncode == 0, "the pull went through"
        assert any("could not keep" in note and "no space left on device" in note for note in full.summary["degraded"]), \
            full.summary["degraded"]
    finally:
        lab.host_exec(HEAD, "pkill", "-f", "docker-registry serve", check=False)  # it holds files in the small disk
        lab.host_exec(HEAD, "umount", "/var/lib/ray-docker/registry-cache")
        lab.host_exec("raylab-host-3", "docker", "rmi", "prom/prometheus:v2.53.3", check=False)
    untag()
    back = run_runner("cache", "-i", str(inventory))
    assert back.rc == 0 and back.summary["changed"] > 0, back.stderr[-3000:]


def test_a_variable_of_one_node_recreates_only_that_container(fresh_hosts, deployed, tmp_path):
    inventory = lab.ensure_hosts(4)
    before = all_ray_containers(hosts_of(inventory))
    override = write_inventory(tmp_path, {"all": {"hosts": {"raylab-host-2": {"ray_cluster_worker_num_cpus": 1}}}},
                               "override.yml")
    result = run_runner("cluster", "-i", str(inventory), "-i", override)
    assert result.rc == 0, result.stderr[-3000:]
    after = all_ray_containers(hosts_of(inventory))
    assert after["raylab-host-2"] != before["raylab-host-2"]
    assert {h: c for h, c in after.items() if h != "raylab-host-2"} == {h: c for h, c in before.items() if h != "raylab-host-2"}
    command = json.loads(lab.host_exec("raylab-host-2", "docker", "inspect", "ray-worker-1").stdout)[0]["Config"]["Cmd"]
    assert "--num-cpus=1" in command


def test_a_node_that_exits_at_start_stops_the_run_with_its_log_and_leaves_the_others(fresh_hosts, deployed, tmp_path):
    """The troubleshooting row "keeps exiting": a flag value `ray start` rejects, on one worker host only."""
    # the cluster as the test before leaves it (healthy, raylab-host-2's worker with one CPU): the other hosts' nodes
    # must stay as they are, and the run at the end puts the defaults back
    inventory = lab.ensure_hosts(4)
    before = all_ray_containers(hosts_of(inventory))
    override = write_inventory(tmp_path, {"all": {"hosts": {"raylab-host-2": {
        "ray_cluster_extra_start_args": ["--resources=not-json"]}}}}, "override.yml")
    try:
        began = time.monotonic()
        result = run_runner("site", "-i", str(inventory), "-i", override)
        took = time.monotonic() - began
        assert result.rc == 1, result.stderr[-3000:]
        problem = next((line for line in result.stderr.splitlines() if "keeps exiting" in line), "")
        assert "ray-worker-1@raylab-host-2" in problem and "Last lines of `docker logs ray-worker-1`" in result.stderr, result.stderr[-3000:]
        assert "--resources" in result.stderr.split("Last lines of `docker logs", 1)[1], "the node's own log says why"
        # neither the wait (180 s) nor the check (60 s for a restarting node) waits for a node known to crash-loop
        assert took < 45, f"stopped after {took:.0f} s, not within seconds of the crash loop"
        assert "ray-worker-1@raylab-host-2" in result.summary["check"]["reasons"][0], result.summary.get("check")
        after = all_ray_containers(hosts_of(inventory))
        assert {h: c for h, c in after.items() if h != "raylab-host-2"} == {h: c for h, c in before.items() if h != "raylab-host-2"}
    finally:
        back = run_runner("site", "-i", str(inventory))
        assert back.rc == 0 and back.summary["check"]["passed"], back.stderr[-3000:]


def test_down_limit_removes_only_that_hosts_node(fresh_hosts, deployed):
    inventory = lab.ensure_hosts(4)
    result = run_runner("down", "-i", str(inventory), "--limit", "raylab-host-3")
    assert result.rc == 0, result.stderr[-3000:]
    assert ray_containers("raylab-host-3") == {}
    assert all(ray_containers(host) for host in ["raylab-host-0", "raylab-host-1", "raylab-host-2"])
    status = run_runner("status", "-i", str(inventory)).summary["cluster"]
    assert sorted(status["alive"]) == ["ray-head@raylab-host-0", "ray-worker-1@raylab-host-1", "ray-worker-1@raylab-host-2"]
    assert status["missing"] == ["ray-worker-1@raylab-host-3"]


@pytest.fixture
def three_hosts(fresh_hosts, deployed):
    """The deployed 3-host cluster, healthy (site is a no-op when it already is)."""
    inventory = lab.ensure_hosts(3)
    result = run_runner("site", "-i", str(inventory))
    assert result.rc == 0 and result.summary["check"]["passed"], result.stderr[-3000:]
    return inventory


def check_passes(inventory, nodes=3, *extra):
    result = run_runner("check", "-i", str(inventory), *extra)
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["check"]["passed"] and result.summary["check"]["nodes_alive"] == nodes
    return result.summary["check"]


def switched_off(host):
    """The lab host's machine is off: its container stopped (its engine and Ray node with it)."""
    lab.run(["docker", "stop", "-t", "2", host])


def switched_on(host):
    """Start it again and return a fresh inventory (its address may have changed); its engine is not
    running until the docker role starts it, as after a reboot without an init system."""
    lab.run(["docker", "start", host])
    return lab.ensure_hosts(3)


def test_a_worker_host_switched_off_is_skipped_and_the_run_is_degraded(three_hosts):
    others = {host: ray_containers(host) for host in (HEAD, "raylab-host-1")}
    switched_off("raylab-host-2")
    try:
        result = run_runner("site", "-i", str(three_hosts))
        assert result.rc == 3, result.stderr[-3000:]
        assert result.summary["status"] == "degraded"
        assert [skipped["host"] for skipped in result.summary["skipped_hosts"]] == ["raylab-host-2"]
        assert "SKIPPED raylab-host-2: does not answer" in result.stderr
        check = result.summary["check"]
        assert check["passed"] and check["nodes_expected"] == 2 and check["nodes_alive"] == 2
        # Ray lists the node of the host switched off as alive until its health check gives up (about 30 s): the
        # check pins it no task (that task would wait so long) and says so
        assert check["left_out"] == ["ray-worker-1@raylab-host-2"], check
        assert "Left out of the check (their host was skipped, Ray still lists them): ray-worker-1@raylab-host-2" in result.stderr
        assert {host: ray_containers(host) for host in others} == others, "the others were not touched"
        demanded = run_runner("site", "-i", str(three_hosts), "-e", json.dumps({"ray_require_all_hosts": True}))
        assert demanded.rc == 1
        assert "Hosts that do not answer: raylab-host-2 (ray_require_all_hosts is true)" in demanded.stderr
        assert {host: ray_containers(host) for host in others} == others
    finally:
        inventory = switched_on("raylab-host-2")
    healed = run_runner("site", "-i", str(inventory))
    assert healed.rc == 0 and healed.summary["status"] == "ok", healed.stderr[-3000:]
    assert healed.summary["check"]["nodes_alive"] == 3


def test_the_head_host_switched_off_stops_the_run_before_any_change(three_hosts):
    workers = {host: (ray_containers(host), host_state(host)) for host in ("raylab-host-1", "raylab-host-2")}
    switched_off(HEAD)
    try:
        result = run_runner("site", "-i", str(three_hosts))
        assert result.rc == 1
        assert "The head raylab-host-0 does not answer: the cluster cannot be deployed without it" in result.stderr
        assert {host: (ray_containers(host), host_state(host)) for host in workers} == workers
    finally:
        inventory = switched_on(HEAD)
    healed = run_runner("site", "-i", str(inventory))
    assert healed.rc == 0, healed.stderr[-3000:]
    assert healed.summary["check"]["passed"] and healed.summary["check"]["nodes_alive"] == 3


def container_pid(host, container):
    return lab.host_exec(host, "docker", "inspect", "-f", "{{.State.Pid}}", container).stdout.strip()


def restart_count(host, container):
    return int(lab.host_exec(host, "docker", "inspect", "-f", "{{.RestartCount}}", container).stdout)


def statuses(inventory):
    result = run_runner("status", "-i", str(inventory))
    return node_ids(result.summary) if result.rc == 0 and result.summary else {}


def test_a_crashed_head_with_fault_tolerance_keeps_the_workers_and_a_detached_actor(three_hosts):
    """Host networking: the GCS store listens on the head host's loopback."""
    url = f"http://{address(three_hosts, HEAD)}:8265"
    ids = statuses(three_hosts)
    worker = ids["ray-worker-1@raylab-host-1"]
    job = submit_job(ACTOR_JOB.format(node_id=worker), url=url)
    assert actor_report(job) == {"count": 1, "node": worker}, job["logs"][-2000:]
    before = {host: restart_count(host, "ray-worker-1") for host in ("raylab-host-1", "raylab-host-2")}
    lab.host_exec(HEAD, "kill", "-9", container_pid(HEAD, "ray-head"))
    took, nodes = wait_for(lambda: (lambda n: n if len(n) == 3 and n["ray-head@raylab-host-0"] !=
                                    ids["ray-head@raylab-host-0"] else None)(statuses(three_hosts)), 90, interval=2)
    assert nodes, statuses(three_hosts)
    print(f"lab: every node ALIVE again {took:.1f} s after the head crashed")
    assert {host: restart_count(host, "ray-worker-1") for host in before} == before
    assert {name: node for name, node in nodes.items() if "worker" in name} == \
        {name: node for name, node in ids.items() if "worker" in name}
    assert actor_report(submit_job(ACTOR_ASK, url=url)) == {"count": 2, "node": worker}
    check_passes(three_hosts)


def test_a_crashed_worker_on_a_lab_host_comes_back_by_itself(three_hosts):
    before = restart_count("raylab-host-1", "ray-worker-1")
    lab.host_exec("raylab-host-1", "kill", "-9", container_pid("raylab-host-1", "ray-worker-1"))
    wait_for(lambda: restart_count("raylab-host-1", "ray-worker-1") > before, 30)
    assert restart_count("raylab-host-1", "ray-worker-1") == before + 1
    check_passes(three_hosts)


def test_a_lab_hosts_engine_restarted_brings_its_node_back(three_hosts):
    host = "raylab-host-2"
    lab.host_exec(host, "start-stop-daemon", "--stop", "--retry", "TERM/30/KILL/5", "--pidfile", "/var/run/docker.pid")
    lab.host_exec(host, "start-stop-daemon", "--start", "--background", "--pidfile", "/var/run/docker.pid",
                  "--output", "/var/log/dockerd.log", "--exec", "/usr/sbin/dockerd", "--", "--pidfile", "/var/run/docker.pid")
    took, nodes = wait_for(lambda: (lambda n: n if len(n) == 3 else None)(statuses(three_hosts)), 90, interval=2)
    assert nodes, statuses(three_hosts)
    print(f"lab: every node ALIVE again {took:.1f} s after {host}'s engine restarted")
    check_passes(three_hosts)


def test_a_job_goes_to_the_remote_head_and_runs_on_every_host(three_hosts, tmp_path):
    (tmp_path / "where.py").write_text(WHERE)
    runner = [sys.executable, str(ROOT / "runner.py"), "job"]
    submitted = subprocess.run([*runner, "submit", "-i", str(three_hosts), "--json", "--", "python", "where.py"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert submitted.returncode == 0, submitted.stderr[-3000:]
    assert "NODES 3 OF 3" in submitted.stderr and f"submitted to http://{address(three_hosts, HEAD)}:8265" in submitted.stderr
    job_id = json.loads(submitted.stdout)["job_id"]
    listed = subprocess.run([*runner, "list", "-i", str(three_hosts), "--json"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert {row["job_id"]: row["status"] for row in json.loads(listed.stdout)}[job_id] == "SUCCEEDED"


# ---- a new image for running nodes: upgrade, downgrade, refusal, rollback, drain (issue 28) ----

OLDER, NEWER = lab.OLDER_RAY_VERSION, lab.pinned_image()[2]


def job(inventory, *args, cwd, command=()):
    argv = [sys.executable, str(ROOT / "runner.py"), "job", *args, "-i", str(inventory), "--json",
            *(["--", *command] if command else [])]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)


def submit(inventory, tmp_path, *command, version=None):
    """A job sent with `runner.py job submit --no-wait`; its id."""
    extra = ["-e", f"ray_version={version}"] if version else []
    sent = job(inventory, "submit", "--no-wait", *extra, cwd=tmp_path, command=list(command))
    assert sent.returncode == 0, sent.stderr[-2000:]
    return json.loads(sent.stdout)["job_id"]


def node_versions(inventory, version):
    """{node: Ray version} as the check job sees it on the cluster expected to run `version`."""
    check = check_passes(inventory, 3, "-e", f"ray_version={version}")
    return {node["node_name"]: node["ray_version"] for node in check["nodes"]}


def job_status(url, job_id, token=Path.home() / ".config" / "ray-docker" / "ray" / "auth_token"):
    request = urllib.request.Request(f"{url}/api/jobs/{job_id}", headers={"Authorization": f"Bearer {token.read_text().strip()}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["status"]


class JobWatch:
    """The last status the Jobs API gave for a job, asked every second until the API stops answering (the old head
    removed): what a user watching the dashboard saw before the swap."""

    def __init__(self, url, job_id, token=Path.home() / ".config" / "ray-docker" / "ray" / "auth_token"):
        import threading

        self.url, self.job_id, self.token, self.seen = url, job_id, Path(token).read_text().strip(), []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        failures = 0
        while failures < 5:
            try:
                request = urllib.request.Request(f"{self.url}/api/jobs/{self.job_id}",
                                                 headers={"Authorization": f"Bearer {self.token}"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    self.seen.append(json.loads(response.read())["status"])
                failures = 0
            except OSError:
                failures += 1
            time.sleep(1)


def test_a_new_version_stops_a_running_job_when_asked_and_every_node_runs_it(three_hosts, tmp_path):
    """Ray {NEWER} -> {OLDER} (a downgrade takes the upgrade's path): a job that would run ten minutes is stopped and
    named, the detached-actor count is reported, every node runs the other version, the check passes."""
    assert {OLDER, NEWER} <= set(lab.ray_versions()), "the lab mirror serves an older real Ray"
    long_job = submit(three_hosts, tmp_path, "sleep", "600")
    result = run_runner("site", "-i", str(three_hosts), "-e",
                        json.dumps({"ray_version": OLDER, "ray_cluster_upgrade_stop_jobs": True}))
    assert result.rc == 0, result.stderr[-4000:]
    upgrade = result.summary["upgrade"]
    assert upgrade["from"] == [NEWER] and upgrade["to"] == OLDER and upgrade["jobs_stopped"] == [long_job]
    assert f"UPGRADE stopped job {long_job}" in result.stderr
    assert isinstance(upgrade["downtime_seconds"], (int, float)) and upgrade["downtime_seconds"] > 0
    assert set(node_versions(three_hosts, OLDER).values()) == {OLDER}
    print(f"lab: {NEWER} -> {OLDER} on 3 hosts, down {upgrade['downtime_seconds']} s ({upgrade['steps']})")


@pytest.fixture
def three_hosts_on_older(fresh_hosts, deployed):
    """The deployed 3-host cluster on the lab's older Ray (where the test before leaves it; else put there now)."""
    inventory = lab.ensure_hosts(3)
    result = run_runner("site", "-i", str(inventory), "-e", f"ray_version={OLDER}")
    assert result.rc == 0 and result.summary["check"]["passed"], result.stderr[-3000:]
    return inventory


def test_an_upgrade_waits_for_a_running_job_then_swaps_every_node_and_times_the_downtime(three_hosts_on_older, tmp_path):
    """On {OLDER}: a job of about 20 s and a detached actor; `site` with the default (newer) version waits for the job
    (it SUCCEEDS on the old cluster), names the actor as lost, then swaps every node at once; the downtime and its
    steps are in the recap and --json; every node runs the new version; the control node's own Ray (the newer one)
    drove the old cluster through its HTTP APIs."""
    url = f"http://{address(three_hosts_on_older, HEAD)}:8265"
    # the actor lives on the head, which is replaced without a drain: on a worker it would keep that worker's drain
    # busy for the whole deadline (30 s; the drain of a busy node is the drain test's). The old head's removal is timed
    # below: its stop does not wait for the actor's drain either.
    head = statuses(three_hosts_on_older)["ray-head@raylab-host-0"]
    actor = submit_job(ACTOR_JOB.format(node_id=head), url=url)
    assert actor["status"] == "SUCCEEDED", actor["logs"][-2000:]
    twenty = submit(three_hosts_on_older, tmp_path, "python", "-c", "import time; time.sleep(20); print('done')", version=OLDER)
    watch = JobWatch(url, twenty)
    result = run_runner("site", "-i", str(three_hosts_on_older))
    assert result.rc == 0, result.stderr[-4000:]
    upgrade = result.summary["upgrade"]
    assert upgrade, result.stderr[-4000:]
    assert upgrade["from"] == [OLDER] and upgrade["to"] == NEWER and upgrade["jobs_waited_for"] == [twenty]
    assert upgrade["jobs_stopped"] == [] and upgrade["actors_lost"] == ["e2e/e2e-counter (Counter)"]
    assert "SUCCEEDED" in watch.seen, f"the job ended on the old cluster before the swap: {watch.seen}"
    assert set(upgrade["steps"]) == {"stopped", "started", "alive", "proven"} and upgrade["downtime_seconds"] > 0
    assert "UPGRADE Ray 2.59.0 -> 2.60.0" in result.stderr and "lost detached actor e2e/e2e-counter" in result.stderr
    head_removal = task_result(last_run_events(), HEAD, "Remove the old head")
    assert head_removal["duration"] < 20, f"the old head's stop waited for a drain: {head_removal['duration']} s"
    assert set(node_versions(three_hosts_on_older, NEWER).values()) == {NEWER}
    print(f"lab: {OLDER} -> {NEWER} on 3 hosts, down {upgrade['downtime_seconds']} s ({upgrade['steps']})")


def test_a_job_still_running_after_the_wait_refuses_the_new_version_and_changes_nothing(three_hosts, tmp_path):
    running = submit(three_hosts, tmp_path, "sleep", "300")
    before = all_ray_containers(hosts_of(three_hosts))
    try:
        result = run_runner("site", "-i", str(three_hosts), "-e",
                            json.dumps({"ray_version": OLDER, "ray_cluster_upgrade_wait_seconds": 4}))
        assert result.rc == 1, result.stderr[-3000:]
        assert f"jobs still running after 4 s: {running} (RUNNING: sleep 300)" in result.stderr
        assert "Nothing was stopped" in result.stderr and "ray_cluster_upgrade_stop_jobs=true" in result.stderr
        assert all_ray_containers(hosts_of(three_hosts)) == before
    finally:
        assert job(three_hosts, "stop", running, cwd=tmp_path).returncode == 0


def test_a_new_image_one_host_cannot_pull_is_refused_before_anything_stops(three_hosts):
    host = "raylab-host-2"
    lab.host_exec(host, "docker", "rmi", f"rayproject/ray:{OLDER}-py311-cpu", check=False)
    rules = ["OUTPUT", "-p", "tcp", "-m", "multiport", "--dports", "5000,5050", "-j", "REJECT"]
    lab.host_exec(host, "iptables", "-I", *rules)
    before = all_ray_containers(hosts_of(three_hosts))
    try:
        result = run_runner("site", "-i", str(three_hosts), "-e",
                            json.dumps({"ray_version": OLDER, "ray_image_pull_retries": 1}))
        assert result.rc == 1, result.stderr[-3000:]
        assert f"{host} could not get the new image rayproject/ray:{OLDER}-py311-cpu" in result.stderr
        assert "nothing was stopped, the cluster still runs" in result.stderr
        assert all_ray_containers(hosts_of(three_hosts)) == before, "no node stopped anywhere"
    finally:
        lab.host_exec(host, "iptables", "-D", *rules)
    check_passes(three_hosts)


def broken_image():
    """The newer Ray's image whose `ray` cannot start (a node's start fails the way a bad release would), pushed to the
    lab mirror under a tag of its own."""
    repository, tag, _ = lab.pinned_image()
    broken = f"{tag}-broken"
    dockerfile = (f"FROM {lab.MIRROR_HOST}/{repository}:{tag}\n"
                  "RUN printf '#!/bin/sh\\necho \"this Ray cannot start\" >&2\\nexit 3\\n' > /home/ray/anaconda3/bin/ray\n")
    ref = f"{lab.MIRROR_HOST}/{repository}:{broken}"
    subprocess.run(["docker", "build", "-t", ref, "-"], input=dockerfile, text=True, check=True, capture_output=True,
                   env={**__import__("os").environ, "DOCKER_BUILDKIT": "0"})
    subprocess.run(["docker", "push", ref], check=True, capture_output=True)
    return broken


def test_a_new_image_that_cannot_start_is_rolled_back_and_the_old_one_proven(three_hosts):
    broken = broken_image()
    result = run_runner("site", "-i", str(three_hosts), "-e", json.dumps({"ray_image_tag": broken}))
    assert result.rc == 1, result.stderr[-4000:]
    assert f"The new image rayproject/ray:{broken} (Ray {NEWER}) did not pass" in result.stderr, result.stderr[-6000:]
    assert "this Ray cannot start" in result.stderr, "the cause is named with the new node's own log"
    assert f"Rolled back to rayproject/ray:{NEWER}-py311-cpu" in result.stderr
    for host in hosts_of(three_hosts):
        images = lab.host_exec(host, "docker", "ps", "--filter", "label=ray-docker.node", "--format", "{{.Image}}").stdout.split()
        assert images and set(images) == {f"rayproject/ray:{NEWER}-py311-cpu"}, (host, images)
    assert set(node_versions(three_hosts, NEWER).values()) == {NEWER}


PINNED_TASK = """
import ray, time
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
ray.init()
node = [n["NodeID"] for n in ray.nodes() if n["Alive"] and n.get("NodeName") == "ray-worker-1@raylab-host-2"][0]
@ray.remote(num_cpus=1, max_retries=3)
def work(target):
    here = ray.get_runtime_context().get_node_id()
    time.sleep(300 if here == target else 1)  # only the drain ends it early: retried elsewhere, it is quick
    return here
ran_on = ray.get(work.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=True)).remote(node))
print("RAN_ON", ran_on, "DRAINED", node)
"""


def test_draining_a_worker_host_retries_its_task_elsewhere_and_site_brings_it_back(three_hosts, tmp_path):
    url = f"http://{address(three_hosts, HEAD)}:8265"
    others = {host: ray_containers(host) for host in (HEAD, "raylab-host-1")}
    (tmp_path / "pinned.py").write_text(PINNED_TASK)
    pinned = submit(three_hosts, tmp_path, "python", "pinned.py")
    wait_for(lambda: job_status(url, pinned) == "RUNNING", 60)
    time.sleep(5)  # the task has started on raylab-host-2
    drained = run_runner("drain", "raylab-host-2", "--deadline", "5", "-i", str(three_hosts))
    assert drained.rc == 0, drained.stderr[-3000:]
    assert drained.summary["drain"]["host"] == "raylab-host-2" and int(drained.summary["drain"]["tasks"]) >= 1
    # past the deadline the busy node's container stops within Ray's teardown: it is not drained once more for the
    # deadline it was created with (30 s)
    removal = task_result(last_run_events(), "raylab-host-2", "Remove their containers")
    assert removal["duration"] < 20, removal["duration"]
    assert "DRAINED raylab-host-2: " in drained.stderr
    assert len(drained.summary["drain"]["stopped_busy"]) == 1, "its node still ran the task at the deadline"
    assert "1 nodes were still busy at the deadline" in drained.stderr
    assert ray_containers("raylab-host-2") == {}, "its nodes were removed"
    assert {host: ray_containers(host) for host in others} == others, "the rest untouched"
    ended = job(three_hosts, "logs", pinned, "--follow", cwd=tmp_path)
    assert ended.returncode == 0 and json.loads(ended.stdout)["status"] == "SUCCEEDED", ended.stderr[-2000:]
    [line] = [line for line in ended.stderr.splitlines() if line.startswith("RAN_ON")]
    assert line.split()[1] != line.split()[3], "the task was retried on another node"
    refused = run_runner("drain", HEAD, "-i", str(three_hosts))
    assert refused.rc == 1 and "runs the head: draining it would stop the whole cluster" in refused.stderr
    back = run_runner("site", "-i", str(three_hosts))
    assert back.rc == 0 and back.summary["check"]["nodes_alive"] == 3, back.stderr[-3000:]


def test_a_single_remote_host_is_checked_from_the_control_node(fresh_hosts):
    """One remote host: a bridge network there, its dashboard reachable from the control node."""
    inventory = lab.ensure_hosts(1)
    result = run_runner("site", "-i", str(inventory), "-e", json.dumps({"ray_node_count": 2}))
    assert result.rc == 0, result.stderr[-3000:]
    check = result.summary["check"]
    assert check["passed"] and check["nodes_alive"] == 2
    assert result.summary["dashboard_url"] == f"http://{address(inventory, HEAD)}:8265"
    assert set(ray_containers(HEAD)) == {"ray-redis", "ray-head", "ray-worker-1", "ray-prometheus"}, \
        "the GCS store and Prometheus run beside the head"
    # a bridge network there, and the dashboard published on every address, since the control node is elsewhere
    assert lab.host_exec(HEAD, "docker", "network", "inspect", "ray").returncode == 0
    head = json.loads(lab.host_exec(HEAD, "docker", "inspect", "ray-head").stdout)[0]
    assert head["HostConfig"]["NetworkMode"] == "ray"
    assert head["HostConfig"]["PortBindings"] == {"8265/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8265"}]}
