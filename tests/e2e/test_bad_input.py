"""Every variable of every role, fed a bad value against a running healthy cluster: the run stops before
any change with a message naming the variable, and the cluster and daemon.json stay exactly as they were.

The table must hold a bad value for every variable in every roles/*/meta/argument_specs.yml: a new
variable without one fails test_the_table_covers_every_variable. Values go in one run per role (the
preflight reports every problem at once; each variable must be named), then the checks that span
variables or need the host's facts, one run each.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

from .conftest import host_fingerprint, run_runner

ROOT = Path(__file__).resolve().parents[2]

BAD = {
    "docker": {
        "docker_install_source": "snap", "docker_distribution_packages": ["Docker IO"],
        "docker_upstream_packages": ["docker ce"], "docker_upstream_repository_url": "download.docker.com/linux",
        "docker_upstream_gpg_key_url": "ftp://download.docker.com/gpg", "docker_service_manager": "upstart",
        "docker_dockerd_pidfile": "docker.pid", "docker_dockerd_logfile": "logs/dockerd.log",
        "docker_registry_mirrors": ["mirror.example:5000/path"], "docker_insecure_registries": ["http://mirror:5000"],
        "docker_daemon_options": {"Log Driver": "json-file"}, "docker_daemon_config_file": "daemon.json",
        "docker_ready_timeout": 0, "docker_desktop_daemon_config_file": "daemon.json",
        "docker_desktop_restart": "when needed", "docker_desktop_ready_timeout": 0,
    },
    "ray": {
        "ray_version": "latest", "ray_node_count": 0, "ray_network_mode": "overlay", "ray_gcs_port": 70000,
        "ray_dashboard_port": 0, "ray_client_server_port": "http", "ray_node_manager_port": -1,
        "ray_object_manager_port": 65536, "ray_runtime_env_agent_port": "x", "ray_dashboard_agent_grpc_port": 0,
        "ray_dashboard_agent_listen_port": 99999, "ray_metrics_export_port": -6384, "ray_min_worker_port": 80,
        "ray_max_worker_port": 70000, "ray_auth_token_file": "relative/auth_token", "ray_auth_host_token_file": "token",
        "ray_dashboard_url": "127.0.0.1:8265", "ray_node_ip_address": "10.0.0.300",
        "ray_require_all_hosts": "maybe", "ray_gcs_fault_tolerance": "perhaps", "ray_gcs_redis_image": "redis",
        "ray_gcs_redis_port": 0, "ray_gcs_redis_password_file": "redis_password", "ray_gcs_reconnect_timeout": 0,
        "ray_prometheus_image": "prom/prometheus", "ray_grafana_image": "grafana", "ray_prometheus_port": 0,
        "ray_grafana_port": 70000, "ray_dashboard_metrics_port": -1, "ray_autoscaler_metrics_port": "x",
    },
    "ray_image": {
        "ray_image_repository": "Ray Project/ray", "ray_image_tag": "2.60.0 cpu", "ray_image_pull_timeout": 1,
        "ray_image_pull_policy": "sometimes", "ray_image_pull_retries": 0, "ray_image_pull_delay": -1,
        "ray_image_archive": "/no/such/ray.tar", "ray_image_redis_archive": "/no/such/redis.tar",
        "ray_image_prometheus_archive": "/no/such/prometheus.tar", "ray_image_grafana_archive": "/no/such/grafana.tar",
    },
    "ray_monitoring": {
        "ray_monitoring_enabled": "maybe", "ray_monitoring_grafana_enabled": "sometimes", "ray_monitoring_host": "no such host",
        "ray_monitoring_wait": "later", "ray_monitoring_retention": "forever", "ray_monitoring_scrape_interval": "10", "ray_monitoring_bind_address": "everywhere",
        "ray_monitoring_grafana_password_file": "grafana_password", "ray_monitoring_purge": "yes please",
        "ray_monitoring_ready_timeout": 0,
    },
    "ray_cluster": {
        "ray_cluster_name": "-ray", "ray_cluster_wait": "later", "ray_cluster_network": "my net", "ray_cluster_dashboard_bind_address": "localhost",
        "ray_cluster_shm_fraction": 0, "ray_cluster_shm_size": "lots", "ray_cluster_object_store_fraction": 1.5,
        "ray_cluster_object_store_memory": "10K", "ray_cluster_head_num_cpus": -1, "ray_cluster_worker_num_cpus": -2,
        "ray_cluster_head_memory": "1K", "ray_cluster_worker_memory": "x", "ray_cluster_host_gpus": -1,
        "ray_cluster_head_num_gpus": -1, "ray_cluster_worker_num_gpus": 65, "ray_cluster_reserved_memory": "-1G",
        "ray_cluster_overcommit": "often", "ray_cluster_nofile_limit": -1,
        "ray_cluster_extra_start_args": ["num-cpus=2"], "ray_cluster_env": {"1X": "y"},
        "ray_cluster_compare_all": "twice", "ray_cluster_wait_timeout": -5,
    },
    "registry_cache": {
        "registry_cache_enabled": "maybe", "registry_cache_min_hosts": 0, "registry_cache_host": "no such host",
        "registry_cache_address": "cache host", "registry_cache_port": 80, "registry_cache_upstream": "mirror.example",
        "registry_cache_data_dir": "cache", "registry_cache_config_dir": "etc/cache", "registry_cache_log_dir": "log",
        "registry_cache_package": "Docker Registry", "registry_cache_ready_timeout": 0, "registry_cache_purge": "yes please",
    },
    "preflight": {"preflight_pending_hosts": "pc-1-wsl"},
    "ray_check": {
        "ray_check_timeout": 5, "ray_check_node_wait": -1, "ray_check_verdict_file": "verdict.json",
        "ray_check_reuse_verdict": "sometimes",
    },
    "wsl_distro": {
        "wsl_distro_applies": "perhaps", "wsl_distro_conf": {"1boot": {"systemd": True}},
        "wsl_distro_conf_file": "wsl.conf", "wsl_distro_ssh_port": 70000, "wsl_distro_keep_alive": "always",
        "wsl_distro_name": "Ubuntu 24.04",
    },
    "wsl2": {
        "wsl2_distro_host": "pc one", "wsl2_msi_version": "latest", "wsl2_msi_url": "github.com/microsoft/WSL",
        "wsl2_msi_sha256": "abc", "wsl2_msi_file": "/no/such/wsl.msi", "wsl2_distribution": "Ubuntu 24.04",
        "wsl2_rootfs_urls": ["ftp://example/ubuntu.wsl"], "wsl2_known_hosts_file": "known_hosts",
        "wsl2_ssh_wait_timeout": 1, "wsl2_firewall_remote_addresses": ["the lab"], "wsl2_rootfs_sha256": "z" * 64, "wsl2_rootfs_file": "/no/such.wsl",
        "wsl2_install_dir": "WSL/ray", "wsl2_download_dir": "downloads", "wsl2_memory": "lots",
        "wsl2_processors": -2, "wsl2_swap": "some", "wsl2_networking_mode": "bridged",
        "wsl2_wslconfig_extra": {"wsl 2": {"x": 1}}, "wsl2_ssh_port": 0, "wsl2_ssh_public_key_file": "/no/such/key.pub",
        "wsl2_task_logon_type": "interactive", "wsl2_task_password": ["not", "a", "string"],
        "wsl2_firewall": "open", "wsl2_prevent_sleep": "no thanks", "wsl2_firewall_profiles": ["office"],
        "wsl2_remove": "everything", "wsl2_remove_distribution": 2,
    },
}
# The wsl2 role's variables are checked on Windows PCs: that batch adds one (never contacted: the
# settings check runs on the control node before any connection).
WINDOWS_PC = """
all:
  children:
    windows_wsl:
      hosts:
        pc-1: {ansible_host: 192.0.2.10, ansible_connection: ssh, ansible_shell_type: powershell}
