"""Prometheus and Grafana on the embedded default (one deployment), as the user sees them.

Prometheus is the lab's image of Debian 13's prometheus 2.53.3, pulled through the mirror as
prom/prometheus:v2.53.3. Grafana runs only when the lab's mirror serves it (RAYLAB_GRAFANA_ARCHIVE, see
tests/lab/grafana.py); its tests skip otherwise, saying so. The provisioning the role generates for it
is unit-tested either way (tests/unit/test_monitoring.py).
"""

import json
import os
import time
import urllib.parse
import urllib.request

import pytest

from tests import lab

from .conftest import cluster_containers, docker, inspect, run_runner

PROMETHEUS = "http://127.0.0.1:9090"
GRAFANA = "http://127.0.0.1:3000"
NODES = {"ray-head", "ray-worker-1", "ray-worker-2"}
TOKEN = os.path.expanduser("~/.config/ray-docker/ray/auth_token")
PASSWORD = os.path.expanduser("~/.config/ray-docker/ray/grafana_admin_password")


def get(url, token=None, timeout=10):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout) as response:
        return response.status, dict(response.headers), json.loads(response.read() or b"null")


def prometheus(path, **query):
    return get(f"{PROMETHEUS}{path}" + ("?" + urllib.parse.urlencode(query) if query else ""))[2]


def samples_at(moment):
    """{series labels: value} of `up` at a past moment, as Prometheus has them stored."""
    result = prometheus("/api/v1/query", query="up", time=f"{moment:.3f}")["data"]["result"]
    return {json.dumps(entry["metric"], sort_keys=True): entry["value"][1] for entry in result}


def targets_up():
    """{target address: health} once every target has been scraped."""
    active = prometheus("/api/v1/targets")["data"]["activeTargets"]
    return {target["labels"]["instance"]: target["health"] for target in active}


def fresh_series(metric, seconds=30):
    """Series with a sample in the last `seconds`. After an engine restart Prometheus itself restarted and
    wrote no staleness marker for what a node exported before it (a node with a new address is a new
    series), so those linger for the 5-minute lookback: they are history, not nodes."""
    return prometheus("/api/v1/query", query=f"timestamp({metric}) > time() - {seconds}")["data"]["result"]


def wait_for(probe, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except OSError:
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(1)


def started(names):
    return {name: (inspect(name)["Id"], inspect(name)["State"]["StartedAt"]) for name in names}


def test_prometheus_scrapes_every_node_and_the_heads_own_metrics(healthy_cluster):
    expected = {f"{name}:6384" for name in NODES} | {"ray-head:44227", "ray-head:44217"}
    health = wait_for(lambda: (lambda t: t if set(t) == expected and set(t.values()) == {"up"} else None)(targets_up()))
    assert health, targets_up()
    series = wait_for(lambda: fresh_series("ray_node_cpu_count"))
    assert sorted(entry["metric"]["instance"] for entry in series) == sorted(f"{name}:6384" for name in NODES), series
    assert {entry["metric"]["ray_io_cluster"] for entry in series} == {"ray"}, "labelled with the cluster's name"


def test_the_heads_dashboard_reports_prometheus_healthy(healthy_cluster):
    token = open(TOKEN).read().strip()
    status, _, body = get("http://127.0.0.1:8265/api/prometheus_health", token)
    assert status == 200 and body["result"] is True, body
    env = inspect("ray-head")["Config"]["Env"]
    assert "RAY_PROMETHEUS_HOST=http://ray-prometheus:9090" in env
    assert "DASHBOARD_METRIC_PORT=44227" in env and "AUTOSCALER_METRIC_PORT=44217" in env


def test_prometheus_is_published_on_loopback_only_with_its_data_on_a_volume(healthy_cluster):
    info = inspect("ray-prometheus")
    assert info["HostConfig"]["PortBindings"] == {"9090/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9090"}]}
    assert any(mount["Type"] == "volume" and mount["Name"] == "ray-prometheus-data" for mount in info["Mounts"])
    assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"


def test_status_prints_the_monitoring_urls(healthy_cluster):
    result = run_runner("status")
    assert result.rc == 0 and result.summary["monitoring"]["prometheus"] == PROMETHEUS
    assert f"prometheus: {PROMETHEUS}" in result.stderr


def test_a_rerun_restarts_no_monitoring_container_and_no_node(healthy_cluster, mirror_vars):
    names = [name for name in cluster_containers()]
    before = started(names)
    result = run_runner("site", "-e", mirror_vars)
    assert result.rc == 0 and result.summary["changed"] == 0, result.stderr[-3000:]
    assert started(names) == before


def test_a_changed_config_is_reloaded_without_a_restart_and_prometheus_still_heals(healthy_cluster, mirror_vars):
    """The reload is a SIGHUP sent from inside the container. Sent through the Engine API's kill endpoint it
    would make the engine stop restarting the container (seen on Docker 20.10): a crash after it must
    still be healed by Docker."""
    before = started(["ray-prometheus"])
    result = run_runner("monitoring", "-e", mirror_vars, "-e", json.dumps({"ray_monitoring_scrape_interval": "15s"}))
    assert result.rc == 0 and result.summary["changed"] > 0, result.stderr[-3000:]
    assert started(["ray-prometheus"]) == before, "reloaded, not restarted"
    assert wait_for(lambda: prometheus("/api/v1/status/config")["data"]["yaml"].count("scrape_interval: 15s") > 0, 20)
    restarts = inspect("ray-prometheus")["RestartCount"]
    os.kill(inspect("ray-prometheus")["State"]["Pid"], 9)
    assert wait_for(lambda: inspect("ray-prometheus")["RestartCount"] > restarts and inspect("ray-prometheus")["State"]["Running"], 30)
    back = run_runner("monitoring", "-e", mirror_vars)
    assert back.rc == 0, back.stderr[-3000:]


def test_switching_monitoring_off_and_on_recreates_only_the_head_and_keeps_the_data(healthy_cluster, mirror_vars):
    workers = started(["ray-worker-1", "ray-worker-2"])
    # The samples of a moment before the switch, asked for by that moment (not the oldest in a window sliding with
    # the clock: with data older than the window its start moves between the two questions).
    moment = time.time() - 15
    before = samples_at(moment)
    assert before, "Prometheus has samples from before the switch"
    off = run_runner("site", "-e", mirror_vars, "-e", json.dumps({"ray_monitoring_enabled": False}))
    assert off.rc == 0, off.stderr[-3000:]
    assert "ray-prometheus" not in cluster_containers()
    assert not any(var.startswith("RAY_PROMETHEUS_HOST=") for var in inspect("ray-head")["Config"]["Env"])
    assert docker("volume", "inspect", "ray-prometheus-data", check=False).returncode == 0, "the data stays"
    on = run_runner("site", "-e", mirror_vars)
    assert on.rc == 0, on.stderr[-3000:]
    assert started(["ray-worker-1", "ray-worker-2"]) == workers, "the workers kept running throughout"
    kept = wait_for(lambda: samples_at(moment))
    assert kept == before, "samples from before are still there"


def test_the_retention_is_what_is_set_and_only_prometheus_is_recreated(healthy_cluster, mirror_vars):
    nodes = started(NODES)
    try:
        result = run_runner("monitoring", "-e", mirror_vars, "-e", "ray_monitoring_retention=3d")
        assert result.rc == 0, result.stderr[-3000:]
        assert "--storage.tsdb.retention.time=3d" in inspect("ray-prometheus")["Config"]["Cmd"]
        assert started(NODES) == nodes
    finally:
        assert run_runner("monitoring", "-e", mirror_vars).rc == 0
    assert "--storage.tsdb.retention.time=15d" in inspect("ray-prometheus")["Config"]["Cmd"]


@pytest.fixture(scope="session")
def grafana_served(mirror):
    """Decided once the lab is up, so an archive in RAYLAB_GRAFANA_ARCHIVE is pushed before the question is asked."""
    reason = lab.grafana_tests_skip_reason(lab.serves_grafana(), os.environ.get(lab.GRAFANA_ARCHIVE_VARIABLE, ""))
    if reason:
        pytest.skip(reason)