"""

# Problems no single value shows: each alone, with (part of) the message that must name it.
CROSS = {
    "more CPUs than the host has": ({"ray_cluster_worker_num_cpus": 2},
                                    r"host localhost: ray_cluster_head_num_cpus/ray_cluster_worker_num_cpus give its 3 "
                                    r"Ray node\(s\) \d+ CPUs, but it has \d+"),
    "more memory than the host has": ({"ray_cluster_worker_memory": "64G"}, r"host localhost: its Ray containers would need"),
    "open files above the hard limit": ({"ray_cluster_nofile_limit": 1048576},
                                        r"ray_cluster_nofile_limit=1048576: must be at most the host's hard limit"),
    "a flag the role sets": ({"ray_cluster_extra_start_args": ["--num-cpus=4"]},
                             r"ray_cluster_extra_start_args: --num-cpus is set by the role"),
    "a flag Ray does not have": ({"ray_cluster_extra_start_args": ["--no-such-flag"]},
                                 r"ray_cluster_extra_start_args: `ray start` has no flag --no-such-flag"),
    "token authentication switched off": ({"ray_cluster_env": {"RAY_AUTH_MODE": "disabled"}},
                                          r"ray_cluster_env: RAY_AUTH_MODE is set by the role"),
    "ports colliding": ({"ray_metrics_export_port": 6379}, r"ray_metrics_export_port=6379 collides with ray_gcs_port"),
    "the cache's port colliding": ({"registry_cache_port": 8265}, r"registry_cache_port=8265 collides with ray_dashboard_port"),
    "the cache on a host that is not a Ray host": ({"registry_cache_host": "elsewhere"},
                                                   r"registry_cache_host=elsewhere must be one of the Ray hosts"),
    "an empty worker port range": ({"ray_min_worker_port": 20000, "ray_max_worker_port": 19999},
                                   r"ray_min_worker_port=20000 and ray_max_worker_port=19999"),
    "a mirror set twice": ({"docker_registry_mirrors": ["http://127.0.0.1:5000"],
                            "docker_daemon_options": {"registry-mirrors": ["http://x:5000"]}},
                           r"docker_daemon_options sets 'registry-mirrors' and docker_registry_mirrors sets it too"),
}


def variables_of(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return {name for entry in specs["argument_specs"].values() for name in (entry.get("options") or {})}


def test_the_table_covers_every_variable():
    roles = sorted(path.parent.parent.name for path in ROOT.glob("roles/*/meta/argument_specs.yml"))
    missing = {role: sorted(variables_of(role) - set(BAD.get(role, {}))) for role in roles}
    assert {role: names for role, names in missing.items() if names} == {}


def refused(extra, healthy_cluster, inventories=(), verb="site"):
    before = host_fingerprint()
    result = run_runner(verb, *(arg for path in inventories for arg in ("-i", str(path))), "-e", json.dumps(extra))
    assert result.rc == 1 and result.summary["status"] == "failed", result.stderr[-3000:]
    assert "Nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.summary["changed"] == 0
    after = host_fingerprint()
    assert after == before, {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    return result.stderr


@pytest.mark.parametrize("role", sorted(BAD))
def test_every_bad_value_of_a_role_is_refused_naming_it(role, healthy_cluster, tmp_path):
    inventories = ()
    if role == "wsl2":
        (tmp_path / "windows.yml").write_text(WINDOWS_PC)
        inventories = (ROOT / "inventory" / "localhost.yml", tmp_path / "windows.yml")
    stderr = refused(BAD[role], healthy_cluster, inventories)
    named = {name for name in BAD[role] if re.search(rf"\b{name}(=|\[| key )", stderr)}
    assert sorted(set(BAD[role]) - named) == [], stderr[-4000:]
    assert f"Settings refused for host {'pc-1' if role == 'wsl2' else 'localhost'}" in stderr
    if role == "wsl2":
        assert "wsl2_task_password=<hidden>" in stderr, "a secret is never shown"


# One variable per role in a run of its own (a batch could hide a check that only prints), through the verb that
# runs the role on its own where there is one.
ALONE = {role: next(iter(values.items())) for role, values in BAD.items() if role not in ("wsl2", "preflight")}
VERB_OF = {"docker": "docker", "registry_cache": "cache", "ray_image": "image", "ray_cluster": "cluster",
           "ray_monitoring": "monitoring"}


@pytest.mark.parametrize("role", sorted(ALONE))
def test_one_bad_value_alone_is_refused_by_its_roles_verb(role, healthy_cluster):
    name, value = ALONE[role]
    stderr = refused({name: value}, healthy_cluster, verb=VERB_OF.get(role, "site"))
    assert re.search(rf"\b{name}(=|\[| key )", stderr), stderr[-3000:]


@pytest.mark.parametrize("case", sorted(CROSS))
def test_problems_across_variables_are_refused_naming_them(case, healthy_cluster):
    extra, needle = CROSS[case]
    stderr = refused(extra, healthy_cluster)
    assert re.search(needle, stderr), stderr[-3000:]