def test_a_mirror_without_grafana_still_gives_a_proven_cluster_and_ends_degraded(healthy_cluster, mirror, mirror_vars):
    """The README's one command with a mirror that has no Grafana (the lab's, or a tag it lacks when it has one):
    the cluster is proven and untouched, the run ends degraded (exit 3) naming the image, the mirror and the
    switches; with Grafana switched off the same run is ok (exit 0)."""
    settings, served = {"docker_registry_mirrors": [mirror]}, lab.serves_grafana()
    if served:
        settings["ray_grafana_image"] = "grafana/grafana:0.0.0-not-in-the-mirror"
    image = settings.get("ray_grafana_image", "grafana/grafana:" + lab.grafana.pinned_image()[1])
    nodes = started(NODES)
    degraded = run_runner("site", "-e", json.dumps(settings))
    assert degraded.rc == 3 and degraded.summary["status"] == "degraded", degraded.stderr[-3000:]
    assert degraded.summary["check"]["passed"]
    [message] = degraded.summary["degraded"]
    for named in (image, mirror, "ray_monitoring_grafana_enabled=false", "ray_image_grafana_archive"):
        assert named in message, message
    assert "DEGRADED" in degraded.stderr
    assert started(NODES) == nodes, "a missing optional image touched a Ray node"
    off = run_runner("site", "-e", json.dumps({**settings, "ray_monitoring_grafana_enabled": False}))
    assert off.rc == 0 and off.summary["status"] == "ok" and not off.summary.get("degraded"), off.stderr[-3000:]
    assert started(NODES) == nodes
    assert "ray-grafana" not in cluster_containers()
    if served:
        assert run_runner("site", "-e", mirror_vars).rc == 0, "Grafana back for the tests below"


def test_grafana_shows_rays_dashboards_to_anonymous_viewers_embedded_in_rays_dashboard(healthy_cluster, grafana_served):
    status, _, health = wait_for(lambda: get(f"{GRAFANA}/api/health"))
    assert status == 200 and health["database"] == "ok"
    status, headers, board = get(f"{GRAFANA}/api/dashboards/uid/rayDefaultDashboard")
    assert status == 200 and board["meta"]["folderTitle"] == "Ray"
    assert "X-Frame-Options" not in headers, "embedding allowed"
    _, _, sources = get(f"{GRAFANA}/api/datasources/name/Prometheus")
    assert sources["url"] == "http://ray-prometheus:9090"
    token = open(TOKEN).read().strip()
    status, _, body = get("http://127.0.0.1:8265/api/grafana_health", token)
    assert status == 200 and body["result"] is True
    assert body["data"]["grafanaHost"] == GRAFANA


def test_grafanas_admin_password_is_private_and_never_logged(healthy_cluster, grafana_served):
    assert oct(os.stat(PASSWORD).st_mode & 0o777) == "0o600"
    password = open(PASSWORD).read().strip()
    env = " ".join(inspect("ray-grafana")["Config"]["Env"])
    assert password not in env and "GF_SECURITY_ADMIN_PASSWORD__FILE=" in env
    leaks = [path for path in (lab.REPO_ROOT / ".artifacts").rglob("*") if path.is_file() and password in path.read_text(errors="ignore")]
    assert leaks == []


def test_a_mirror_without_prometheus_still_gives_a_proven_cluster_without_metrics_and_ends_degraded(
        healthy_cluster, mirror, mirror_vars):
    """Prometheus is optional like Grafana: an image that cannot be had is left out, named in the recap, the run
    ends degraded (exit 3), the cluster is proven, and the head no longer points at a Prometheus that does not run."""
    missing = "prom/prometheus:v0.0.0-not-in-the-mirror"
    degraded = run_runner("site", "-e", mirror_vars, "-e", json.dumps({"ray_prometheus_image": missing}))
    try:
        assert degraded.rc == 3 and degraded.summary["status"] == "degraded", degraded.stderr[-3000:]
        assert degraded.summary["check"]["passed"]
        [message] = degraded.summary["degraded"]
        assert missing in message and mirror in message and "ray_monitoring_enabled=false" in message, message
        assert "ray-prometheus" not in docker("ps", "--format", "{{.Names}}").stdout.split()
        env = " ".join(inspect("ray-head")["Config"]["Env"])
        assert "RAY_PROMETHEUS_HOST" not in env and "RAY_GRAFANA_HOST" not in env, env
    finally:
        back = run_runner("site", "-e", mirror_vars)
    assert back.rc == 0 and "ray-prometheus" in cluster_containers_and_monitoring(), back.stderr[-3000:]


def cluster_containers_and_monitoring():
    return docker("ps", "--filter", "label=ray-docker.cluster=ray", "--format", "{{.Names}}").stdout.split()


def test_grafanas_path_runs_end_to_end_with_a_stand_in_image_and_goes_with_down(healthy_cluster, mirror, mirror_vars):
    """Everything of Grafana's path that is the project's, with a STAND-IN image (tests/lab/recipes/grafana_standin.py:
    not Grafana, a small server laid out like the official image that reads back what the role provisioned): the
    container the role runs (user 472, the provisioning, Ray's dashboards and the password file read-only, its data on
    a volume it can write, loopback only, embedding and anonymous viewing on), the datasource and Ray's dashboards it
    is given, what Ray's head reads (RAY_GRAFANA_HOST, RAY_GRAFANA_IFRAME_HOST) and Ray's own health check of it; then
    `down -e ray_monitoring_purge=true` takes its container and its volume. What only a real Grafana shows (it loads
    and renders the dashboards) is the two tests above, run with RAYLAB_GRAFANA_ARCHIVE."""
    standin = lab.ensure_grafana_standin()
    grafana_on = json.dumps({"docker_registry_mirrors": [mirror], "ray_monitoring_grafana_enabled": True,
                             "ray_grafana_image": standin})
    try:
        result = run_runner("site", "-e", grafana_on)
        assert result.rc == 0 and result.summary["status"] == "ok", result.stderr[-4000:]
        grafana = inspect("ray-grafana")
        assert grafana["Config"]["User"] == "472:0" and grafana["State"]["Running"]
        mounts = {mount["Destination"]: mount for mount in grafana["Mounts"]}
        for target in ("/etc/grafana/provisioning", "/etc/grafana/dashboards/ray"):
            assert mounts[target]["RW"] is False, target
        assert mounts["/var/lib/grafana"]["Name"] == "ray-grafana-data"
        env = dict(item.split("=", 1) for item in grafana["Config"]["Env"])
        assert env["GF_SECURITY_ALLOW_EMBEDDING"] == "true" and env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
        assert mounts[env["GF_SECURITY_ADMIN_PASSWORD__FILE"]]["RW"] is False, "the password comes from a file"
        assert open(PASSWORD).read().strip() not in json.dumps(grafana)
        assert docker("port", "ray-grafana", "3000").stdout.strip() == "127.0.0.1:3000"
        status, _, health = wait_for(lambda: get(f"{GRAFANA}/api/health"))
        assert status == 200 and health["database"] == "ok"
        _, _, source = get(f"{GRAFANA}/api/datasources/name/Prometheus")
        assert source["url"] == "http://ray-prometheus:9090" and source["type"] == "prometheus"
        status, _, board = get(f"{GRAFANA}/api/dashboards/uid/rayDefaultDashboard")
        assert status == 200 and board["meta"]["folderTitle"] == "Ray" and board["dashboard"]["panels"]
        head_env = dict(item.split("=", 1) for item in inspect("ray-head")["Config"]["Env"])
        assert head_env["RAY_GRAFANA_HOST"] == "http://ray-grafana:3000"
        assert head_env["RAY_GRAFANA_IFRAME_HOST"] == GRAFANA
        token = open(TOKEN).read().strip()
        status, _, body = wait_for(lambda: get("http://127.0.0.1:8265/api/grafana_health", token))
        assert status == 200 and body["result"] is True and body["data"]["grafanaHost"] == GRAFANA
        written = docker("run", "--rm", "-v", "ray-grafana-data:/data", "--entrypoint", "cat", standin,
                         "/data/standin-started").stdout
        assert "started" in written, "Grafana's user writes its data volume"
        down = run_runner("down", "-e", json.dumps({"ray_monitoring_purge": True}))
        assert down.rc == 0, down.stderr[-3000:]
        assert "ray-grafana" not in docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
        for volume in ("ray-grafana-data", "ray-prometheus-data"):
            assert docker("volume", "inspect", volume, check=False).returncode != 0, volume
    finally:
        back = run_runner("site", "-e", mirror_vars)
    assert back.rc == 0 and back.summary["check"]["passed"], back.stderr[-3000:]
